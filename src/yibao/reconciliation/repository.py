"""Queries of reconciliation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from yibao.clock import day_start
from yibao.reconciliation.models import Reconciliation
from yibao.settlements.models import SettlementRecord

HOSPITAL_SOURCES = ("direct", "pharmacy")


def settlements_of(
    session: Session, *, institution_id: int, period_from: date, period_to: date
) -> list[SettlementRecord]:
    """The institution's direct settlements and reversals stored in the period (days in
    China, as the clearing month is)."""
    start = day_start(period_from)
    end = day_start(period_to + timedelta(days=1))
    s = SettlementRecord
    return list(
        session.scalars(
            select(s)
            .where(
                s.institution_id == institution_id,
                s.source.in_(HOSPITAL_SOURCES),
                s.created_at >= start,
                s.created_at < end,
            )
            .order_by(s.id)
        )
    )


def list_reconciliations(
    session: Session,
    *,
    where: ColumnElement[bool],
    institution_id: int | None = None,
    limit: int = 100,
) -> list[Reconciliation]:
    """Newest first; ``where`` is the caller's scope (see ``reconciliation.access``)."""
    stmt = select(Reconciliation).where(where)
    if institution_id is not None:
        stmt = stmt.where(Reconciliation.institution_id == institution_id)
    return list(session.scalars(stmt.order_by(Reconciliation.id.desc()).limit(limit)))
