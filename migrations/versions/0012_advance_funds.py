"""The advance fund (预付金) between regions: what an insured region has paid a treatment
region ahead of clearing, one row per change (``yibao.clearing.advance``).

- ``advance_funds``: the pair (insured → treatment region), the amount in fen (never
  negative), the day it takes effect, who asked for it and who approved it (never the same
  user), the approval it came from, and when it was recorded. The amount in force on a day
  is the latest row of the pair effective on or before it.

Revision ID: 0012_advance_funds
Revises: 0011_self_registration
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_advance_funds"
down_revision: str | None = "0011_self_registration"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advance_funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insured_region", sa.String(6), nullable=False),
        sa.Column("treatment_region", sa.String(6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_advance_funds_amount")),
        sa.CheckConstraint(
            "insured_region <> treatment_region", name=op.f("ck_advance_funds_pair")
        ),
        sa.CheckConstraint("approved_by <> recorded_by", name=op.f("ck_advance_funds_four_eyes")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_advance_funds_recorded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name=op.f("fk_advance_funds_approved_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approvals.id"], name=op.f("fk_advance_funds_approval_id_approvals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advance_funds")),
        sa.UniqueConstraint("approval_id", name=op.f("uq_advance_funds_approval_id")),
    )
    op.create_index(
        "ix_advance_funds_pair",
        "advance_funds",
        ["insured_region", "treatment_region", "effective_from"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_advance_funds_pair", table_name="advance_funds")
    op.drop_table("advance_funds")
