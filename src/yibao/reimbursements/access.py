"""Who may claim, see and review a manual reimbursement (零星报销).

- Claimants (submit, upload, resubmit): the person, their unit, the street office and the
  centre of their insured region, admins.
- Reviewers (queue, review, return, approve, reject, pay): the centre of the insured
  region and admins; the user who submitted a claim never approves it (four eyes).
- Hospitals and treatment regions' agencies have no part in manual claims.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Forbidden, NotFound
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin
from yibao.registry.models import Person
from yibao.reimbursements.models import ReimbursementClaim


def _person(session: Session, claim: ReimbursementClaim) -> Person:
    person = session.get(Person, claim.person_id)
    if person is None:
        raise NotFound(f"person {claim.person_id} not found", code="person.not_found")
    return person


def is_reviewer(session: Session, actor: Actor, claim: ReimbursementClaim) -> bool:
    return registry_access.is_center_of(session, actor, claim.insured_region)


def may_view(session: Session, actor: Actor, claim: ReimbursementClaim) -> bool:
    return is_reviewer(session, actor, claim) or registry_access.may_act_for(
        session, actor, _person(session, claim)
    )


def claim_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``ReimbursementClaim`` for the claims ``actor`` may list."""
    if is_admin(actor):
        return true()
    assert isinstance(actor, User)
    if actor.role == "insured":
        if actor.person_id is None:
            return false()
        return ReimbursementClaim.person_id == actor.person_id
    if actor.role == "unit":
        if actor.unit_id is None:
            return false()
        staff = select(Person.id).where(Person.unit_id == actor.unit_id)
        return ReimbursementClaim.person_id.in_(staff)
    region = registry_access.front_desk_region(session, actor)
    if region is None:
        raise Forbidden(
            "only claimants and the insured region's centre see manual claims",
            code="reimbursement.forbidden",
        )
    return ReimbursementClaim.insured_region == region


def require_claimant(session: Session, actor: Actor, person: Person) -> None:
    if not registry_access.may_act_for(session, actor, person):
        raise Forbidden("you may not act for this person", code="reimbursement.forbidden")


def require_claimant_of(session: Session, actor: Actor, claim: ReimbursementClaim) -> None:
    require_claimant(session, actor, _person(session, claim))


def require_reviewer(session: Session, actor: Actor, claim: ReimbursementClaim) -> None:
    if not is_reviewer(session, actor, claim):
        raise Forbidden(
            f"only a reviewer of the insured region {claim.insured_region} may review",
            code="reimbursement.not_reviewer",
        )


def require_second_person(actor: Actor, claim: ReimbursementClaim) -> None:
    """One user cannot both submit and approve the same claim."""
    if isinstance(actor, User) and actor.id == claim.submitted_by:
        raise Forbidden(
            "you submitted this claim; another reviewer must approve it",
            code="reimbursement.same_user",
        )
