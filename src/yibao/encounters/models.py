"""Encounter tables (就诊登记 / 入院登记): encounters and their uploaded fee lines.

Same tables as before the package existed (``encounters``, ``fee_lines``): no migration.
Quantities and unit prices are stored as integers of 1/10,000 (``*_e4``), never floats.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class Encounter(Base):
    """An outpatient visit (门诊登记) or an inpatient admission (入院登记) at a hospital."""

    __tablename__ = "encounters"
    __table_args__ = (
        CheckConstraint("setting IN ('inpatient', 'outpatient')", name="setting"),
        CheckConstraint("state IN ('open', 'settled', 'cancelled')", name="state"),
        UniqueConstraint("institution_id", "hospital_ref", name="uq_encounters_hospital_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    setting: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12), default="open")
    # The hospital's own visit / admission number (就诊ID), unique per hospital when given.
    hospital_ref: Mapped[str | None] = mapped_column(String(60))
    started_on: Mapped[date] = mapped_column(Date)
    deposit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    liability: Mapped[str | None] = mapped_column(String(30))
    diagnosis: Mapped[str | None] = mapped_column(String(20))
    # The discharge day the hospital recorded (出院办理, the national interface's 2402);
    # None until then, and again after the discharge is cancelled (2405).
    discharged_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FeeLine(Base):
    """One uploaded fee detail (费用明细), identified by the hospital's own line id."""

    __tablename__ = "fee_lines"
    __table_args__ = (
        UniqueConstraint("encounter_id", "line_id", name="uq_fee_lines_line_id"),
        CheckConstraint("state IN ('active', 'withdrawn')", name="state"),
        CheckConstraint("quantity_e4 >= 0 AND unit_price_e4 >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    line_id: Mapped[str] = mapped_column(String(60))
    batch_no: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(60))
    quantity_e4: Mapped[int] = mapped_column(BigInteger)
    unit_price_e4: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), default="active")
    # The hospital's own code of the item (医疗机构目录编码), kept for reconciliation; the
    # line is settled by ``code``, the treatment region's catalog code.
    hospital_code: Mapped[str | None] = mapped_column(String(60))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
