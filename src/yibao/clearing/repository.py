"""Queries of clearing: the settlements to clear and the stored statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, case, delete, func, select
from sqlalchemy.orm import Session

from yibao.clearing.models import AdvanceFund, ClearedMonth, ClearingItem, ClearingStatement
from yibao.settlements.models import FundRollup, SettlementRecord
from yibao.settlements.repository import cleared_between_regions
from yibao.upsert import AddingUpsert

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


def statement_settlements(
    session: Session, statement_id: int, *, limit: int | None = None, offset: int = 0
) -> list[SettlementRecord]:
    """The settlements and reversals a statement holds, newest first (one query; ``limit``
    None: every one, for an export)."""
    s = SettlementRecord
    stmt = (
        select(s)
        .join(ClearingItem, ClearingItem.settlement_id == s.id)
        .where(ClearingItem.statement_id == statement_id)
        .order_by(s.id.desc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def months(
    session: Session, *, where: ColumnElement[bool], year: int | None = None
) -> list[Row[Any]]:
    """Per month of the stored statements within ``where`` (the caller's scope): how many
    statements, how many confirmed, and the sums of their counts and funds (fen), newest
    month first. One query, grouped in the database."""
    c = ClearingStatement
    stmt = select(
        c.year_month,
        func.count(c.id).label("statements"),
        func.sum(case((c.state == "confirmed", 1), else_=0)).label("confirmed"),
        func.sum(c.settlements).label("settlements"),
        func.sum(c.reversals).label("reversals"),
        func.sum(c.total_fen).label("total_fen"),
        func.sum(c.pool_fen).label("pool_fen"),
        func.sum(c.supplementary_fen).label("supplementary_fen"),
        func.sum(c.assistance_fen).label("assistance_fen"),
        func.sum(c.account_fen).label("account_fen"),
        func.sum(c.cash_fen).label("cash_fen"),
    ).where(where)
    if year is not None:
        stmt = stmt.where(c.year_month >= f"{year:04d}-01", c.year_month <= f"{year:04d}-12")
    stmt = stmt.group_by(c.year_month).order_by(c.year_month.desc())
    return list(session.execute(stmt))


@dataclass(frozen=True, slots=True)
class Outstanding:
    """One pair's settlements that no confirmed statement holds yet."""

    insured_region: str
    treatment_region: str
    entries: int  # settlements and reversals
    since: str | None  # the earliest month among them
    fund_fen: int
    account_fen: int

    @property
    def due_fen(self) -> int:
        """What clearing will ask the insured region to repay: the funds' and accounts'."""
        return self.fund_fen + self.account_fen


def outstanding(
    session: Session, *, insured_region: str | None, treatment_region: str | None
) -> list[Outstanding]:
    """Per region pair, what clearing counts and no confirmed statement holds yet: how many
    settlements and reversals, since which month, and the sums in fen of what the treatment
    region paid its institutions for the insured region (the funds' parts and the personal
    account's: what clearing will ask it to repay).

    Read from the settlements' rollups per month less what confirmed statements took of
    each month (:class:`ClearedMonth`): two grouped queries over a few rows per month,
    however many settlements there are."""
    r = FundRollup
    rolled = select(
        r.insured_region,
        r.treatment_region,
        r.year_month,
        func.sum(r.settlements + r.reversals).label("entries"),
        func.sum(r.fund_fen).label("fund_fen"),
        func.sum(r.account_fen).label("account_fen"),
    ).where(cleared_between_regions(FundRollup))
    c = ClearedMonth
    cleared = select(
        c.insured_region, c.treatment_region, c.year_month, c.entries, c.fund_fen, c.account_fen
    )
    if insured_region is not None:
        rolled = rolled.where(r.insured_region == insured_region)
        cleared = cleared.where(c.insured_region == insured_region)
    if treatment_region is not None:
        rolled = rolled.where(r.treatment_region == treatment_region)
        cleared = cleared.where(c.treatment_region == treatment_region)
    rolled = rolled.group_by(r.insured_region, r.treatment_region, r.year_month)
    left: dict[tuple[str, str, str], list[int]] = {}
    for row in session.execute(rolled):
        key = (row.insured_region, row.treatment_region, row.year_month)
        left[key] = [int(row.entries or 0), int(row.fund_fen or 0), int(row.account_fen or 0)]
    for row in session.execute(cleared):
        key = (row.insured_region, row.treatment_region, row.year_month)
        figures = left.setdefault(key, [0, 0, 0])
        figures[0] -= row.entries
        figures[1] -= row.fund_fen
        figures[2] -= row.account_fen
    pairs: dict[tuple[str, str], Outstanding] = {}
    for (insured, treatment, month), (entries, fund, account) in sorted(left.items()):
        if entries == 0:
            continue
        before = pairs.get((insured, treatment))
        pairs[(insured, treatment)] = Outstanding(
            insured_region=insured,
            treatment_region=treatment,
            entries=entries + (before.entries if before else 0),
            since=before.since if before else month,
            fund_fen=fund + (before.fund_fen if before else 0),
            account_fen=account + (before.account_fen if before else 0),
        )
    return [pairs[pair] for pair in sorted(pairs)]


_ADD_CLEARED = AddingUpsert(
    ClearedMonth.__table__,  # type: ignore[arg-type]
    key=("insured_region", "treatment_region", "year_month"),
    sums=("entries", "fund_fen", "account_fen"),
)


def add_cleared_months(session: Session, *, statement_id: int) -> None:
    """A statement was confirmed: what it holds, per month of its settlements, is added to
    :class:`ClearedMonth` (one grouped query over the statement's items)."""
    s = SettlementRecord
    rows = session.execute(
        select(
            s.insured_region,
            s.treatment_region,
            s.year_month,
            func.count(s.id).label("entries"),
            func.sum(s.fund_pay_total_fen).label("fund_fen"),
            func.sum(s.account_pay_fen).label("account_fen"),
        )
        .join(ClearingItem, ClearingItem.settlement_id == s.id)
        .where(ClearingItem.statement_id == statement_id)
        .group_by(s.insured_region, s.treatment_region, s.year_month)
    )
    _ADD_CLEARED(session, [dict(row._mapping) for row in rows])


def advance_funds_on(
    session: Session, *, where: ColumnElement[bool], on: date
) -> list[AdvanceFund]:
    """Per region pair within ``where`` (the caller's scope), the advance fund in force on
    ``on``: the row with the latest ``effective_from`` on or before it (the latest
    recorded on a tie). One query, ranked in the database."""
    a = AdvanceFund
    ranked = (
        select(
            a.id,
            func.row_number()
            .over(
                partition_by=(a.insured_region, a.treatment_region),
                order_by=(a.effective_from.desc(), a.id.desc()),
            )
            .label("rank"),
        )
        .where(where, a.effective_from <= on)
        .subquery()
    )
    return list(
        session.scalars(
            select(a)
            .join(ranked, ranked.c.id == a.id)
            .where(ranked.c.rank == 1)
            .order_by(a.insured_region, a.treatment_region)
        )
    )


def advance_fund_history(
    session: Session,
    *,
    where: ColumnElement[bool],
    insured_region: str,
    treatment_region: str,
    limit: int = 50,
) -> list[AdvanceFund]:
    """The recorded advance funds of one pair within ``where``, newest effective first."""
    a = AdvanceFund
    return list(
        session.scalars(
            select(a)
            .where(
                where, a.insured_region == insured_region, a.treatment_region == treatment_region
            )
            .order_by(a.effective_from.desc(), a.id.desc())
            .limit(limit)
        )
    )


def fund_payments(
    session: Session,
    *,
    months: tuple[str, ...],
    insured_region: str | None,
    treatment_region: str | None,
) -> list[Row[Any]]:
    """Per region pair, what the funds paid (pool, supplementary, assistance; reversals
    count against it) in the settlements clearing counts, stored in ``months``: the sum in
    fen. One grouped query over the settlements' rollups."""
    r = FundRollup
    stmt = select(
        r.insured_region,
        r.treatment_region,
        func.sum(r.fund_fen).label("fund_fen"),
    ).where(cleared_between_regions(FundRollup), r.year_month.in_(months))
    if insured_region is not None:
        stmt = stmt.where(r.insured_region == insured_region)
    if treatment_region is not None:
        stmt = stmt.where(r.treatment_region == treatment_region)
    stmt = stmt.group_by(r.insured_region, r.treatment_region)
    return list(session.execute(stmt))
