"""Third-party recovery (第三方追偿): when the liable third party does not pay or cannot be
found, the fund pays in advance (先行支付) and the insured region's agency recovers it.

A case opens with the settlement (``recoverable`` = what the funds paid), is listed by the
agency and closed with the amount actually recovered; a reversed settlement cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.auth.models import User
from yibao.errors import NotFound, ValidationFailed
from yibao.money import from_fen, to_fen
from yibao.recovery import access
from yibao.recovery import repository as repo
from yibao.recovery.models import RecoveryCase
from yibao.recovery.states import CASE_CANCELLED, CASE_OPEN, case_next
from yibao.registry.models import Person
from yibao.settlements.models import SettlementRecord


def open_case(
    session: Session, *, settlement: SettlementRecord, actor: Actor, now: datetime
) -> RecoveryCase:
    case = RecoveryCase(
        settlement_id=settlement.id,
        person_id=settlement.person_id,
        insured_region=settlement.insured_region,
        treatment_region=settlement.treatment_region,
        amount_fen=settlement.recoverable_fen,
        recovered_fen=0,
        state=CASE_OPEN,
        opened_at=now,
    )
    session.add(case)
    session.flush()
    record(
        session,
        actor=actor,
        action="recovery.open",
        entity="recovery_case",
        entity_id=case.id,
        before=None,
        after={"settlement_id": settlement.id, "amount_fen": case.amount_fen},
        at=now,
    )
    return case


def close_case(
    session: Session,
    *,
    case_id: int,
    recovered: Decimal,
    note: str | None = None,
    insured_region: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> RecoveryCase:
    """Close a case with what was recovered (0 up to the amount paid in advance)."""
    case = repo.get_case(session, case_id, lock=True)
    if insured_region is not None and case.insured_region != insured_region:
        raise NotFound(f"recovery case {case_id} not found", code="recovery.not_found")
    new_state = case_next(case.state, "close")
    try:
        recovered_fen = to_fen(recovered)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="recovery.amount") from None
    if recovered_fen < 0 or recovered_fen > case.amount_fen:
        raise ValidationFailed(
            "the amount recovered must lie between 0 and the amount paid in advance",
            code="recovery.amount",
        )
    before = {"state": case.state, "recovered_fen": case.recovered_fen}
    case.state = new_state
    case.recovered_fen = recovered_fen
    case.note = (note or None) and note[:400]
    case.closed_at = now or datetime.now(UTC)
    case.closed_by = getattr(actor, "id", None)
    session.flush()
    record(
        session,
        actor=actor,
        action="recovery.close",
        entity="recovery_case",
        entity_id=case.id,
        before=before,
        after={"state": case.state, "recovered_fen": recovered_fen, "note": case.note},
    )
    return case


def cancel_case_for(
    session: Session, *, settlement_id: int, actor: Actor, now: datetime
) -> RecoveryCase | None:
    """The settlement was reversed: the fund paid nothing in advance, so the case is void —
    an open one has nothing left to recover, and what a closed one recovered is owed back
    to the third party (said in its note)."""
    case = repo.case_for_settlement(session, settlement_id)
    if case is None or case.state == CASE_CANCELLED:
        return case
    before = {"state": case.state, "recovered": str(from_fen(case.recovered_fen))}
    case.state = case_next(case.state, "cancel")
    case.closed_at = now
    case.note = (
        f"settlement reversed after {from_fen(case.recovered_fen)} was recovered: "
        "to be returned to the third party"
        if case.recovered_fen
        else "settlement reversed"
    )
    record(
        session,
        actor=actor,
        action="recovery.cancel",
        entity="recovery_case",
        entity_id=case.id,
        before=before,
        after={"state": case.state, "note": case.note},
        at=now,
    )
    return case


# --- the agency's pages (issue 10) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as the agency's pages list it: with its person and what is still owed."""

    case: RecoveryCase
    person: Person

    @property
    def outstanding_fen(self) -> int:
        return outstanding_fen(self.case)


def outstanding_fen(case: RecoveryCase) -> int:
    """What is still to recover (nothing once the case is cancelled)."""
    if case.state == CASE_CANCELLED:
        return 0
    return case.amount_fen - case.recovered_fen


def list_cases_for(
    session: Session,
    *,
    actor: User,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CaseRow]:
    """The cases of ``actor``'s insured region (all for admins), newest first, each with
    its person, in one query."""
    region = access.case_region(session, actor)
    stmt = select(RecoveryCase, Person).join(Person, Person.id == RecoveryCase.person_id)
    if region is not None:
        stmt = stmt.where(RecoveryCase.insured_region == region)
    if state is not None:
        stmt = stmt.where(RecoveryCase.state == state)
    rows = session.execute(stmt.order_by(RecoveryCase.id.desc()).limit(limit).offset(offset))
    return [CaseRow(case, person) for case, person in rows]


def get_case_for(session: Session, *, actor: User, case_id: int) -> RecoveryCase:
    """One case of ``actor``'s insured region (404 otherwise)."""
    return access.readable_case(session, actor, session.get(RecoveryCase, case_id), case_id)


def close_case_for(
    session: Session,
    *,
    actor: User,
    case_id: int,
    recovered: Decimal,
    note: str | None,
    now: datetime | None = None,
) -> RecoveryCase:
    """Close one of ``actor``'s cases with what was recovered (as ``POST .../close``)."""
    return close_case(
        session,
        case_id=case_id,
        recovered=recovered,
        note=note,
        insured_region=access.case_region(session, actor),
        actor=actor,
        now=now,
    )
