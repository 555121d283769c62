"""Who acts for whom: the actor's desk, and who may see or change which person.

Every concept asks these questions through this module, whatever face the request came
through (REST, pages, CLI, the national interface). An agency user acts in the role its
agency's kind gives it: the insured region's centre (参保地经办机构, ``insurance_center``)
reviews filings and claims and manages its insured persons; the treatment region's agency
(就医地经办机构, ``treatment_agency``) runs its catalog and hospitals and is the creditor
in clearing; a street office (街道社保所) is the front desk of its region.

A plain string actor (``"cli"``, ``"demo"``) is the platform operating itself, with an
admin's reach; every person-facing face passes a :class:`~yibao.auth.models.User`.

| role | persons |
|---|---|
| insured | themselves |
| unit | its staff (``unit_id``) |
| street_office, insurance centre | persons insured in their region |
| treatment agency | none (its concerns are hospitals, catalogs and clearing) |
| hospital | its own patients: see :func:`hospital_can_see` |
| admin | everyone |
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from yibao.audit.identity_reads import record_identity_read
from yibao.auth.models import User
from yibao.errors import Forbidden, NotFound
from yibao.identity import current_answer, mask_identity_number
from yibao.registry.models import Agency, Person, Unit

Actor = User | str

CENTER = "insurance_center"
TREATMENT = "treatment_agency"
STREET = "street_office"


def is_admin(actor: Actor) -> bool:
    """Admins, and the platform itself (a string actor: CLI, demo loader)."""
    return isinstance(actor, str) or actor.role == "admin"


def agency_of(session: Session, actor: Actor) -> Agency | None:
    if isinstance(actor, str) or actor.agency_id is None:
        return None
    return session.get(Agency, actor.agency_id)


def desk_region(session: Session, actor: Actor, *kinds: str) -> str | None:
    """The region of the actor's agency when it is of one of ``kinds``, else None."""
    if isinstance(actor, str) or actor.role not in ("agency", "street_office"):
        return None
    agency = agency_of(session, actor)
    if agency is None or agency.kind not in kinds:
        return None
    return agency.region_code


def center_region(session: Session, actor: Actor) -> str | None:
    """The insured region whose centre the actor works for (reviews, payouts)."""
    return desk_region(session, actor, CENTER)


def treatment_region(session: Session, actor: Actor) -> str | None:
    """The treatment region whose agency the actor works for (catalog, hospitals)."""
    return desk_region(session, actor, TREATMENT)


def front_desk_region(session: Session, actor: Actor) -> str | None:
    """The region of a centre or street office: the desks that serve insured persons."""
    return desk_region(session, actor, CENTER, STREET)


def is_center_of(session: Session, actor: Actor, region: str) -> bool:
    return is_admin(actor) or center_region(session, actor) == region


def institution_of(actor: Actor) -> int:
    """The institution a hospital or pharmacy user works for."""
    if isinstance(actor, str) or actor.institution_id is None:
        raise Forbidden("this user is not bound to an institution", code="auth.no_institution")
    return actor.institution_id


def own_institution(actor: Actor) -> int | None:
    """A hospital user's institution; None for everyone else (no institution scope)."""
    if isinstance(actor, str) or actor.role != "hospital":
        return None
    return institution_of(actor)


# --- hospitals and their patients ------------------------------------------------------

HospitalPatientCheck = Callable[[Session, int, int], bool]
_HOSPITAL_PATIENT_CHECKS: list[HospitalPatientCheck] = []


def register_hospital_patient_check(check: HospitalPatientCheck) -> HospitalPatientCheck:
    """Add a rule "institution X treats person Y" (a filing naming it, an encounter...).

    The concepts that know such facts (filings, encounters, pharmacy) register their check
    in their ``access`` module; usable as a decorator.
    """
    if check not in _HOSPITAL_PATIENT_CHECKS:
        _HOSPITAL_PATIENT_CHECKS.append(check)
    return check


def hospital_can_see(session: Session, institution_id: int, person_id: int) -> bool:
    """Whether the institution has this person as a patient (any registered check)."""
    return any(check(session, institution_id, person_id) for check in _HOSPITAL_PATIENT_CHECKS)


# --- persons ---------------------------------------------------------------------------


