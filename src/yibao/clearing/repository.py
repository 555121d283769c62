"""Queries of clearing: the settlements to clear and the stored statements."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from yibao.clearing.models import ClearingItem, ClearingStatement
from yibao.settlements.models import SettlementRecord
from yibao.settlements.repository import cleared_between_regions

# Direct settlements at hospitals and pharmacies are cleared between regions; manual
# reimbursements are paid by the insured region itself.


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
                cleared_between_regions(),
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
    session: Session, *, where: ColumnElement[bool], year_month: str | None = None
) -> list[ClearingStatement]:
    """``where`` is the caller's scope (see ``clearing.access``)."""
    stmt = select(ClearingStatement).where(where)
    if year_month is not None:
        stmt = stmt.where(ClearingStatement.year_month == year_month)
    return list(
        session.scalars(
            stmt.order_by(
                ClearingStatement.year_month,
                ClearingStatement.insured_region,
                ClearingStatement.treatment_region,
            )
        )
    )


def drop_drafts(session: Session, *, year_month: str, where: ColumnElement[bool]) -> None:
    """Delete the month's draft statements within ``where`` (the caller's scope)."""
    drafts = select(ClearingStatement.id).where(
        ClearingStatement.year_month == year_month, ClearingStatement.state == "draft", where
    )
    ids = list(session.scalars(drafts))
    session.execute(delete(ClearingItem).where(ClearingItem.statement_id.in_(ids)))
    session.execute(delete(ClearingStatement).where(ClearingStatement.id.in_(ids)))


def item_ids(session: Session, statement_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ClearingItem.settlement_id)
            .where(ClearingItem.statement_id == statement_id)
            .order_by(ClearingItem.settlement_id)
        )
    )
