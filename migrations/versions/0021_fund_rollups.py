"""Fund totals kept as settlements are stored, for the agency's dashboard.

Revision ID: 0021_fund_rollups
Revises: 0020_identity_reads
"""

from collections.abc import Sequence

revision: str = "0021_fund_rollups"
down_revision: str | None = "0020_identity_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
