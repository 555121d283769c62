"""Clearing statements (清算单) per month and region pair, and what each one holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
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
