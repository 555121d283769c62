"""Who may see, make and reverse settlements (直接结算); encounters have their rules in
:mod:`yibao.encounters.access`.

- insured person: their own;
- hospital, pharmacy: those it made itself (direct, pharmacy), never one that a manual
  reimbursement's approval created; it reverses its own;
- insured region's centre, street office: those of persons insured in its region;
- treatment region's agency: those made in its region (it is the creditor in clearing);
- admin: all; reverses any direct or pharmacy settlement.

A manual reimbursement's settlement is undone through its claim, never by a reversal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Conflict, Forbidden, NotFound
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin
from yibao.settlements.models import SettlementRecord
from yibao.settlements.states import INSTITUTION_SOURCES


def settlement_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``SettlementRecord`` for the rows ``actor`` may read."""
    if is_admin(actor):
        return true()
    assert isinstance(actor, User)
    if actor.role == "insured":
        if actor.person_id is None:
            raise Forbidden("this user is not bound to a person", code="auth.no_person")
        return SettlementRecord.person_id == actor.person_id
    if actor.role == "hospital":
        return and_(
            SettlementRecord.institution_id == registry_access.institution_of(actor),
            SettlementRecord.source.in_(INSTITUTION_SOURCES),
        )
    regions = agency_regions(session, actor)
    if regions is None:
        return false()
    insured, treatment = regions
    if insured is not None:
        return SettlementRecord.insured_region == insured
    return SettlementRecord.treatment_region == treatment


def agency_regions(session: Session, actor: Actor) -> tuple[str | None, str | None] | None:
    """The settlements an agency (or an admin) reads, as whole regions: ``(insured region,
    treatment region)``, None for any; the front desk of an insured region reads that
    region's persons' settlements, a treatment region's agency the settlements made there.
    None for everyone else (a person, a hospital: their scope is narrower than a region)."""
    if is_admin(actor):
        return (None, None)
    assert isinstance(actor, User)
    if actor.role in ("insured", "hospital"):
        return None
    front = registry_access.front_desk_region(session, actor)
    if front is not None:
        return (front, None)
    treatment = registry_access.treatment_region(session, actor)
    if treatment is not None:
        return (None, treatment)
    return None


def may_read(session: Session, actor: Actor, row: SettlementRecord) -> bool:
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role == "insured":
        return actor.person_id is not None and row.person_id == actor.person_id
    if actor.role == "hospital":
        return (
            actor.institution_id is not None
            and row.institution_id == actor.institution_id
            and row.source in INSTITUTION_SOURCES
        )
    front = registry_access.front_desk_region(session, actor)
    if front is not None:
        return row.insured_region == front
    return registry_access.treatment_region(session, actor) == row.treatment_region


def readable(session: Session, actor: Actor, row: SettlementRecord) -> SettlementRecord:
    """The row when ``actor`` may read it; otherwise it does not exist for them."""
    if not may_read(session, actor, row):
        raise NotFound(f"settlement {row.id} not found", code="settlement.not_found")
    return row


def require_reversible_by(session: Session, actor: Actor, row: SettlementRecord) -> None:
    """A hospital reverses its own settlements, an admin any direct or pharmacy one; a
    manual reimbursement's settlement is never reversed here (its claim owns it)."""
    if not is_admin(actor):
        assert isinstance(actor, User)
        if actor.role != "hospital" or not may_read(session, actor, row):
            raise NotFound(f"settlement {row.id} not found", code="settlement.not_found")
    if row.source not in INSTITUTION_SOURCES:
        raise Conflict(
            f"settlement {row.id} was made by approving a manual reimbursement claim; "
            "it is corrected through that claim, not reversed",
            code="settlement.not_reversible",
        )


def totals_scope(
    session: Session,
    actor: Actor,
    *,
    insured_region: str | None,
    treatment_region: str | None,
) -> dict[str, Any]:
    """The region pair an agency may total: its own side of the clearing."""
    if is_admin(actor):
        return {"insured_region": insured_region, "treatment_region": treatment_region}
    center = registry_access.center_region(session, actor)
    if center is not None:
        if insured_region not in (None, center):
            raise Forbidden("a centre sees the totals it owes", code="auth.region")
        return {"insured_region": center, "treatment_region": treatment_region}
    creditor = registry_access.treatment_region(session, actor)
    if creditor is not None:
        if treatment_region not in (None, creditor):
            raise Forbidden("an agency sees the totals owed to it", code="auth.region")
        return {"insured_region": insured_region, "treatment_region": creditor}
    raise Forbidden("only agencies of the two regions see clearing totals", code="auth.region")
