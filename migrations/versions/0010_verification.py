"""Printed documents that anyone can verify (being written).

Revision ID: 0010_verification
Revises: 0009_web_login
"""

from collections.abc import Sequence

revision: str = "0010_verification"
down_revision: str | None = "0009_web_login"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
