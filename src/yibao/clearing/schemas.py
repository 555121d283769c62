"""Bodies of the clearing API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from yibao.clearing.advance import SERIOUS_PERCENT, WARNING_PERCENT, Usage
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


class AdvanceUsageRead(BaseModel):
    """A pair's advance fund (预付金) in force, the part in use and its warning level."""

    insured_region: str
    treatment_region: str
    amount: str | None = Field(description="The advance fund in force, yuan; null: none")
    effective_from: date | None
    in_use: str = Field(
        description="Advanced by the treatment region and in no confirmed clearing statement"
    )
    entries: int = Field(description="Settlements and reversals in use")
    since: str | None = Field(description="The earliest month in use")
    usage_percent: str | None = Field(description="In use ÷ amount, percent, rounded down")
    level: str = Field(description="ok, warning (≥70%), serious (≥90%) or no_advance")
    warning_percent: int = WARNING_PERCENT
    serious_percent: int = SERIOUS_PERCENT
    suggested: str = Field(
        description="Twice the average monthly fund payment of the last two complete months"
    )
    suggested_months: list[str]

    @classmethod
    def of(cls, row: Usage) -> AdvanceUsageRead:
        return cls(
            insured_region=row.insured_region,
            treatment_region=row.treatment_region,
            amount=fmt(from_fen(row.amount_fen)) if row.amount_fen is not None else None,
            effective_from=row.effective_from,
            in_use=fmt(from_fen(row.in_use_fen)),
            entries=row.entries,
            since=row.since,
            usage_percent=str(row.percent) if row.percent is not None else None,
            level=row.level,
            suggested=fmt(from_fen(row.suggestion.amount_fen)),
            suggested_months=list(row.suggestion.months),
        )


class AdvanceFundCreate(BaseModel):
    """Record the advance fund the caller's centre has paid a treatment region."""

    treatment_region: str = Field(pattern=r"^\d{6}$", examples=["460200"])
    amount: str = Field(
        pattern=r"^-?\d{1,15}(\.\d{1,2})?$", description="Yuan", examples=["1200000.00"]
    )
    effective_from: date | None = Field(default=None, description="Default: today (China)")
    note: str | None = Field(default=None, max_length=200)
    insured_region: str | None = Field(
        default=None, pattern=r"^\d{6}$", description="Admins only: the region that pays"
    )
