"""Clearing (清算) use cases: build a month's statements, confirm (freeze) them, list them.

The figures come from :func:`yibao.clearing.aggregate.build_statements` over the stored
direct settlements and reversals; this module loads them, keeps which settlement each
statement holds (``clearing_items``), and never touches a confirmed statement. Before a
month is built, the audit checks run over every direct settlement not yet checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.audit.service import record
from yibao.auth.models import User
from yibao.claim_checks.service import audit_settlements
from yibao.clearing import access
from yibao.clearing import repository as repo
from yibao.clearing.aggregate import ClearingEntry, Statement, build_statements, parse_month
from yibao.clearing.models import ClearingItem, ClearingStatement
from yibao.clearing.states import next_state
from yibao.clock import business_date
from yibao.errors import Conflict, ValidationFailed
from yibao.money import from_fen, to_fen
from yibao.registry import access as registry_access
from yibao.settlements import access as settlement_access
from yibao.settlements.models import SettlementRecord

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called while a month is being cleared."""

CLEARERS = ("agency", "admin")
"""Roles that reach the clearing routes; which agencies take part: :mod:`.access`."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _month(text: str) -> str:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="clearing.month_invalid") from None


def entry_of(record_: SettlementRecord) -> ClearingEntry:
    return ClearingEntry(
        kind="reversal" if record_.kind == "reversal" else "settlement",
        ref=str(record_.id),
        insured_region=record_.insured_region,
        treatment_region=record_.treatment_region,
        day=business_date(record_.created_at),
        period=record_.year_month,
        total=from_fen(record_.total_fen),
        pool=from_fen(record_.pool_fund_pay_fen),
        supplementary=from_fen(record_.supplementary_pay_fen),
        assistance=from_fen(record_.assistance_pay_fen),
        account=from_fen(record_.account_pay_fen),
        cash=from_fen(record_.cash_pay_fen),
        institution_id=str(record_.institution_id) if record_.institution_id else None,
    )


def _store(session: Session, statement: Statement, *, at: datetime) -> ClearingStatement:
    row = ClearingStatement(
        year_month=statement.month,
        insured_region=statement.insured_region,
        treatment_region=statement.treatment_region,
        state="draft",
        settlements=statement.settlements,
        reversals=statement.reversals,
        late_entries=statement.late_entries,
        total_fen=to_fen(statement.total),
        pool_fen=to_fen(statement.pool),
        supplementary_fen=to_fen(statement.supplementary),
        assistance_fen=to_fen(statement.assistance),
        account_fen=to_fen(statement.account),
        cash_fen=to_fen(statement.cash),
        built_at=at,
    )
    session.add(row)
    session.flush()
    session.add_all(
        ClearingItem(statement_id=row.id, settlement_id=int(ref)) for ref in statement.refs
    )
    session.flush()
    return row


def build_month(
    session: Session,
    *,
    actor: User,
    month: str,
    confirm: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> list[ClearingStatement]:
    """(Re)build the month's draft statements and return those the actor is a party to;
    with ``confirm``, ask for the confirmation of those the actor owes (a second user
    approves each: see :func:`confirm_statement`).

    Confirmed statements of the month stay as they are; whatever they do not hold and
    belongs to the month (a late reversal) goes to the next open month.
    """
    scope = access.statement_scope(session, actor)
    if confirm:
        access.require_debtor(session, actor)
    year_month = _month(month)
    at = _now(now)
    tick = progress or (lambda stage, done, total: None)
    checked, found = audit_settlements(session, year_month=None, now=at)
    tick("audit", checked, checked)
    records = repo.settlements_up_to(session, year_month=year_month)
    entries: list[ClearingEntry] = []
    for index, settlement in enumerate(records, start=1):
        entries.append(entry_of(settlement))
        if index % 500 == 0 or index == len(records):
            tick("load", index, len(records))
    statements = [
        statement
        for statement in build_statements(
            year_month, entries, confirmed=repo.confirmed_keys(session)
        )
        if access.party_to(
            session,
            actor,
            insured_region=statement.insured_region,
            treatment_region=statement.treatment_region,
        )
    ]
    # Only the caller's own drafts are rebuilt: another region's stay as they are.
    repo.drop_drafts(session, year_month=year_month, where=scope)
    rows = []
    for index, statement in enumerate(statements, start=1):
        rows.append(_store(session, statement, at=at))
        tick("statements", index, len(statements))
    if confirm:
        for row in rows:
            if access.may_confirm(session, actor, row):
                confirm_statement(session, actor=actor, statement_id=row.id, now=at)
    record(
        session,
        actor=actor,
        action="clearing.build_month",
        entity="clearing_month",
        entity_id=year_month,
        before=None,
        after={
            "statements": len(rows),
            "settlements_audited": checked,
            "audit_findings": found,
            "amount_due": str(sum((s.amount_due for s in statements), from_fen(0))),
        },
        at=at,
    )
    return repo.statements(session, year_month=year_month, where=scope)


def _confirm(session: Session, row: ClearingStatement, *, actor: User, at: datetime) -> None:
    before = {"state": row.state}
    row.state = next_state(row.state, "confirm")
    row.confirmed_at = at
    row.confirmed_by = actor.id
    session.flush()
    repo.add_cleared_months(session, statement_id=row.id)
    record(
        session,
        actor=actor,
        action="clearing.confirm",
        entity="clearing_statement",
        entity_id=row.id,
        before=before,
        after={"state": row.state, "amount_due": str(from_fen(amount_due_fen(row)))},
        at=at,
    )


def confirm_statement(
    session: Session, *, actor: User, statement_id: int, now: datetime | None = None
) -> Approval:
    """Ask to freeze one draft statement of an ended month, as it stands: the debtor
    region's centre asks, and a second user of that centre (or an admin) approves; the
    statement is confirmed by the approval (四眼原则)."""
    at = _now(now)
    row = get_statement(session, actor=actor, statement_id=statement_id)
    access.require_confirmer(session, actor, row, now=at)
    next_state(row.state, "confirm")
    return approvals.request_approval(
        session,
        kind=CONFIRM_STATEMENT,
        subject=f"clearing_statement:{row.id}",
        summary=f"confirm the clearing statement {row.year_month} "
        f"{row.insured_region}→{row.treatment_region}: {from_fen(amount_due_fen(row))} due",
        payload={"statement_id": row.id, **_figures(row)},
        region_code=row.insured_region,
        actor=actor,
        now=at,
    )


def pending_confirmation(session: Session, *, actor: User, statement_id: int) -> Approval | None:
    """The request to confirm a statement the actor may see that still waits for its
    second user (the newest), or None: asking again would give the same request."""
    row = get_statement(session, actor=actor, statement_id=statement_id)
    pending = approvals.pending_requests(
        session, kind=CONFIRM_STATEMENT, subject=f"clearing_statement:{row.id}"
    )
    return pending[0] if pending else None


_FIGURES = (
    "year_month",
    "insured_region",
    "treatment_region",
    "settlements",
    "reversals",
    "late_entries",
    "total_fen",
    "pool_fen",
    "supplementary_fen",
    "assistance_fen",
    "account_fen",
    "cash_fen",
)


def _figures(row: ClearingStatement) -> dict[str, Any]:
    """What a confirmation is asked for: the statement's pair, month and figures."""
    return {name: getattr(row, name) for name in _FIGURES}


