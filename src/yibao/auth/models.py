"""Platform users and their bearer tokens (stored as argon2 hashes only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base

ROLES = ("insured", "unit", "street_office", "agency", "hospital", "admin")


class User(Base):
    """Someone who calls the API, with a role and the scope that role is limited to."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('insured', 'unit', 'street_office', 'agency', 'hospital', 'admin')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Public half of the token, used to find the row; the secret half is only hashed.
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
