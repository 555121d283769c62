"""Queries of clearing: the settlements to clear and the stored statements."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yibao.clearing.models import ClearingItem, ClearingStatement
from yibao.settlements.models import SettlementRecord

# Direct settlements at hospitals and pharmacies are cleared between regions; manual
# reimbursements are paid by the insured region itself.
CLEARED_SOURCES = ("direct", "pharmacy")


def settlements_up_to(session: Session, *, year_month: str) -> list[SettlementRecord]:
    """Off-site direct settlements and reversals stored up to the month's end, not yet in a
    confirmed statement."""
    frozen = (
        select(ClearingItem.settlement_id)
        .join(ClearingStatement, ClearingStatement.id == ClearingItem.statement_id)
        .where(ClearingStatement.state == "confirmed")
    )
    s = SettlementRecord
    return list(
        session.scalars(
            select(s)
            .where(
                s.year_month <= year_month,
                s.source.in_(CLEARED_SOURCES),
                s.insured_region != s.treatment_region,
                s.id.not_in(frozen),
            )
            .order_by(s.id)
        )
    )


def confirmed_keys(session: Session) -> set[tuple[str, str, str]]:
    rows = session.execute(
        select(
            ClearingStatement.insured_region,
            ClearingStatement.treatment_region,
            ClearingStatement.year_month,
        ).where(ClearingStatement.state == "confirmed")
    )
    return {(a, b, c) for a, b, c in rows}


def statements(
    session: Session, *, year_month: str | None = None, region: str | None = None
) -> list[ClearingStatement]:
    stmt = select(ClearingStatement)
    if year_month is not None:
        stmt = stmt.where(ClearingStatement.year_month == year_month)
    if region is not None:
        stmt = stmt.where(
            (ClearingStatement.insured_region == region)
            | (ClearingStatement.treatment_region == region)
        )
    return list(
        session.scalars(
            stmt.order_by(
                ClearingStatement.year_month,
                ClearingStatement.insured_region,
                ClearingStatement.treatment_region,
            )
        )
    )


def drop_drafts(session: Session, *, year_month: str) -> None:
    drafts = select(ClearingStatement.id).where(
        ClearingStatement.year_month == year_month, ClearingStatement.state == "draft"
    )
    session.execute(delete(ClearingItem).where(ClearingItem.statement_id.in_(drafts)))
    session.execute(
        delete(ClearingStatement).where(
            ClearingStatement.year_month == year_month, ClearingStatement.state == "draft"
        )
    )


def item_ids(session: Session, statement_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ClearingItem.settlement_id)
            .where(ClearingItem.statement_id == statement_id)
            .order_by(ClearingItem.settlement_id)
        )
    )
