"""CHECK constraints: non-negative money, state values, per-row money identities.

Revision ID: 0019_check_constraints
Revises: 0018_audit_chain
"""

from collections.abc import Sequence

revision: str = "0019_check_constraints"
down_revision: str | None = "0018_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
