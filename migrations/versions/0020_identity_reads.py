"""Every read of a full identity number recorded: who, whose, when, why.

Revision ID: 0020_identity_reads
Revises: 0019_check_constraints
"""

from collections.abc import Sequence

revision: str = "0020_identity_reads"
down_revision: str | None = "0019_check_constraints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
