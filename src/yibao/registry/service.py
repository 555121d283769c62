"""Registry use cases. Who may see or change what is decided in :mod:`yibao.registry.access`;
every use case that a person can call takes the actor and checks it here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.audit.service import Actor, record, snapshot
from yibao.auth.models import User
from yibao.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yibao.identity import birth_date_of, sex_of, validate_identity_number
from yibao.money import from_fen, to_fen
from yibao.registry import access
from yibao.registry import repository as repo
from yibao.registry.models import (
    AGENCY_KINDS,
    INSTITUTION_KINDS,
    RELATIONS,
    SCHEMES,
    SPECIALTIES,
    Account,
    AccountMovement,
    Agency,
    FamilyLink,
    Institution,
    Person,
    Region,
    Unit,
)

PERSON_FIELDS = (
    "identity_number",
    "name",
    "sex",
    "birth_date",
    "scheme",
    "person_type",
    "insured_region",
    "unit_id",
    "assistance_eligible",
    "card_number",
)
PERSON_UPDATABLE = frozenset(PERSON_FIELDS) - {"identity_number", "sex", "birth_date"}
INSTITUTION_FIELDS = (
    "code",
    "name",
    "region_code",
    "kind",
    "level",
    "specialty",
    "designated",
    "networked",
)
INSTITUTION_UPDATABLE = frozenset({"name", "level", "specialty", "designated", "networked"})
INVERSE_RELATION = {"spouse": "spouse", "parent": "child", "child": "parent"}
_REGION_CODE = re.compile(r"^\d{6}$")


# --- reading ---------------------------------------------------------------------------


def get_person(session: Session, *, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


def persons_by_id(session: Session, ids: Iterable[int]) -> dict[int, Person]:
    """The persons named by rows the caller already read through their own services
    (settlements, claims, filings, users, approvals), by id, in one query: a page's names
    without one query per row."""
    return repo.persons_by_id(session, ids)


# --- person types the region's policies know --------------------------------------------

PersonTypeSource = Callable[[Session, str, str], frozenset[str] | None]
_PERSON_TYPE_SOURCES: list[PersonTypeSource] = []


def register_person_type_source(source: PersonTypeSource) -> PersonTypeSource:
    """Add where the person types of a region and scheme are known (its policies): called
    with ``(session, region, scheme)``; None means it knows nothing of that region."""
    if source not in _PERSON_TYPE_SOURCES:
        _PERSON_TYPE_SOURCES.append(source)
    return source


def _check_person_type(session: Session, *, region: str, scheme: str, person_type: str) -> None:
    """A person type no policy of the region knows would make every later settlement of
    the person fail ("no policy"): refuse it at enrolment, naming the known ones."""
    known: set[str] = set()
    answered = False
    for source in _PERSON_TYPE_SOURCES:
        types = source(session, region, scheme)
        if types is not None:
            answered = True
            known |= types
    if answered and person_type not in known:
        raise ValidationFailed(
            f"person_type: no {scheme} policy of region {region} knows {person_type!r}; "
            f"known: {', '.join(sorted(known)) or 'none'}",
            code="person.type_unknown",
            known=sorted(known),
        )


def list_persons(
    session: Session,
    *,
    actor: access.Actor,
    region_code: str | None = None,
    unit_id: int | None = None,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Person]:
    """Persons in the actor's scope (see :mod:`yibao.registry.access`)."""
    stmt = repo.persons_query(
        where=access.person_scope(session, actor),
        region_code=region_code,
        unit_id=unit_id,
        name=name,
    )
    return session.scalars(stmt.limit(limit).offset(offset)).all()


def lookup_person(
    session: Session,
    *,
    actor: access.Actor,
    identity_number: str | None,
    card_number: str | None,
) -> Person:
    """Find a person by identity number or card: a hospital holding the person's document
    may find anyone (to admit them); everyone else only the persons they may see."""
    if (identity_number is None) == (card_number is None):
        raise ValidationFailed(
            "give exactly one of identity_number and card_number", code="person.lookup"
        )
    if identity_number is not None:
        person = find_person_by_identity(session, identity_number=identity_number)
    else:
        person = find_person_by_card(session, card_number=card_number or "")
    holds_document = not isinstance(actor, str) and actor.role == "hospital"
    if person is None or not (holds_document or access.can_see_person(session, actor, person)):
        raise NotFound("no person matches", code="person.not_found")
    return person


