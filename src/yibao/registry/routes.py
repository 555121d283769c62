"""Registry API: reference data (regions, agencies, institutions, units) and persons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from yibao.auth.deps import CurrentUser, SessionDep, require_roles
from yibao.auth.models import User
from yibao.errors import Forbidden, NotFound, ValidationFailed
from yibao.money import fmt, parse_decimal
from yibao.registry import repository as repo
from yibao.registry import service
from yibao.registry.models import Person
from yibao.registry.schemas import (
    AccountRead,
    AgencyCreate,
    AgencyRead,
    FamilyLinkCreate,
    FamilyLinkRead,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    MovementCreate,
    MovementRead,
    PersonCreate,
    PersonLookup,
    PersonRead,
    PersonUpdate,
    RegionCreate,
    RegionRead,
    UnitCreate,
    UnitRead,
)

router = APIRouter(tags=["registry"])

Admin = Annotated[User, require_roles("admin")]


# --- regions, agencies, institutions, units ---------------------------------------------


@router.get("/regions", response_model=list[RegionRead])
def list_regions(
    session: SessionDep, _user: CurrentUser, province: str | None = None
) -> list[RegionRead]:
    """Regions (GB/T 2260) with their province; ``province=460000`` lists one province."""
    return [
        RegionRead.model_validate(r) for r in repo.list_regions(session, province_code=province)
    ]


@router.get("/regions/{code}", response_model=RegionRead)
def get_region(code: str, session: SessionDep, _user: CurrentUser) -> RegionRead:
    return RegionRead.model_validate(service.get_region(session, code=code))


@router.post("/regions", response_model=RegionRead, status_code=201)
def create_region(body: RegionCreate, session: SessionDep, user: Admin) -> RegionRead:
    region = service.create_region(session, code=body.code, name=body.name, actor=user)
    return RegionRead.model_validate(region)


@router.get("/agencies", response_model=list[AgencyRead])
def list_agencies(
    session: SessionDep, _user: CurrentUser, region: str | None = None, kind: str | None = None
) -> list[AgencyRead]:
    rows = repo.list_agencies(session, region_code=region, kind=kind)
    return [AgencyRead.model_validate(a) for a in rows]


@router.post("/agencies", response_model=AgencyRead, status_code=201)
def create_agency(body: AgencyCreate, session: SessionDep, user: Admin) -> AgencyRead:
    agency = service.create_agency(
        session, name=body.name, kind=body.kind, region_code=body.region_code, actor=user
    )
    return AgencyRead.model_validate(agency)


@router.get("/institutions", response_model=list[InstitutionRead])
def list_institutions(
    session: SessionDep,
    _user: CurrentUser,
    region: str | None = None,
    province: str | None = None,
    kind: str | None = None,
    level: int | None = None,
    networked: bool | None = None,
) -> list[InstitutionRead]:
    """Designated institutions; filter by region, province, kind, level, networked."""
    rows = repo.list_institutions(
        session,
        region_code=region,
        province_code=province,
        kind=kind,
        level=level,
        networked=networked,
    )
    return [InstitutionRead.model_validate(i) for i in rows]


@router.get("/institutions/{institution_id}", response_model=InstitutionRead)
def get_institution(
    institution_id: int, session: SessionDep, _user: CurrentUser
) -> InstitutionRead:
    return InstitutionRead.model_validate(
        service.get_institution(session, institution_id=institution_id)
    )


@router.post("/institutions", response_model=InstitutionRead, status_code=201)
def create_institution(
    body: InstitutionCreate, session: SessionDep, user: Admin
) -> InstitutionRead:
    institution = service.create_institution(session, **body.model_dump(), actor=user)
    return InstitutionRead.model_validate(institution)


@router.patch("/institutions/{institution_id}", response_model=InstitutionRead)
def update_institution(
    institution_id: int,
    body: InstitutionUpdate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> InstitutionRead:
    """Admins, or the agency of the institution's region (designation, networking)."""
    institution = service.get_institution(session, institution_id=institution_id)
    if user.role == "agency" and user.region_code != institution.region_code:
        raise Forbidden("the institution is outside your region", code="institution.out_of_scope")
    changed = service.update_institution(
        session,
        institution_id=institution_id,
        changes=body.model_dump(exclude_unset=True),
        actor=user,
    )
    return InstitutionRead.model_validate(changed)


@router.get("/units", response_model=list[UnitRead])
def list_units(
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit")],
) -> list[UnitRead]:
    """Units in the caller's scope: all (admin), the region (agency), itself (unit)."""
    return [
        UnitRead.model_validate(u) for u in repo.list_units(session, where=service.unit_scope(user))
    ]


