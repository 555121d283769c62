"""Four-eyes approvals (双人复核): money that no engine computed waits for a second person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class Approval(Base):
    """One request to do something that needs a second user's approval.

    ``payload`` holds the request exactly as the first user made it (JSON); the action is
    carried out from it, unchanged, when a second user approves.
    """

    __tablename__ = "approvals"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state"),
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(400))
    result: Mapped[str | None] = mapped_column(Text)
