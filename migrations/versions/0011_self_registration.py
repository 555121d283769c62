"""Insured persons register themselves with a one-time code (being written).

Revision ID: 0011_self_registration
Revises: 0010_verification
"""

from collections.abc import Sequence

revision: str = "0011_self_registration"
down_revision: str | None = "0010_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
