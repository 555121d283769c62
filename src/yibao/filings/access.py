"""Who may apply for, see and review a filing (备案).

- Applicants (apply, upload, submit, withdraw, change, cancel, renew): the person, their
  unit, the street office and the centre of their insured region, admins. Cancelling is
  open to them at any time (seed 001); changing waits for the end of the lock period.
- Reviewers (queue, approve, reject, return, correct): the centre of the insured region and
  admins, never the user who created the filing when approving (four eyes). A correction
  inside the lock period is theirs alone, with a reason.
- Hospitals: the one that issued a referral and the ones chosen in the filing see it; the
  issuer stamps the referral certificate, each chosen hospital stamps a resettlement form
  (seed 000). Any hospital, agency or admin may check a presented certificate by its
  number and verification code.
- A treatment region's agency has no other part in filings.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Forbidden, NotFound
from yibao.filings.models import Filing, FilingHospital
from yibao.filings.states import (
    OPEN_STATES,
    SYSTEM_ACTIONS,
    FilingAction,
    FilingState,
    allowed_actions,
)
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin
from yibao.registry.models import Person

VERIFIERS = ("hospital", "agency", "admin")
"""Roles that may check a presented filing certificate (``GET /filings/verify``)."""


def person_of(session: Session, filing: Filing) -> Person:
    person = session.get(Person, filing.person_id)
    if person is None:
        raise NotFound(f"person {filing.person_id} not found", code="person.not_found")
    return person


def _names_hospital(institution_id: int) -> ColumnElement[bool]:
    chosen = select(FilingHospital.filing_id).where(
        FilingHospital.filing_id == Filing.id, FilingHospital.institution_id == institution_id
    )
    return or_(Filing.referral_hospital_id == institution_id, exists(chosen))


def names_hospital(session: Session, filing: Filing, institution_id: int) -> bool:
    """The hospital issued the filing's referral or is one of its chosen hospitals."""
    stmt = select(Filing.id).where(Filing.id == filing.id, _names_hospital(institution_id))
    return session.scalar(select(exists(stmt))) or False


def may_view(session: Session, actor: Actor, filing: Filing) -> bool:
    if registry_access.may_act_for(session, actor, person_of(session, filing)):
        return True
    if isinstance(actor, User) and actor.role == "hospital" and actor.institution_id is not None:
        return names_hospital(session, filing, actor.institution_id)
    return False


def filing_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``Filing`` for the filings ``actor`` may list."""
    if is_admin(actor):
        return true()
    assert isinstance(actor, User)
    if actor.role == "insured":
        return Filing.person_id == actor.person_id if actor.person_id is not None else false()
    if actor.role == "unit":
        staff = select(Person.id).where(Person.unit_id == actor.unit_id)
        return Filing.person_id.in_(staff) if actor.unit_id is not None else false()
    if actor.role == "hospital":
        return (
            _names_hospital(actor.institution_id) if actor.institution_id is not None else false()
        )
    region = registry_access.front_desk_region(session, actor)
    return Filing.insured_region == region if region is not None else false()


def require_applicant(session: Session, actor: Actor, filing_or_person: Filing | Person) -> None:
    person = (
        person_of(session, filing_or_person)
        if isinstance(filing_or_person, Filing)
        else filing_or_person
    )
    if not registry_access.may_act_for(session, actor, person):
        raise Forbidden(
            "you may not act for this person", code="filing.forbidden", person_id=person.id
        )


def review_region(session: Session, actor: Actor) -> str | None:
    """The insured region whose filings ``actor`` reviews; None for admins (all)."""
    if is_admin(actor):
        return None
    region = registry_access.center_region(session, actor)
    if region is None:
        raise Forbidden(
            "only the insured region's centre reviews filings", code="filing.not_reviewer"
        )
    return region


def require_reviewer(session: Session, actor: Actor, filing: Filing) -> None:
    """Reviewers are the centre (医保中心) of the insured region."""
    if not registry_access.is_center_of(session, actor, filing.insured_region):
        raise Forbidden(
            f"only a reviewer of the insured region {filing.insured_region} may review",
            code="filing.not_reviewer",
        )


def may_apply(session: Session, actor: Actor, filing: Filing) -> bool:
    """Whether ``actor`` acts for the filing's person (the applicants)."""
    return registry_access.may_act_for(session, actor, person_of(session, filing))


def may_review(session: Session, actor: Actor, filing: Filing) -> bool:
    return registry_access.is_center_of(session, actor, filing.insured_region)


def require_corrector(session: Session, actor: Actor, filing: Filing) -> None:
    """A correction inside the lock period is the insured region's centre's (or an admin's):
    the person and the front desks change a filing only after the lock."""
    if not may_review(session, actor, filing):
        raise Forbidden(
            f"only the centre of the insured region {filing.insured_region} corrects an"
            " approved filing",
            code="filing.not_reviewer",
        )


