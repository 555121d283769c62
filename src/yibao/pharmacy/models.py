"""Pharmacy sales (药店购药): who bought, for whom, whose account paid, what was refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class PharmacySale(Base):
    """A sale settled against the card; the money lives in its settlement record."""

    __tablename__ = "pharmacy_sales"
    __table_args__ = (CheckConstraint("state IN ('settled', 'reversed')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), unique=True)
    # The card holder at the counter, the person the drugs are for, and whose account paid.
    holder_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    patient_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # The buyer's identity record when buying for another person (masked number + name).
    buyer_identity_masked: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="settled")
    # Lines refused one by one: [{"line_id", "code", "reason"}] (JSON text).
    refused: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
