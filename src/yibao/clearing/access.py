"""Who takes part in clearing (清算) between two regions.

- The insured region's centre is the debtor: it builds and reads the statements it owes
  and confirms them (four eyes: a second user of the centre approves).
- The treatment region's agency is the creditor: it builds and reads the statements owed
  to it; it never confirms for the other region.
- Admins see and may confirm every statement, also only with a second person.
- A month is confirmed only once it has ended (China time).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, true
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.clearing.models import AdvanceFund, ClearingStatement
from yibao.clock import business_month
from yibao.errors import Conflict, Forbidden, NotFound
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin


def party_scope(
    session: Session,
    actor: Actor,
    *,
    insured_region: SQLColumnExpression[str],
    treatment_region: SQLColumnExpression[str],
) -> ColumnElement[bool]:
    """SQL condition on rows of a region pair (statements, or the settlements they hold,
    given by their two region columns): the pairs the actor is a party to. All for an
    admin, the insured region's for its centre (the debtor), the treatment region's for its
    agency (the creditor); anyone else takes no part in clearing."""
    if is_admin(actor):
        return true()
    debtor = registry_access.center_region(session, actor)
    if debtor is not None:
        return insured_region == debtor
    creditor = registry_access.treatment_region(session, actor)
    if creditor is not None:
        return treatment_region == creditor
    raise Forbidden(
        "only the agencies of the two regions take part in clearing", code="clearing.forbidden"
    )


def statement_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``ClearingStatement``: the statements the actor is a party to."""
    return party_scope(
        session,
        actor,
        insured_region=ClearingStatement.insured_region,
        treatment_region=ClearingStatement.treatment_region,
    )


def party_to(session: Session, actor: Actor, *, insured_region: str, treatment_region: str) -> bool:
    """The actor is the debtor's centre or the creditor's agency of this pair (or admin)."""
    if is_admin(actor):
        return True
    return insured_region == registry_access.center_region(
        session, actor
    ) or treatment_region == registry_access.treatment_region(session, actor)


def may_read(session: Session, actor: Actor, row: ClearingStatement) -> bool:
    return party_to(
        session, actor, insured_region=row.insured_region, treatment_region=row.treatment_region
    )


def readable(
    session: Session, actor: Actor, row: ClearingStatement | None, ref: int
) -> ClearingStatement:
    if row is None or not may_read(session, actor, row):
        raise NotFound(f"clearing statement {ref} not found", code="clearing.not_found")
    return row


def may_confirm(session: Session, actor: Actor, row: ClearingStatement) -> bool:
    """The debtor's centre (the insured region) or an admin."""
    return registry_access.is_center_of(session, actor, row.insured_region)


def require_debtor(session: Session, actor: Actor) -> None:
    """Only a debtor (an insured region's centre) or an admin asks to confirm statements."""
    if not is_admin(actor) and registry_access.center_region(session, actor) is None:
        raise Forbidden(
            "statements are confirmed by the centre of the region that owes them",
            code="clearing.not_debtor",
        )


def require_confirmer(
    session: Session, actor: User, row: ClearingStatement, *, now: datetime
) -> None:
    if not may_confirm(session, actor, row):
        raise Forbidden(
            f"only the centre of {row.insured_region}, which owes this statement, confirms it",
            code="clearing.not_debtor",
        )
    require_month_ended(row, now=now)


def require_month_ended(row: ClearingStatement, *, now: datetime) -> None:
    if row.year_month >= business_month(now):
        raise Conflict(
            f"the month {row.year_month} has not ended; it is confirmed from the 1st of the "
            "next month",
            code="clearing.month_open",
        )


# --- the advance fund (预付金) between regions ------------------------------------------------


def advance_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``AdvanceFund``: the pairs the actor is a party to, as for the
    statements (the insured region's centre pays the fund, the treatment region's agency
    holds it; admins see every pair)."""
    if is_admin(actor):
        return true()
    debtor = registry_access.center_region(session, actor)
    if debtor is not None:
        return AdvanceFund.insured_region == debtor
    creditor = registry_access.treatment_region(session, actor)
    if creditor is not None:
        return AdvanceFund.treatment_region == creditor
    raise Forbidden(
        "only the agencies of the two regions take part in clearing", code="clearing.forbidden"
    )


def advance_region(session: Session, actor: Actor) -> str | None:
    """The insured region whose advance funds the actor records (its centre), else None;
    an admin names the region each time."""
    return registry_access.center_region(session, actor)


def may_record_advance(session: Session, actor: Actor, insured_region: str) -> bool:
    """Recording (and approving) an advance fund: the centre of the insured region that
    pays it, or an admin; never the treatment region that receives it."""
    return registry_access.is_center_of(session, actor, insured_region)


def require_advance_recorder(session: Session, actor: Actor, insured_region: str) -> None:
    if not may_record_advance(session, actor, insured_region):
        raise Forbidden(
            "an advance fund is recorded by the centre of the insured region that pays it",
            code="clearing.advance_not_debtor",
        )