def find_person_by_identity(session: Session, *, identity_number: str) -> Person | None:
    """The person with this identity number (validated first), or None."""
    return repo.person_by_identity(session, validate_identity_number(identity_number))


def find_person_by_card(session: Session, *, card_number: str) -> Person | None:
    return repo.person_by_card(session, card_number.strip())


def get_region(session: Session, *, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"region {code} not found", code="region.not_found")
    return region


def get_institution(session: Session, *, institution_id: int) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"institution {institution_id} not found", code="institution.not_found")
    return institution


def get_unit(session: Session, *, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} not found", code="unit.not_found")
    return unit


# --- reference data --------------------------------------------------------------------


def create_region(
    session: Session, *, code: str, name: str, province_code: str | None = None, actor: Actor
) -> Region:
    """A GB/T 2260 region; its province is ``PP0000`` (created first)."""
    if not _REGION_CODE.match(code):
        raise ValidationFailed(f"region code {code!r} is not six digits", code="region.code")
    province = province_code or f"{code[:2]}0000"
    if province != f"{code[:2]}0000":
        raise ValidationFailed(
            f"the province of {code} is {code[:2]}0000, not {province}", code="region.province"
        )
    if province != code and session.get(Region, province) is None:
        raise ValidationFailed(
            f"province {province} must be registered before {code}", code="region.province"
        )
    if session.get(Region, code) is not None:
        raise Conflict(f"region {code} already exists", code="region.exists")
    region = Region(code=code, name=name, province_code=province)
    session.add(region)
    session.flush()
    record(
        session,
        actor=actor,
        action="region.created",
        entity="region",
        entity_id=code,
        before=None,
        after=snapshot(region, ("code", "name", "province_code")),
    )
    return region


def create_agency(
    session: Session, *, name: str, kind: str, region_code: str, actor: Actor
) -> Agency:
    if kind not in AGENCY_KINDS:
        raise ValidationFailed(
            f"agency kind must be one of {', '.join(AGENCY_KINDS)}", code="agency.kind"
        )
    get_region(session, code=region_code)
    agency = Agency(name=name, kind=kind, region_code=region_code)
    session.add(agency)
    session.flush()
    record(
        session,
        actor=actor,
        action="agency.created",
        entity="agency",
        entity_id=agency.id,
        before=None,
        after=snapshot(agency, ("name", "kind", "region_code")),
    )
    return agency


def _check_institution(kind: str, level: int | None, specialty: str) -> None:
    if kind not in INSTITUTION_KINDS:
        raise ValidationFailed("institution kind is hospital or pharmacy", code="institution.kind")
    if specialty not in SPECIALTIES:
        raise ValidationFailed("specialty is general or specialised", code="institution.specialty")
    if kind == "hospital" and level not in (1, 2, 3):
        raise ValidationFailed("a hospital has level 1, 2 or 3", code="institution.level")
    if kind == "pharmacy" and level is not None:
        raise ValidationFailed("a pharmacy has no level", code="institution.level")


def create_institution(
    session: Session,
    *,
    code: str,
    name: str,
    region_code: str,
    kind: str,
    level: int | None,
    specialty: str = "general",
    designated: bool = True,
    networked: bool = False,
    actor: Actor,
) -> Institution:
    _check_institution(kind, level, specialty)
    get_region(session, code=region_code)
    institution = Institution(
        code=code,
        name=name,
        region_code=region_code,
        kind=kind,
        level=level,
        specialty=specialty,
        designated=designated,
        networked=networked,
    )
    session.add(institution)
    session.flush()
    record(
        session,
        actor=actor,
        action="institution.created",
        entity="institution",
        entity_id=institution.id,
        before=None,
        after=snapshot(institution, INSTITUTION_FIELDS),
    )
    return institution


def update_institution(
    session: Session, *, institution_id: int, changes: Mapping[str, Any], actor: access.Actor
) -> Institution:
    """Designation, networking, level: admins or an agency of the institution's region."""
    institution = get_institution(session, institution_id=institution_id)
    access.require_institution_manager(session, actor, institution.region_code)
    unknown = set(changes) - INSTITUTION_UPDATABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}", code="institution.readonly"
        )
    before = snapshot(institution, INSTITUTION_FIELDS)
    for key, value in changes.items():
        setattr(institution, key, value)
    _check_institution(institution.kind, institution.level, institution.specialty)
    session.flush()
    record(
        session,
        actor=actor,
        action="institution.updated",
        entity="institution",
        entity_id=institution.id,
        before=before,
        after=snapshot(institution, INSTITUTION_FIELDS),
    )
    return institution


