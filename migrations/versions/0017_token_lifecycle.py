"""API tokens with an expiry, revocation and rotation.

Revision ID: 0017_token_lifecycle
Revises: 0016_page_indexes
"""

from collections.abc import Sequence

revision: str = "0017_token_lifecycle"
down_revision: str | None = "0016_page_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
