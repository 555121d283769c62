"""Registry use cases and who may see what.

Scoping (who sees which persons):

| role | persons |
|---|---|
| insured | themselves |
| unit | its staff (``unit_id``) |
| street_office, agency | persons insured in their region |
| hospital | its own patients: see :func:`hospital_can_see` |
| admin | everyone |

The full identity number is shown only to the person themselves, to agency reviewers of
their insured region and to admins; everyone else, and every listing, gets it masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record, snapshot
from yibao.auth.models import User
from yibao.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yibao.identity import birth_date_of, sex_of, validate_identity_number
from yibao.money import from_fen, to_fen
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


# --- hospitals and their patients ------------------------------------------------------

HospitalPatientCheck = Callable[[Session, int, int], bool]
_HOSPITAL_PATIENT_CHECKS: list[HospitalPatientCheck] = []


def register_hospital_patient_check(check: HospitalPatientCheck) -> HospitalPatientCheck:
    """Add a rule "institution X treats person Y" (a filing naming it, an encounter...).

    Concepts register their check when their service module is imported; usable as a
    decorator.
    """
    if check not in _HOSPITAL_PATIENT_CHECKS:
        _HOSPITAL_PATIENT_CHECKS.append(check)
    return check


def hospital_can_see(session: Session, institution_id: int, person_id: int) -> bool:
    """Whether the institution has this person as a patient (any registered check)."""
    return any(check(session, institution_id, person_id) for check in _HOSPITAL_PATIENT_CHECKS)


@register_hospital_patient_check
def _named_in_a_filing(session: Session, institution_id: int, person_id: int) -> bool:
    """The hospital issued the person's referral or was chosen in their filing."""
    from yibao.filings.models import Filing, FilingHospital

    issued = select(Filing.id).where(
        Filing.person_id == person_id, Filing.referral_hospital_id == institution_id
    )
    chosen = (
        select(Filing.id)
        .join(FilingHospital, FilingHospital.filing_id == Filing.id)
        .where(Filing.person_id == person_id, FilingHospital.institution_id == institution_id)
    )
    return session.scalar(select(or_(exists(issued), exists(chosen)))) or False


@register_hospital_patient_check
def _has_an_encounter(session: Session, institution_id: int, person_id: int) -> bool:
    """The person was registered or admitted at the institution."""
    from yibao.settlements.models import Encounter

    stmt = select(Encounter.id).where(
        Encounter.person_id == person_id, Encounter.institution_id == institution_id
    )
    return session.scalar(select(exists(stmt))) or False


@register_hospital_patient_check
def _bought_at_the_pharmacy(session: Session, institution_id: int, person_id: int) -> bool:
    """The pharmacy sold to the person, or to someone buying for them."""
    from yibao.pharmacy.models import PharmacySale

    stmt = select(PharmacySale.id).where(
        PharmacySale.institution_id == institution_id,
        PharmacySale.patient_person_id == person_id,
    )
    return session.scalar(select(exists(stmt))) or False


# --- access ----------------------------------------------------------------------------


def person_scope(user: User) -> ColumnElement[bool] | None:
    """SQL condition on ``Person`` for the persons ``user`` may list; None means all."""
    if user.role == "admin":
        return None
    if user.role == "insured":
        return Person.id == user.person_id if user.person_id is not None else false()
    if user.role == "unit":
        return Person.unit_id == user.unit_id if user.unit_id is not None else false()
    if user.role in ("street_office", "agency"):
        return (
            Person.insured_region == user.region_code if user.region_code is not None else false()
        )
    return false()


def can_see_person(session: Session, user: User, person: Person) -> bool:
    role = user.role
    if role == "admin":
        return True
    if role == "insured":
        return user.person_id == person.id
    if role == "unit":
        return user.unit_id is not None and user.unit_id == person.unit_id
    if role in ("street_office", "agency"):
        return user.region_code == person.insured_region
    if role == "hospital":
        return user.institution_id is not None and hospital_can_see(
            session, user.institution_id, person.id
        )
    return False


def may_see_full_identity(user: User, person: Person) -> bool:
    """The person, agency reviewers of their insured region, admins."""
    if user.role == "admin":
        return True
    if user.role == "insured":
        return user.person_id == person.id
    return user.role == "agency" and user.region_code == person.insured_region


def may_manage_person(user: User, person: Person) -> bool:
    """Change registry data of a person: admins and agencies of their insured region."""
    if user.role == "admin":
        return True
    return user.role == "agency" and user.region_code == person.insured_region


def may_register_in(user: User, *, region: str, unit_id: int | None) -> bool:
    """Enrol a person: admin, agency or street office of the region, or the unit itself."""
    if user.role == "admin":
        return True
    if user.role in ("agency", "street_office"):
        return user.region_code == region
    if user.role == "unit":
        return user.unit_id is not None and user.unit_id == unit_id
    return False


def visible_person(session: Session, *, user: User, person_id: int) -> Person:
    """The person if ``user`` may see them; ``NotFound`` / ``Forbidden`` otherwise."""
    person = get_person(session, person_id=person_id)
    if not can_see_person(session, user, person):
        raise Forbidden(f"person {person_id} is outside your scope", code="person.out_of_scope")
    return person


def unit_scope(user: User) -> ColumnElement[bool] | None:
    if user.role == "admin":
        return None
    if user.role in ("agency", "street_office"):
        return Unit.region_code == user.region_code
    if user.role == "unit":
        return Unit.id == user.unit_id
    return false()


# --- reading ---------------------------------------------------------------------------


def get_person(session: Session, *, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
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


def get_agency(session: Session, *, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"agency {agency_id} not found", code="agency.not_found")
    return agency


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
    session: Session, *, institution_id: int, changes: Mapping[str, Any], actor: Actor
) -> Institution:
    institution = get_institution(session, institution_id=institution_id)
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


def create_unit(session: Session, *, name: str, region_code: str, actor: Actor) -> Unit:
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
    actor: Actor,
) -> Person:
    """Enrol a person with a personal account; sex and birth date come from the number."""
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
    session: Session, *, person_id: int, changes: Mapping[str, Any], actor: Actor
) -> Person:
    person = get_person(session, person_id=person_id)
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


def account_of(session: Session, *, person_id: int) -> AccountView:
    get_person(session, person_id=person_id)
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
    """Credit (+) or debit (-) the personal account; the balance never goes negative."""
    if amount == 0:
        raise ValidationFailed("a movement needs a non-zero amount", code="account.zero")
    try:
        amount_fen = to_fen(amount)
    except ValueError:
        raise ValidationFailed(
            f"{amount} is not a whole number of fen", code="account.fen"
        ) from None
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


# --- family ----------------------------------------------------------------------------


def family_of(session: Session, *, person_id: int) -> Sequence[tuple[FamilyLink, Person]]:
    get_person(session, person_id=person_id)
    return repo.family_links(session, person_id)


def is_family(session: Session, *, person_id: int, relative_id: int) -> bool:
    """Whether ``relative_id`` is the spouse, a parent or a child of ``person_id``."""
    return repo.family_link(session, person_id, relative_id) is not None


def link_family(
    session: Session, *, person_id: int, relative_id: int, relation: str, actor: Actor
) -> FamilyLink:
    """Record that ``relative_id`` is the person's ``relation``, and the inverse link."""
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


def unlink_family(session: Session, *, person_id: int, relative_id: int, actor: Actor) -> None:
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
