"""Queries of the audit checks: stored findings, and what a person already has on record."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibao.claim_checks.models import AuditFinding, AuditRun
from yibao.encounters.models import Encounter
from yibao.settlements.models import SettlementLine, SettlementRecord
from yibao.settlements.states import INSTITUTION_SOURCES

# Direct settlements (hospital window and pharmacy); reimbursements are checked as claims.


def findings(session: Session, *, subject_kind: str, subject_id: int) -> list[AuditFinding]:
    return list(
        session.scalars(
            select(AuditFinding)
            .where(AuditFinding.subject_kind == subject_kind, AuditFinding.subject_id == subject_id)
            .order_by(AuditFinding.id)
        )
    )


def findings_of_person(session: Session, *, person_id: int) -> list[AuditFinding]:
    return list(
        session.scalars(
            select(AuditFinding)
            .where(AuditFinding.person_id == person_id)
            .order_by(AuditFinding.id)
        )
    )


def claim_run(session: Session, *, subject_kind: str, subject_id: int, at: datetime) -> AuditRun:
    """The subject's run row, created if missing and locked for this transaction: two sweeps
    checking the same subject at once (two reviews, a review and a clearing build) take turns
    instead of both inserting it (``ON CONFLICT DO NOTHING``, then ``SELECT ... FOR UPDATE``;
    SQLite's single writer already takes turns)."""
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert_(AuditRun)
        .values(subject_kind=subject_kind, subject_id=subject_id, ran_at=at, findings=0)
        .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id"])
    )
    run = session.scalars(
        select(AuditRun)
        .where(AuditRun.subject_kind == subject_kind, AuditRun.subject_id == subject_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return run


def clear_findings(session: Session, *, subject_kind: str, subject_id: int) -> None:
    # "fetch": only the deleted rows are looked for in the session. The default ("evaluate")
    # walks every object the session holds for each call, which made a month's audit
    # (one call per settlement, the month's settlements all loaded) quadratic.
    session.execute(
        delete(AuditFinding)
        .where(AuditFinding.subject_kind == subject_kind, AuditFinding.subject_id == subject_id)
        .execution_options(synchronize_session="fetch")
    )


def live_settlements_of(session: Session, *, person_id: int) -> list[SettlementRecord]:
    """The person's direct settlements that stand (not reversed)."""
    return list(
        session.scalars(
            select(SettlementRecord).where(
                SettlementRecord.person_id == person_id,
                SettlementRecord.kind == "settlement",
                SettlementRecord.state == "settled",
                SettlementRecord.source.in_(INSTITUTION_SOURCES),
            )
        )
    )


def live_settlements_by_refs(session: Session, *, refs: Collection[str]) -> list[SettlementRecord]:
    """Standing direct settlements whose invoice number, claim id or message id is one of
    ``refs`` (normalised invoice numbers)."""
    if not refs:
        return []
    wanted = list(refs)
    return list(
        session.scalars(
            select(SettlementRecord).where(
                SettlementRecord.kind == "settlement",
                SettlementRecord.state == "settled",
                SettlementRecord.source.in_(INSTITUTION_SOURCES),
                SettlementRecord.invoice_no.in_(wanted)
                | SettlementRecord.claim_id.in_(wanted)
                | SettlementRecord.msg_id.in_(wanted),
            )
        )
    )


def settlement_lines(session: Session, settlement_ids: Collection[int]) -> list[SettlementLine]:
    if not settlement_ids:
        return []
    return list(
        session.scalars(
            select(SettlementLine)
            .where(SettlementLine.settlement_id.in_(list(settlement_ids)))
            .order_by(SettlementLine.settlement_id, SettlementLine.line_no)
        )
    )


def encounters(session: Session, ids: Collection[int]) -> dict[int, Encounter]:
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Encounter).where(Encounter.id.in_(list(ids))))}


def settlements_of_month(
    session: Session, *, year_month: str | None, only_unaudited: bool
) -> list[SettlementRecord]:
    stmt = select(SettlementRecord).where(
        SettlementRecord.kind == "settlement",
        SettlementRecord.state == "settled",
        SettlementRecord.source.in_(INSTITUTION_SOURCES),
    )
    if year_month is not None:
        stmt = stmt.where(SettlementRecord.year_month == year_month)
    if only_unaudited:
        done = select(AuditRun.subject_id).where(AuditRun.subject_kind == "settlement")
        stmt = stmt.where(SettlementRecord.id.not_in(done))
    return list(session.scalars(stmt.order_by(SettlementRecord.id)))
