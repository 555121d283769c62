"""Reconciliations (对账) submitted by hospitals, with Yibao's answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class Reconciliation(Base):
    """A hospital's totals (and optional details) for a period, and every difference found."""

    __tablename__ = "reconciliations"
    __table_args__ = (CheckConstraint("status IN ('matched', 'differences')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    stated_count: Mapped[int] = mapped_column(Integer)
    stated_total_fen: Mapped[int] = mapped_column(BigInteger)
    stated_fund_pay_fen: Mapped[int] = mapped_column(BigInteger)
    our_count: Mapped[int] = mapped_column(Integer)
    our_total_fen: Mapped[int] = mapped_column(BigInteger)
    our_fund_pay_fen: Mapped[int] = mapped_column(BigInteger)
    details_given: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))
    differences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
