"""Platform users, their bearer tokens (stored as argon2 hashes only, with an expiry,
revocation and rotation), and the sign-in of people to the pages: a login name, a password
hash, the lockout counters, and server-side web sessions (so that signing out and expiry are
real)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    func,
)
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
        # A unique index, not a constraint: SQLite cannot add a constraint to a table.
        Index("ix_users_login", "login", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Public half of the token, used to find the row; the secret half is only hashed.
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    # The token's life (yibao.auth.tokens): when it was issued; when it expires (None: the
    # default lifetime from issue, YIBAO_LIMIT_TOKEN_LIFETIME_DAYS); when it was revoked;
    # when it was last used (to the hour); the id of the token it replaced, if rotated.
    token_issued_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_rotated_from: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Signing in to the pages (yibao.auth.passwords): the name typed at the sign-in form and
    # an argon2 hash of the password; None: this user has only its bearer token.
    login: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Failed sign-ins in a row; at the limit the account is locked until ``locked_until``.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when an administrator gave a temporary password: the user chooses a new one at
    # the next sign-in (cleared by :func:`yibao.users.service.change_own_password`).
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class WebSession(Base):
    """A signed-in browser (yibao.auth.sessions). The cookie holds a random token; the row
    is found by its SHA-256, so the table alone signs nobody in. Deleting the row signs the
    browser out."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Last request of this browser (to a few minutes; None: none since sign-in): a session
    # left idle for ``SESSION_IDLE`` ends, whatever ``expires_at`` says.
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Seed of the CSRF token of this session's forms (never sent in a cookie).
    csrf_secret: Mapped[str] = mapped_column(String(64))