def require_issuing_hospital(actor: Actor, filing: Filing) -> None:
    """Only the hospital that issued a referral certificate stamps it."""
    institution = _hospital_of(actor)
    if institution is None or institution != filing.referral_hospital_id:
        raise Forbidden(
            "only the issuing hospital stamps its referral certificate",
            code="filing.not_issuing_hospital",
        )


def require_chosen_hospital(actor: Actor, chosen: Collection[int]) -> int:
    """The actor's institution when it is one of the filing's chosen hospitals (``chosen``:
    their ids); each stamps the resettlement form for itself only."""
    institution = _hospital_of(actor)
    if institution is None or institution not in chosen:
        raise Forbidden(
            "only a hospital chosen in the filing stamps its form, and only for itself",
            code="filing.not_chosen_hospital",
        )
    return institution


def require_verifier(actor: Actor) -> None:
    """Hospitals (any), agencies (either kind) and admins check presented certificates."""
    if is_admin(actor):
        return
    assert isinstance(actor, User)
    if actor.role not in VERIFIERS:
        raise Forbidden(
            "certificates are checked by hospitals and agencies", code="filing.not_verifier"
        )


def _hospital_of(actor: Actor) -> int | None:
    """The institution of a hospital user; None for everyone else."""
    if isinstance(actor, User) and actor.role == "hospital":
        return actor.institution_id
    return None


STAMPABLE_STATES = OPEN_STATES | {FilingState.APPROVED}
"""A chosen hospital stamps before the review; a hospital added by a later change stamps
while the filing is approved (the approval does not wait for it)."""

# The route of each move (POST /filings/{id}/<route>): a resubmission goes through /submit.
_ROUTE_OF = {FilingAction.RESUBMIT: "submit"}
_APPLICANT_MOVES = frozenset(
    {
        FilingAction.SUBMIT,
        FilingAction.RESUBMIT,
        FilingAction.WITHDRAW,
        FilingAction.CHANGE,
        FilingAction.CANCEL,
    }
)
_REVIEWER_MOVES = frozenset(
    {FilingAction.APPROVE, FilingAction.REJECT, FilingAction.RETURN, FilingAction.CORRECT}
)


def permitted_actions(
    session: Session,
    actor: Actor,
    filing: Filing,
    *,
    today: date,
    to_stamp: Collection[int] = (),
    state: str | None = None,
) -> list[str]:
    """What ``actor`` may do with ``filing`` now, each the name of a route
    (``POST /filings/{id}/<name>``): the moves the transition table allows from the
    filing's state that this caller may make (no system move such as ``expire``; no
    ``change`` inside the lock period; no ``approve`` by the filing's creator), then
    ``renew`` after expiry and the stamps a hospital still owes (``to_stamp``: ids of the
    chosen hospitals that have not stamped). ``state``: the filing's state as of ``today``
    when it differs from the stored one (an approved filing past its validity is expired)."""
    state = state or filing.state
    applicant = may_apply(session, actor, filing)
    reviewer = may_review(session, actor, filing)
    locked = filing.locked_until is not None and today <= filing.locked_until
    names: list[str] = []
    for action in allowed_actions(state):
        move = FilingAction(action)
        if move in SYSTEM_ACTIONS:
            continue
        if move in _APPLICANT_MOVES and not applicant:
            continue
        if move in _REVIEWER_MOVES and not reviewer:
            continue
        if move == FilingAction.CHANGE and locked:
            continue
        if move == FilingAction.APPROVE and _created(actor, filing):
            continue
        names.append(_ROUTE_OF.get(move, str(move)))
    if state == FilingState.EXPIRED and applicant:
        names.append("renew")
    institution = _hospital_of(actor)
    if institution is not None:
        if (
            state in OPEN_STATES
            and filing.referral_stamp == "unstamped"
            and institution == filing.referral_hospital_id
        ):
            names.append("referral-stamp")
        if state in STAMPABLE_STATES and institution in to_stamp:
            names.append("hospital-stamp")
    return list(dict.fromkeys(names))


def _created(actor: Actor, filing: Filing) -> bool:
    return isinstance(actor, User) and actor.id == filing.created_by_user_id


def require_second_person(actor: Actor, filing: Filing) -> None:
    """One user cannot both create and approve the same filing."""
    if _created(actor, filing):
        raise Forbidden(
            "you created this filing; another reviewer must approve it",
            code="filing.same_user",
        )


@registry_access.register_hospital_patient_check
def _named_in_a_filing(session: Session, institution_id: int, person_id: int) -> bool:
    """The hospital issued the person's referral or was chosen in their filing (a filing
    withdrawn as a mistake makes no one a patient)."""
    stmt = select(Filing.id).where(
        Filing.person_id == person_id,
        Filing.state != str(FilingState.WITHDRAWN),
        _names_hospital(institution_id),
    )
    return session.scalar(select(exists(stmt))) or False
