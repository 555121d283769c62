"""Third-party recovery cases (第三方追偿, Social Insurance Law art. 30)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class RecoveryCase(Base):
    """The fund paid in advance for an unresolved third party; the agency recovers it."""

    __tablename__ = "recovery_cases"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'closed', 'cancelled')", name="state"),
        CheckConstraint("recovered_fen >= 0", name="recovered_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insured_region: Mapped[str] = mapped_column(String(6), index=True)
    treatment_region: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(12), default="open")
    note: Mapped[str | None] = mapped_column(String(400))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
