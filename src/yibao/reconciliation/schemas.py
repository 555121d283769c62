"""Bodies of the reconciliation API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from yibao.money import fmt, from_fen
from yibao.reconciliation.models import Reconciliation


class ReconciliationCreate(BaseModel):
    institution_id: int | None = Field(default=None, description="Hospitals: their own")
    period_from: date
    period_to: date
    count: int = Field(ge=0, description="Settlements and reversals the hospital recorded")
    total: Decimal = Field(max_digits=16, decimal_places=2)
    fund_pay: Decimal = Field(max_digits=16, decimal_places=2)
    details_csv: str | None = Field(
        default=None, description="Optional CSV: ref,total,fund_pay (ref = message id)"
    )


class ReconciliationRead(BaseModel):
    id: int
    institution_id: int
    period_from: date
    period_to: date
    status: str
    stated: dict[str, Any]
    ours: dict[str, Any]
    details_given: bool
    differences: list[dict[str, Any]]
    submitted_at: datetime

    @classmethod
    def of(cls, row: Reconciliation) -> ReconciliationRead:
        return cls(
            id=row.id,
            institution_id=row.institution_id,
            period_from=row.period_from,
            period_to=row.period_to,
            status=row.status,
            stated={
                "count": row.stated_count,
                "total": fmt(from_fen(row.stated_total_fen)),
                "fund_pay": fmt(from_fen(row.stated_fund_pay_fen)),
            },
            ours={
                "count": row.our_count,
                "total": fmt(from_fen(row.our_total_fen)),
                "fund_pay": fmt(from_fen(row.our_fund_pay_fen)),
            },
            details_given=row.details_given,
            differences=list(row.differences),
            submitted_at=row.submitted_at,
        )
