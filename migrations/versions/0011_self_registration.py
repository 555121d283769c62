"""Insured persons register themselves with a one-time code sent to their phone.

- ``persons.phone``: the mobile phone registered for the person (nullable: registered at a
  window). Plain ADD COLUMN on both databases.
- ``one_time_codes``: one row per code asked for, keyed by a keyed digest of the identity
  number (``subject``), the code's digest, its expiry, the tries, and once verified the
  digest of the ticket of the last step (``yibao.users.registration``).

Revision ID: 0011_self_registration
Revises: 0010_verification
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_self_registration"
down_revision: str | None = "0010_verification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("persons", sa.Column("phone", sa.String(20), nullable=True))
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_hash", sa.String(64), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_one_time_codes_person_id_persons"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_codes"),
        sa.UniqueConstraint("ticket_hash", name="uq_one_time_codes_ticket_hash"),
    )
    op.create_index(
        "ix_one_time_codes_subject_created", "one_time_codes", ["subject", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_one_time_codes_subject_created", table_name="one_time_codes")
    op.drop_table("one_time_codes")
    # Plain DROP COLUMN (SQLite 3.35+), as 0009 does for ``users``.
    op.drop_column("persons", "phone")
