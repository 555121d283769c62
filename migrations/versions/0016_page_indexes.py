"""Indexes for the pages' lists: a hospital's settlements of one day (the window's
settlement list) are found by ``(institution_id, created_at)`` instead of walking the
hospital's settlements newest first.

Revision ID: 0016_page_indexes
Revises: 0015_password_change
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_page_indexes"
down_revision: str | None = "0015_password_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_settlements_institution_created", "settlements", ["institution_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_settlements_institution_created", table_name="settlements")
