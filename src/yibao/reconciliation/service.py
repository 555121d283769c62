"""Reconciliation (对账) use cases: a hospital submits its totals (and details), Yibao answers.

Each of Yibao's records is known by the hospital's message id (报文ID) of the request that
created it, or ``S<id>`` when there was none; reversals carry negative amounts, as the
hospital's own ledger does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from yibao.audit.service import record
from yibao.auth.models import User
from yibao.errors import Forbidden, InvalidInput, NotFound, ValidationFailed
from yibao.money import from_fen, to_fen
from yibao.reconciliation import access
from yibao.reconciliation import repository as repo
from yibao.reconciliation.compare import (
    Entry,
    Outcome,
    Record,
    Totals,
    parse_details_csv,
    reconcile,
    reconcile_entries,
)
from yibao.reconciliation.models import Reconciliation
from yibao.registry.models import Institution
from yibao.settlements.models import SettlementRecord


def record_ref(settlement: SettlementRecord) -> str:
    return settlement.msg_id or f"S{settlement.id}"


def _institution_for(session: Session, actor: User, institution_id: int | None) -> Institution:
    """The institution to reconcile (a hospital's own when it names none)."""
    if institution_id is None and actor.role == "hospital":
        institution_id = actor.institution_id
    if institution_id is None:
        raise ValidationFailed("name the institution", code="reconcile.institution")
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"institution {institution_id} not found", code="institution.not_found")
    access.require_reconciler(session, actor, institution)
    return institution


def submit_reconciliation(
    session: Session,
    *,
    actor: User,
    period_from: date,
    period_to: date,
    count: int,
    total: Decimal,
    fund_pay: Decimal,
    details_csv: str | None = None,
    institution_id: int | None = None,
    now: datetime | None = None,
) -> Reconciliation:
    """Compare the hospital's figures with Yibao's; store and return the answer."""
    institution = _institution_for(session, actor, institution_id)
    if period_to < period_from:
        raise ValidationFailed("the period ends before it starts", code="reconcile.period")
    details = None
    if details_csv is not None:
        try:
            details = parse_details_csv(details_csv, "details.csv")
        except ValueError as exc:
            raise InvalidInput("details.csv", "", str(exc).removeprefix("details.csv: ")) from None
    ours = [
        Record(record_ref(s), from_fen(s.total_fen), from_fen(s.fund_pay_total_fen))
        for s in repo.settlements_of(
            session, institution_id=institution.id, period_from=period_from, period_to=period_to
        )
    ]
    outcome = reconcile(ours, theirs=Totals(count, total, fund_pay), details=details)
    return _store(
        session,
        actor=actor,
        institution=institution,
        period=(period_from, period_to),
        stated=Totals(count, total, fund_pay),
        outcome=outcome,
        details_given=details is not None,
        now=now,
    )


def _store(
    session: Session,
    *,
    actor: User,
    institution: Institution,
    period: tuple[date, date],
    stated: Totals,
    outcome: Outcome,
    details_given: bool,
    now: datetime | None,
) -> Reconciliation:
    """The answer stored and audited, whichever way the hospital's figures came."""
    period_from, period_to = period
    row = Reconciliation(
        institution_id=institution.id,
        period_from=period_from,
        period_to=period_to,
        stated_count=stated.count,
        stated_total_fen=to_fen(stated.total),
        stated_fund_pay_fen=to_fen(stated.fund_pay),
        our_count=outcome.ours.count,
        our_total_fen=to_fen(outcome.ours.total),
        our_fund_pay_fen=to_fen(outcome.ours.fund_pay),
        details_given=details_given,
        status=outcome.status,
        differences=[d.as_dict() for d in outcome.differences],
        submitted_by=actor.id,
        submitted_at=now or datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="reconciliation.submit",
        entity="reconciliation",
        entity_id=row.id,
        before=None,
        after={
            "institution_id": institution.id,
            "period": [period_from.isoformat(), period_to.isoformat()],
            "status": row.status,
            "differences": len(row.differences),
        },
        at=row.submitted_at,
    )
    return row


def get_reconciliation(session: Session, *, actor: User, reconciliation_id: int) -> Reconciliation:
    row = session.get(Reconciliation, reconciliation_id)
    if row is None:
        raise NotFound(f"reconciliation {reconciliation_id} not found", code="reconcile.not_found")
    try:
        _institution_for(session, actor, row.institution_id)
    except Forbidden:
        raise NotFound(
            f"reconciliation {reconciliation_id} not found", code="reconcile.not_found"
        ) from None
    return row


def list_reconciliations(
    session: Session, *, actor: User, institution_id: int | None = None
) -> list[Reconciliation]:
    """The reconciliations ``actor`` may see (see :mod:`yibao.reconciliation.access`)."""
    return repo.list_reconciliations(
        session,
        where=access.reconciliation_scope(session, actor),
        institution_id=institution_id,
    )


def entry_of(settlement: SettlementRecord) -> Entry:
    """A stored settlement or reversal as an entry known by its own id."""
    return Entry(
        ref=str(settlement.id),
        encounter=str(settlement.encounter_id) if settlement.encounter_id is not None else "",
        person=str(settlement.person_id),
        total=from_fen(settlement.total_fen),
        fund_pay=from_fen(settlement.fund_pay_total_fen),
        account_pay=from_fen(settlement.account_pay_fen),
        reversal=settlement.kind == "reversal",
    )


def submit_entry_reconciliation(
    session: Session,
    *,
    actor: User,
    period_from: date,
    period_to: date,
    count: int,
    total: Decimal,
    fund_pay: Decimal,
    account_pay: Decimal | None = None,
    entries: list[Entry] | None = None,
    institution_id: int | None = None,
    now: datetime | None = None,
) -> Reconciliation:
    """Like :func:`submit_reconciliation`, with the settlements known by their own ids
    (the ids Yibao answered), the account payments compared too, and the details given
    as entries (the face parses its own file format). Stored and audited the same way."""
    institution = _institution_for(session, actor, institution_id)
    if period_to < period_from:
        raise ValidationFailed("the period ends before it starts", code="reconcile.period")
    ours = [
        entry_of(s)
        for s in repo.settlements_of(
            session, institution_id=institution.id, period_from=period_from, period_to=period_to
        )
    ]
    outcome = reconcile_entries(
        ours, theirs=Totals(count, total, fund_pay), account_pay=account_pay, details=entries
    )
    return _store(
        session,
        actor=actor,
        institution=institution,
        period=(period_from, period_to),
        stated=Totals(count, total, fund_pay),
        outcome=outcome,
        details_given=entries is not None,
        now=now,
    )
