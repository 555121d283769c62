"""Registry API: reference data (regions, agencies, institutions, units) and persons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from yibao.approvals.schemas import ApprovalRead
from yibao.auth.deps import CurrentUser, SessionDep, require_roles
from yibao.auth.models import User
from yibao.money import fmt, parse_decimal
from yibao.registry import access, service
from yibao.registry import repository as repo
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
    """Units in the caller's scope: all (admin), the region (its desks), itself (unit)."""
    return [UnitRead.model_validate(u) for u in service.list_units(session, actor=user)]


@router.post("/units", response_model=UnitRead, status_code=201)
def create_unit(
    body: UnitCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> UnitRead:
    unit = service.create_unit(session, name=body.name, region_code=body.region_code, actor=user)
    return UnitRead.model_validate(unit)


# --- persons ---------------------------------------------------------------------------


def _read(session: Session, user: User, person: Person) -> PersonRead:
    _, full = access.identity_number_for(session, user, person)
    return PersonRead.of(person, full_identity=full)


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
    persons = service.list_persons(
        session,
        actor=user,
        region_code=region,
        unit_id=unit_id,
        name=name,
        limit=limit,
        offset=offset,
    )
    return [PersonRead.of(p) for p in persons]


@router.post("/persons", response_model=PersonRead, status_code=201)
def register_person(
    body: PersonCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit")],
) -> PersonRead:
    """Enrol a person (with a personal account). Units enrol their own staff."""
    person = service.register_person(session, **body.model_dump(), actor=user)
    return _read(session, user, person)


@router.post("/persons/lookup", response_model=PersonRead)
def lookup_person(
    body: PersonLookup,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "unit", "hospital")],
) -> PersonRead:
    """Find a person by identity number or card (hospitals admitting a patient, desks).

    Hospitals may look up anyone whose document they hold; the answer is masked.
    """
    person = service.lookup_person(
        session,
        actor=user,
        identity_number=body.identity_number,
        card_number=body.card_number,
    )
    return _read(session, user, person)


@router.get("/persons/{person_id}", response_model=PersonRead)
def get_person(person_id: int, session: SessionDep, user: CurrentUser) -> PersonRead:
    """One person; the identity number in full for themselves, their centre and admins."""
    return _read(session, user, access.visible_person(session, actor=user, person_id=person_id))


@router.patch("/persons/{person_id}", response_model=PersonRead)
def update_person(
    person_id: int,
    body: PersonUpdate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> PersonRead:
    person = service.update_person(
        session, person_id=person_id, changes=body.model_dump(exclude_unset=True), actor=user
    )
    return _read(session, user, person)


@router.get("/persons/{person_id}/account", response_model=AccountRead)
def get_account(
    person_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "insured")],
) -> AccountRead:
    """The personal account: balance and every movement."""
    view = service.account_of(session, actor=user, person_id=person_id)
    return AccountRead(
        person_id=person_id,
        balance=fmt(view.balance),
        movements=[MovementRead.of(m) for m in view.movements],
    )


@router.post(
    "/persons/{person_id}/account/movements",
    response_model=ApprovalRead,
    status_code=202,
    summary="Ask to credit or debit the account by hand; a second user approves (四眼原则)",
)
def post_movement(
    person_id: int,
    body: MovementCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency")],
) -> ApprovalRead:
    """Credit or debit the account (contributions, corrections); never below zero.

    Nothing moves yet: the answer is a pending approval that another user of the insured
    region's centre approves with ``POST /approvals/{id}/approve``.
    """
    approval = service.request_account_movement(
        session,
        person_id=person_id,
        amount=parse_decimal(body.amount, max_places=2),
        kind=body.kind,
        ref=body.ref,
        actor=user,
    )
    return ApprovalRead.of(approval)


@router.get("/persons/{person_id}/family", response_model=list[FamilyLinkRead])
def list_family(
    person_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office", "insured")],
) -> list[FamilyLinkRead]:
    """Family links (spouse, parents, children) used for account sharing."""
    return [
        FamilyLinkRead.of(link, rel)
        for link, rel in service.family_of(session, actor=user, person_id=person_id)
    ]


@router.post("/persons/{person_id}/family", response_model=FamilyLinkRead, status_code=201)
def link_family(
    person_id: int,
    body: FamilyLinkCreate,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office")],
) -> FamilyLinkRead:
    """Link a relative (both directions: a parent link also makes the inverse child link)."""
    link = service.link_family(
        session,
        person_id=person_id,
        relative_id=body.relative_id,
        relation=body.relation,
        actor=user,
    )
    return FamilyLinkRead.of(link, service.get_person(session, person_id=body.relative_id))


@router.delete("/persons/{person_id}/family/{relative_id}", status_code=204)
def unlink_family(
    person_id: int,
    relative_id: int,
    session: SessionDep,
    user: Annotated[User, require_roles("admin", "agency", "street_office")],
) -> Response:
    service.unlink_family(session, person_id=person_id, relative_id=relative_id, actor=user)
    return Response(status_code=204)
