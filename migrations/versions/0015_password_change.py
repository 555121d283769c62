"""Users change their own password; a temporary one must be changed at the next sign-in.

- ``users.must_change_password``: set when an administrator resets a password (the user
  got a temporary one at a desk), cleared when the user chooses a new one on
  ``/me/password``; while it is set, signing in leads to that page first.

Revision ID: 0015_password_change
Revises: 0014_gateway
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_password_change"
down_revision: str | None = "0014_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (a NOT NULL column with a default) on both databases: the table is
    # not rebuilt and its rows keep their ids.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as 0009_web_login does for the sign-in columns.
    op.drop_column("users", "must_change_password")
