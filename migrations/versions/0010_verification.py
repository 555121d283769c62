"""Printed documents that anyone can verify: ``issued_documents``.

One row per printed version of a filing certificate, settlement slip, decision letter or
clearing statement: its kind and object, the document number, the issuer, the time, and
the SHA-256 of its verification code (the code itself is derived from the row's salt and
the platform's secret key, never stored).

Revision ID: 0010_verification
Revises: 0009_web_login
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_verification"
down_revision: str | None = "0009_web_login"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "filing_certificate",
    "settlement_slip",
    "claim_decision",
    "claim_return",
    "clearing_statement",
)


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("number", sa.String(60), nullable=False),
        sa.Column("issuer", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name="ck_issued_documents_kind",
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name="fk_issued_documents_issued_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_issued_documents"),
        sa.UniqueConstraint("code_hash", name="uq_issued_documents_code_hash"),
    )
    op.create_index("ix_issued_documents_object", "issued_documents", ["kind", "object_id"])


def downgrade() -> None:
    op.drop_index("ix_issued_documents_object", table_name="issued_documents")
    op.drop_table("issued_documents")
