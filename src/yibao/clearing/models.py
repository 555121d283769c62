"""Clearing statements (清算单) per month and region pair, and what each one holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class ClearingStatement(Base):
    """What the insured region owes the treatment region for a month (fen, per fund)."""

    __tablename__ = "clearing_statements"
    __table_args__ = (
        UniqueConstraint(
            "year_month", "insured_region", "treatment_region", name="uq_clearing_statements_pair"
        ),
        CheckConstraint("state IN ('draft', 'confirmed')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year_month: Mapped[str] = mapped_column(String(7), index=True)
    insured_region: Mapped[str] = mapped_column(String(6))
    treatment_region: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    settlements: Mapped[int] = mapped_column(Integer, default=0)
    reversals: Mapped[int] = mapped_column(Integer, default=0)
    late_entries: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    supplementary_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    assistance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    account_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClearingItem(Base):
    """A settlement or reversal held by a statement; each is cleared exactly once."""

    __tablename__ = "clearing_items"
    __table_args__ = (UniqueConstraint("settlement_id", name="uq_clearing_items_settlement"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("clearing_statements.id"), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))


class AdvanceFund(Base):
    """The advance fund (预付金) the insured region has paid the treatment region of a pair,
    so that the treatment region can pay its institutions before each month is cleared.

    One row per change, never updated: the amount in force on a day is the row of the pair
    with the latest ``effective_from`` on or before that day (the latest recorded among
    rows of the same day). Each row was asked for by one user of the insured region's
    centre (``recorded_by``) and approved by a second one (``approved_by``, 四眼原则).
    """

    __tablename__ = "advance_funds"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount"),
        CheckConstraint("insured_region <> treatment_region", name="pair"),
        CheckConstraint("approved_by <> recorded_by", name="four_eyes"),
        Index("ix_advance_funds_pair", "insured_region", "treatment_region", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    insured_region: Mapped[str] = mapped_column(String(6))
    treatment_region: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approval_id: Mapped[int] = mapped_column(ForeignKey("approvals.id"), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClearedMonth(Base):
    """What confirmed statements took of one pair's settlements of one month (a statement
    takes every month up to its own): subtracted from the settlements' rollups
    (:class:`yibao.settlements.models.FundRollup`) it leaves what awaits clearing, per month,
    without looking at each settlement. Added to when a statement is confirmed."""

    __tablename__ = "cleared_months"

    insured_region: Mapped[str] = mapped_column(String(6), primary_key=True)
    treatment_region: Mapped[str] = mapped_column(String(6), primary_key=True)
    year_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    entries: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    account_fen: Mapped[int] = mapped_column(BigInteger, default=0)