@router.post("/units", response_model=UnitRead, status_code=201)
def create_unit(
    body: UnitCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> UnitRead:
    if user.role == "agency" and user.region_code != body.region_code:
        raise Forbidden(
            "units are registered by the agency of their region", code="unit.out_of_scope"
        )
    unit = service.create_unit(session, name=body.name, region_code=body.region_code, actor=user)
    return UnitRead.model_validate(unit)


# --- persons ---------------------------------------------------------------------------


@router.get("/persons", response_model=list[PersonRead])
def list_persons(
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit", "insured")],
    region: str | None = None,
    unit_id: int | None = None,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PersonRead]:
    """Persons in the caller's scope, identity numbers masked. Hospitals use ``lookup``."""
    stmt = repo.persons_query(
        where=service.person_scope(user), region_code=region, unit_id=unit_id, name=name
    )
    persons = session.scalars(stmt.limit(limit).offset(offset)).all()
    return [PersonRead.of(p) for p in persons]


@router.post("/persons", response_model=PersonRead, status_code=201)
def register_person(
    body: PersonCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit")],
) -> PersonRead:
    """Enrol a person (with a personal account). Units enrol their own staff."""
    if not service.may_register_in(user, region=body.insured_region, unit_id=body.unit_id):
        raise Forbidden("you may not enrol persons there", code="person.out_of_scope")
    person = service.register_person(session, **body.model_dump(), actor=user)
    return PersonRead.of(person, full_identity=service.may_see_full_identity(user, person))


@router.post("/persons/lookup", response_model=PersonRead)
def lookup_person(
    body: PersonLookup,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit", "hospital")],
) -> PersonRead:
    """Find a person by identity number or card (hospitals admitting a patient, desks).

    Hospitals may look up anyone whose document they hold; the answer is masked.
    """
    if (body.identity_number is None) == (body.card_number is None):
        raise ValidationFailed(
            "give exactly one of identity_number and card_number", code="person.lookup"
        )
    person: Person | None
    if body.identity_number is not None:
        person = service.find_person_by_identity(session, identity_number=body.identity_number)
    else:
        person = service.find_person_by_card(session, card_number=body.card_number or "")
    if person is None or (
        user.role != "hospital" and not service.can_see_person(session, user, person)
    ):
        raise NotFound("no person matches", code="person.not_found")
    return PersonRead.of(person, full_identity=service.may_see_full_identity(user, person))


@router.get("/persons/{person_id}", response_model=PersonRead)
def get_person(person_id: int, session: SessionDep, user: CurrentUser) -> PersonRead:
    """One person; the identity number in full for themselves, their agency and admins."""
    person = service.visible_person(session, user=user, person_id=person_id)
    return PersonRead.of(person, full_identity=service.may_see_full_identity(user, person))


@router.patch("/persons/{person_id}", response_model=PersonRead)
def update_person(
    person_id: int,
    body: PersonUpdate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> PersonRead:
    person = service.visible_person(session, user=user, person_id=person_id)
    changes = body.model_dump(exclude_unset=True)
    if user.role != "admin" and "insured_region" in changes:
        raise Forbidden("only admins move a person to another region", code="person.region")
    if not service.may_manage_person(user, person):
        raise Forbidden("you may not change this person", code="person.out_of_scope")
    person = service.update_person(session, person_id=person_id, changes=changes, actor=user)
    return PersonRead.of(person, full_identity=service.may_see_full_identity(user, person))


@router.get("/persons/{person_id}/account", response_model=AccountRead)
def get_account(
    person_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "insured")],
) -> AccountRead:
    """The personal account: balance and every movement."""
    service.visible_person(session, user=user, person_id=person_id)
    view = service.account_of(session, person_id=person_id)
    return AccountRead(
        person_id=person_id,
        balance=fmt(view.balance),
        movements=[MovementRead.of(m) for m in view.movements],
    )


@router.post("/persons/{person_id}/account/movements", response_model=MovementRead, status_code=201)
def post_movement(
    person_id: int,
    body: MovementCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> MovementRead:
    """Credit or debit the account (contributions, corrections); never below zero."""
    person = service.visible_person(session, user=user, person_id=person_id)
    if not service.may_manage_person(user, person):
        raise Forbidden("you may not change this account", code="person.out_of_scope")
    movement = service.post_movement(
        session,
        person_id=person_id,
        amount=parse_decimal(body.amount, max_places=2),
        kind=body.kind,
        ref=body.ref,
        actor=user,
    )
    return MovementRead.of(movement)


@router.get("/persons/{person_id}/family", response_model=list[FamilyLinkRead])
def list_family(
    person_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "insured")],
) -> list[FamilyLinkRead]:
    """Family links (spouse, parents, children) used for account sharing."""
    service.visible_person(session, user=user, person_id=person_id)
    return [
        FamilyLinkRead.of(link, rel)
        for link, rel in service.family_of(session, person_id=person_id)
    ]


def _require_family_desk(user: User, person: Person) -> None:
    if user.role == "admin":
        return
    if user.region_code != person.insured_region:
        raise Forbidden("the person is outside your region", code="person.out_of_scope")


@router.post("/persons/{person_id}/family", response_model=FamilyLinkRead, status_code=201)
def link_family(
    person_id: int,
    body: FamilyLinkCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office")],
) -> FamilyLinkRead:
    """Link a relative (both directions: a parent link also makes the inverse child link)."""
    person = service.visible_person(session, user=user, person_id=person_id)
    _require_family_desk(user, person)
    relative = service.get_person(session, person_id=body.relative_id)
    link = service.link_family(
        session,
        person_id=person_id,
        relative_id=body.relative_id,
        relation=body.relation,
        actor=user,
    )
    return FamilyLinkRead.of(link, relative)


@router.delete("/persons/{person_id}/family/{relative_id}", status_code=204)
def unlink_family(
    person_id: int,
    relative_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office")],
) -> Response:
    person = service.visible_person(session, user=user, person_id=person_id)
    _require_family_desk(user, person)
    service.unlink_family(session, person_id=person_id, relative_id=relative_id, actor=user)
    return Response(status_code=204)