def list_units(session: Session, *, actor: access.Actor) -> Sequence[Unit]:
    """Units in the actor's scope: all (admin), the region (its desks), itself (unit)."""
    return repo.list_units(session, where=access.unit_scope(session, actor))


def create_unit(session: Session, *, name: str, region_code: str, actor: access.Actor) -> Unit:
    access.require_unit_registrar(session, actor, region_code)
    get_region(session, code=region_code)
    unit = Unit(name=name, region_code=region_code)
    session.add(unit)
    session.flush()
    record(
        session,
        actor=actor,
        action="unit.created",
        entity="unit",
        entity_id=unit.id,
        before=None,
        after=snapshot(unit, ("name", "region_code")),
    )
    return unit


# --- persons ---------------------------------------------------------------------------


def register_person(
    session: Session,
    *,
    identity_number: str,
    name: str,
    scheme: str,
    person_type: str,
    insured_region: str,
    unit_id: int | None = None,
    assistance_eligible: bool = False,
    card_number: str | None = None,
    sex: str | None = None,
    birth_date: date | None = None,
    opening_balance: Decimal = Decimal("0"),
    actor: access.Actor,
) -> Person:
    """Enrol a person with a personal account; sex and birth date come from the number.

    Admins, the centre or street office of the region, or a unit for its own staff.
    """
    if not access.may_register_in(session, actor, region=insured_region, unit_id=unit_id):
        raise Forbidden("you may not enrol persons there", code="person.out_of_scope")
    number = validate_identity_number(identity_number)
    if sex is not None and sex != sex_of(number):
        raise ValidationFailed("sex does not match the identity number", code="person.sex")
    if birth_date is not None and birth_date != birth_date_of(number):
        raise ValidationFailed(
            "birth date does not match the identity number", code="person.birth_date"
        )
    if scheme not in SCHEMES:
        raise ValidationFailed("scheme is employee or resident", code="person.scheme")
    get_region(session, code=insured_region)
    _check_person_type(session, region=insured_region, scheme=scheme, person_type=person_type)
    if unit_id is not None:
        unit = get_unit(session, unit_id=unit_id)
        if unit.region_code != insured_region:
            raise ValidationFailed(
                f"unit {unit_id} is in region {unit.region_code}, not {insured_region}",
                code="person.unit_region",
            )
    if repo.person_by_identity(session, number) is not None:
        raise Conflict("a person with this identity number exists", code="person.exists")
    if card_number and repo.person_by_card(session, card_number) is not None:
        raise Conflict("this card number is taken", code="person.card_taken")
    person = Person(
        identity_number=number,
        name=name,
        sex=sex_of(number),
        birth_date=birth_date_of(number),
        scheme=scheme,
        person_type=person_type,
        insured_region=insured_region,
        unit_id=unit_id,
        assistance_eligible=assistance_eligible,
        card_number=card_number or None,
    )
    session.add(person)
    session.flush()
    session.add(Account(person_id=person.id, balance_fen=0))
    session.flush()
    record(
        session,
        actor=actor,
        action="person.registered",
        entity="person",
        entity_id=person.id,
        before=None,
        after=snapshot(person, PERSON_FIELDS),
    )
    if opening_balance:
        post_movement(
            session,
            person_id=person.id,
            amount=opening_balance,
            kind="opening_balance",
            ref=None,
            actor=actor,
        )
    return person


