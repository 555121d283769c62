"""Signing in to the pages: a login name and a password for people, and web sessions.

- ``users.login`` (unique, ``ix_users_login``), ``users.password_hash`` (argon2),
  ``users.failed_logins`` and ``users.locked_until``: the lockout after repeated failures.
  A user without a password keeps only its bearer token (every user before this revision).
- ``web_sessions``: one row per signed-in browser, found by the SHA-256 of the random token
  its cookie holds, with its expiry and the seed of its forms' CSRF token. Deleting the row
  signs the browser out.

Revision ID: 0009_web_login
Revises: 0008_filing_journeys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_web_login"
down_revision: str | None = "0008_filing_journeys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (SQLite allows it for nullable columns and for a
    # NOT NULL one with a default), so the table is not rebuilt and its rows keep their ids.
    op.add_column("users", sa.Column("login", sa.String(40), nullable=True))
    op.add_column("users", sa.Column("password_hash", sa.String(200), nullable=True))
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_users_login", "users", ["login"], unique=True)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_web_sessions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])


def downgrade() -> None:
    # Sessions and passwords are dropped: everyone signs in again after an upgrade.
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("ix_users_login", table_name="users")
    # Plain DROP COLUMN (SQLite 3.35+): rebuilding ``users`` in a batch would drop a table
    # that every other table's foreign keys point at.
    for column in ("locked_until", "failed_logins", "password_hash", "login"):
        op.drop_column("users", column)