def _may_confirm(session: Session, user: User, payload: Mapping[str, Any]) -> bool:
    """The debtor's centre decides; when the statement was rebuilt since the request, that
    centre still decides (and can reject the stale request)."""
    row = session.get(ClearingStatement, int(payload["statement_id"]))
    if row is not None:
        return access.may_confirm(session, user, row)
    return registry_access.is_center_of(session, user, str(payload.get("insured_region", "")))


def _carry_out_confirmation(
    session: Session, payload: Mapping[str, Any], approval: Approval, user: User
) -> Mapping[str, Any]:
    at = approval.decided_at or datetime.now(UTC)
    row = session.get(ClearingStatement, int(payload["statement_id"]), with_for_update=True)
    asked = {name: payload.get(name) for name in _FIGURES}
    if row is None or _figures(row) != asked:
        # Building the month again replaces its drafts: the figures asked about are gone.
        raise Conflict(
            f"clearing statement {payload['statement_id']} was rebuilt after this request "
            "and no longer holds the figures it was asked for; reject the request and ask "
            "to confirm the statement as it is now",
            code="clearing.statement_rebuilt",
        )
    access.require_month_ended(row, now=at)
    _confirm(session, row, actor=user, at=at)
    return {"statement_id": row.id, "state": row.state}


CONFIRM_STATEMENT = "clearing.confirm"
approvals.register_kind(
    approvals.ApprovalKind(CONFIRM_STATEMENT, _may_confirm, _carry_out_confirmation)
)


def get_statement(session: Session, *, actor: User, statement_id: int) -> ClearingStatement:
    return access.readable(
        session, actor, session.get(ClearingStatement, statement_id), statement_id
    )


def list_statements(
    session: Session, *, actor: User, month: str | None = None
) -> list[ClearingStatement]:
    year_month = _month(month) if month else None
    return repo.statements(
        session, year_month=year_month, where=access.statement_scope(session, actor)
    )


def amount_due_fen(row: ClearingStatement) -> int:
    return row.pool_fen + row.supplementary_fen + row.assistance_fen + row.account_fen


def statement_items(session: Session, *, actor: User, statement_id: int) -> list[int]:
    get_statement(session, actor=actor, statement_id=statement_id)
    return repo.item_ids(session, statement_id)


def statement_settlements(
    session: Session, *, actor: User, statement_id: int, limit: int = 50, offset: int = 0
) -> list[SettlementRecord]:
    """A page of the settlements a statement holds (newest first), for a party to it."""
    get_statement(session, actor=actor, statement_id=statement_id)
    return repo.statement_settlements(session, statement_id, limit=limit, offset=offset)


def statement_export(
    session: Session, *, actor: User, statement_id: int
) -> tuple[ClearingStatement, list[SettlementRecord]]:
    """A statement with every settlement it holds (newest first), for an export."""
    row = get_statement(session, actor=actor, statement_id=statement_id)
    return row, repo.statement_settlements(session, statement_id)


def month_totals(session: Session, *, actor: User, year: int | None = None) -> list[Any]:
    """Per month of the actor's statements (of ``year``, else every year), newest first:
    ``year_month``, ``statements``, ``confirmed``, ``settlements``, ``reversals`` and the
    sums in fen (``total_fen``, ``pool_fen``, ``supplementary_fen``, ``assistance_fen``,
    ``account_fen``, ``cash_fen``)."""
    return repo.months(session, where=access.statement_scope(session, actor), year=year)


def outstanding(session: Session, *, actor: User) -> list[Any]:
    """Per region pair on the actor's side of clearing, what is not yet in a confirmed
    statement (see :func:`repository.outstanding`): the amounts advanced by the treatment
    region and not yet confirmed for repayment, which is the part of the advance fund
    (预付金) in use (:mod:`yibao.clearing.advance`)."""
    scope = settlement_access.totals_scope(
        session, actor, insured_region=None, treatment_region=None
    )
    return repo.outstanding(
        session,
        insured_region=scope["insured_region"],
        treatment_region=scope["treatment_region"],
    )