def update_person(
    session: Session, *, person_id: int, changes: Mapping[str, Any], actor: access.Actor
) -> Person:
    """Change a person's registry data: the centre of their insured region, admins; only
    admins move a person to another region."""
    person = access.visible_person(session, actor=actor, person_id=person_id)
    if "insured_region" in changes and not access.is_admin(actor):
        raise Forbidden("only admins move a person to another region", code="person.region")
    access.require_manager(session, actor, person, "person")
    unknown = set(changes) - PERSON_UPDATABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}", code="person.readonly"
        )
    before = snapshot(person, PERSON_FIELDS)
    if "scheme" in changes and changes["scheme"] not in SCHEMES:
        raise ValidationFailed("scheme is employee or resident", code="person.scheme")
    if "insured_region" in changes:
        get_region(session, code=changes["insured_region"])
    if {"scheme", "person_type", "insured_region"} & set(changes):
        _check_person_type(
            session,
            region=changes.get("insured_region", person.insured_region),
            scheme=changes.get("scheme", person.scheme),
            person_type=changes.get("person_type", person.person_type),
        )
    for key, value in changes.items():
        setattr(person, key, value)
    if person.unit_id is not None:
        unit = get_unit(session, unit_id=person.unit_id)
        if unit.region_code != person.insured_region:
            raise ValidationFailed(
                f"unit {unit.id} is in region {unit.region_code}, not {person.insured_region}",
                code="person.unit_region",
            )
    session.flush()
    after = snapshot(person, PERSON_FIELDS)
    record(
        session,
        actor=actor,
        action="person.updated",
        entity="person",
        entity_id=person.id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return person


# --- personal account ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountView:
    person_id: int
    balance: Decimal
    movements: Sequence[AccountMovement]


def account_of(session: Session, *, actor: access.Actor, person_id: int) -> AccountView:
    """The personal account, for whoever may see the person."""
    access.visible_person(session, actor=actor, person_id=person_id)
    account = session.get(Account, person_id)
    if account is None:
        raise NotFound(f"person {person_id} has no account", code="account.not_found")
    return AccountView(
        person_id=person_id,
        balance=from_fen(account.balance_fen),
        movements=repo.movements(session, person_id),
    )


def post_movement(
    session: Session,
    *,
    person_id: int,
    amount: Decimal,
    kind: str,
    ref: str | None,
    beneficiary_id: int | None = None,
    actor: Actor,
) -> AccountMovement:
    """Credit (+) or debit (-) the personal account; the balance never goes negative.

    For the platform's own movements (opening balances, an approved request); a person at
    a desk goes through :func:`request_account_movement`.
    """
    amount_fen = _movement_fen(amount)
    account = session.get(Account, person_id, with_for_update=True)
    if account is None:
        raise NotFound(f"person {person_id} has no account", code="account.not_found")
    before = account.balance_fen
    if before + amount_fen < 0:
        raise ValidationFailed(
            f"the account holds {from_fen(before)}, cannot pay {from_fen(-amount_fen)}",
            code="account.insufficient",
        )
    account.balance_fen = before + amount_fen
    movement = AccountMovement(
        person_id=person_id,
        amount_fen=amount_fen,
        balance_after_fen=account.balance_fen,
        kind=kind,
        ref=ref,
        beneficiary_id=beneficiary_id,
    )
    session.add(movement)
    session.flush()
    record(
        session,
        actor=actor,
        action="account.moved",
        entity="account",
        entity_id=person_id,
        before={"balance": from_fen(before)},
        after={"balance": from_fen(account.balance_fen), "kind": kind, "ref": ref},
    )
    return movement


def _movement_fen(amount: Decimal) -> int:
    if amount == 0:
        raise ValidationFailed("a movement needs a non-zero amount", code="account.zero")
    try:
        return to_fen(amount)
    except ValueError:
        raise ValidationFailed(
            f"{amount} is not a whole number of fen", code="account.fen"
        ) from None


def request_account_movement(
    session: Session,
    *,
    person_id: int,
    amount: Decimal,
    kind: str,
    ref: str | None,
    actor: User,
) -> Approval:
    """A credit or debit by hand (contribution, correction) waits for a second user of the
    insured region's centre (四眼原则): it is stored as a pending approval and the account
    moves only when another user approves it."""
    person = access.visible_person(session, actor=actor, person_id=person_id)
    access.require_manager(session, actor, person, "account")
    amount_fen = _movement_fen(amount)
    account = session.get(Account, person_id)
    if account is None:
        raise NotFound(f"person {person_id} has no account", code="account.not_found")
    if account.balance_fen + amount_fen < 0:
        raise ValidationFailed(
            f"the account holds {from_fen(account.balance_fen)}, "
            f"cannot pay {from_fen(-amount_fen)}",
            code="account.insufficient",
        )
    return approvals.request_approval(
        session,
        kind=ACCOUNT_MOVEMENT,
        subject=f"account:{person_id}",
        summary=f"{'credit' if amount_fen > 0 else 'debit'} {from_fen(abs(amount_fen))} "
        f"({kind}) to the account of person {person_id}",
        payload={"person_id": person_id, "amount": str(amount), "kind": kind, "ref": ref},
        region_code=person.insured_region,
        actor=actor,
    )


def _may_move_account(session: Session, user: User, payload: Mapping[str, Any]) -> bool:
    person = session.get(Person, int(payload["person_id"]))
    return person is not None and access.may_manage_person(session, user, person)


def _carry_out_movement(
    session: Session, payload: Mapping[str, Any], approval: Approval, user: User
) -> Mapping[str, Any]:
    movement = post_movement(
        session,
        person_id=int(payload["person_id"]),
        amount=Decimal(payload["amount"]),
        kind=str(payload["kind"]),
        ref=payload.get("ref") or f"approval:{approval.id}",
        actor=user,
    )
    return {
        "movement_id": movement.id,
        "balance_after": str(from_fen(movement.balance_after_fen)),
    }


ACCOUNT_MOVEMENT = "account.movement"
approvals.register_kind(
    approvals.ApprovalKind(ACCOUNT_MOVEMENT, _may_move_account, _carry_out_movement)
)


# --- family ----------------------------------------------------------------------------


def family_of(
    session: Session, *, actor: access.Actor, person_id: int
) -> Sequence[tuple[FamilyLink, Person]]:
    access.visible_person(session, actor=actor, person_id=person_id)
    return repo.family_links(session, person_id)


def is_family(session: Session, *, person_id: int, relative_id: int) -> bool:
    """Whether ``relative_id`` is the spouse, a parent or a child of ``person_id``."""
    return repo.family_link(session, person_id, relative_id) is not None


def link_family(
    session: Session, *, person_id: int, relative_id: int, relation: str, actor: access.Actor
) -> FamilyLink:
    """Record that ``relative_id`` is the person's ``relation``, and the inverse link."""
    access.require_family_desk(
        session, actor, access.visible_person(session, actor=actor, person_id=person_id)
    )
    if relation not in RELATIONS:
        raise ValidationFailed(
            f"relation must be one of {', '.join(RELATIONS)}", code="family.relation"
        )
    if person_id == relative_id:
        raise ValidationFailed("a person is not their own relative", code="family.self")
    get_person(session, person_id=person_id)
    get_person(session, person_id=relative_id)
    if repo.family_link(session, person_id, relative_id) is not None:
        raise Conflict("these persons are already linked", code="family.exists")
    link = FamilyLink(person_id=person_id, relative_id=relative_id, relation=relation)
    inverse = FamilyLink(
        person_id=relative_id, relative_id=person_id, relation=INVERSE_RELATION[relation]
    )
    session.add_all([link, inverse])
    session.flush()
    record(
        session,
        actor=actor,
        action="family.linked",
        entity="person",
        entity_id=person_id,
        before=None,
        after={"relative_id": relative_id, "relation": relation},
    )
    return link


def unlink_family(
    session: Session, *, person_id: int, relative_id: int, actor: access.Actor
) -> None:
    access.require_family_desk(
        session, actor, access.visible_person(session, actor=actor, person_id=person_id)
    )
    link = repo.family_link(session, person_id, relative_id)
    if link is None:
        raise NotFound("no such family link", code="family.not_found")
    relation = link.relation
    session.delete(link)
    inverse = repo.family_link(session, relative_id, person_id)
    if inverse is not None:
        session.delete(inverse)
    session.flush()
    record(
        session,
        actor=actor,
        action="family.unlinked",
        entity="person",
        entity_id=person_id,
        before={"relative_id": relative_id, "relation": relation},
        after=None,
    )


def all_regions(session: Session) -> Sequence[Region]:
    """Every region (provinces and cities), by code: reference data anyone signed in sees."""
    return repo.list_regions(session)


def search_institutions(
    session: Session,
    *,
    region: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    level: int | None = None,
    specialty: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Sequence[Institution]:
    """A page of the designated institutions of a treatment region (a province PP0000 takes
    its cities, a city PPCC00 its districts): reference data anyone signed in sees."""
    prefix = region
    if region and region.endswith("0000"):
        prefix = region[:2]
    elif region and region.endswith("00"):
        prefix = region[:4]
    return repo.search_institutions(
        session,
        region_prefix=prefix,
        name=name.strip() if name else None,
        kind=kind,
        level=level,
        specialty=specialty,
        limit=limit,
        offset=offset,
    )
