"""Bodies of the clearing API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from yibao.clearing.models import ClearingStatement
from yibao.money import fmt, from_fen


class StatementRead(BaseModel):
    id: int
    month: str
    insured_region: str
    treatment_region: str
    state: str
    settlements: int
    reversals: int
    late_entries: int
    total: str
    pool: str
    supplementary: str
    assistance: str
    account: str
    cash: str
    fund_total: str
    amount_due: str
    built_at: datetime
    confirmed_at: datetime | None

    @classmethod
    def of(cls, row: ClearingStatement) -> StatementRead:
        def money(fen: int) -> str:
            return fmt(from_fen(fen))

        fund = row.pool_fen + row.supplementary_fen + row.assistance_fen
        return cls(
            id=row.id,
            month=row.year_month,
            insured_region=row.insured_region,
            treatment_region=row.treatment_region,
            state=row.state,
            settlements=row.settlements,
            reversals=row.reversals,
            late_entries=row.late_entries,
            total=money(row.total_fen),
            pool=money(row.pool_fen),
            supplementary=money(row.supplementary_fen),
            assistance=money(row.assistance_fen),
            account=money(row.account_fen),
            cash=money(row.cash_fen),
            fund_total=money(fund),
            amount_due=money(fund + row.account_fen),
            built_at=row.built_at,
            confirmed_at=row.confirmed_at,
        )