def person_scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """SQL condition on ``Person`` for the persons ``actor`` may list; None means all."""
    if is_admin(actor):
        return None
    assert isinstance(actor, User)
    if actor.role == "insured":
        return Person.id == actor.person_id if actor.person_id is not None else false()
    if actor.role == "unit":
        return Person.unit_id == actor.unit_id if actor.unit_id is not None else false()
    region = front_desk_region(session, actor)
    return Person.insured_region == region if region is not None else false()


def can_see_person(session: Session, actor: Actor, person: Person) -> bool:
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role == "insured":
        return actor.person_id == person.id
    if actor.role == "unit":
        return actor.unit_id is not None and actor.unit_id == person.unit_id
    if actor.role == "hospital":
        return actor.institution_id is not None and hospital_can_see(
            session, actor.institution_id, person.id
        )
    return front_desk_region(session, actor) == person.insured_region


def may_act_for(session: Session, actor: Actor, person: Person) -> bool:
    """Apply or claim on the person's behalf: the person, their unit, the desks of their
    insured region (street office, centre), admins."""
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role in ("insured", "unit"):
        return can_see_person(session, actor, person)
    return front_desk_region(session, actor) == person.insured_region


def may_see_full_identity(session: Session, actor: Actor, person: Person) -> bool:
    """The person, the centre of their insured region, admins."""
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role == "insured":
        return actor.person_id == person.id
    return center_region(session, actor) == person.insured_region


def identity_number_for(
    session: Session, actor: Actor, person: Person, *, why: str | None = None
) -> tuple[str, bool]:
    """The person's identity number as ``actor`` may see it, and whether it is whole.

    The one place a full number leaves the system: when the actor may see it
    (:func:`may_see_full_identity`), the read is recorded (who, whose, when, and ``why``:
    the route or command, by default the answer's own, :func:`yibao.identity.answer_scope`)
    in the caller's transaction, and the number is allowed in the answer, whose face masks
    every other number. Everyone else gets the masked number, and nothing is recorded.
    """
    if not may_see_full_identity(session, actor, person):
        return mask_identity_number(person.identity_number), False
    answer = current_answer()
    reason = why or (answer.why if answer is not None else "unspecified")
    record_identity_read(session, actor=actor, person_id=person.id, why=reason)
    if answer is not None:
        answer.shown.add(person.identity_number.upper())
    return person.identity_number, True


def may_manage_person(session: Session, actor: Actor, person: Person) -> bool:
    """Change registry data or the account of a person: the centre of their insured
    region and admins (never a treatment region's agency)."""
    return is_center_of(session, actor, person.insured_region)


def may_register_in(session: Session, actor: Actor, *, region: str, unit_id: int | None) -> bool:
    """Enrol a person: admin, centre or street office of the region, or the unit itself."""
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role == "unit":
        return actor.unit_id is not None and actor.unit_id == unit_id
    return front_desk_region(session, actor) == region


def visible_person(session: Session, *, actor: Actor, person_id: int) -> Person:
    """The person if ``actor`` may see them; ``NotFound`` / ``Forbidden`` otherwise."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    if not can_see_person(session, actor, person):
        raise Forbidden(f"person {person_id} is outside your scope", code="person.out_of_scope")
    return person


def require_manager(session: Session, actor: Actor, person: Person, what: str) -> None:
    if not may_manage_person(session, actor, person):
        raise Forbidden(
            f"only the insured region's centre may change this {what}", code="person.out_of_scope"
        )


def require_family_desk(session: Session, actor: Actor, person: Person) -> None:
    """Family links are kept by the desks of the person's insured region and admins."""
    if not is_admin(actor) and front_desk_region(session, actor) != person.insured_region:
        raise Forbidden("the person is outside your region", code="person.out_of_scope")


# --- units and institutions ------------------------------------------------------------


def unit_scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    if is_admin(actor):
        return None
    assert isinstance(actor, User)
    if actor.role == "unit":
        return Unit.id == actor.unit_id if actor.unit_id is not None else false()
    region = front_desk_region(session, actor)
    return Unit.region_code == region if region is not None else false()


def require_unit_registrar(session: Session, actor: Actor, region: str) -> None:
    if not is_center_of(session, actor, region):
        raise Forbidden(
            "units are registered by the centre of their region", code="unit.out_of_scope"
        )


def require_institution_manager(session: Session, actor: Actor, region: str) -> None:
    """Designation and networking: admins or an agency (either kind) of the region."""
    if is_admin(actor):
        return
    if desk_region(session, actor, CENTER, TREATMENT) != region:
        raise Forbidden("the institution is outside your region", code="institution.out_of_scope")
