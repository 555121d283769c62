"""Reimbursements: manual claims, audit findings, clearing statements, reconciliations.

Revision ID: 0004_reimbursements
Revises: 0003_settlements
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reimbursements"
down_revision: str | None = "0003_settlements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "reimbursement_claims",
    "reimbursement_invoices",
    "reimbursement_lines",
    "reimbursement_documents",
    "audit_findings",
    "audit_runs",
    "clearing_statements",
    "clearing_items",
    "reconciliations",
)


def upgrade() -> None:
    op.create_table(
        "reimbursement_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("case_type", sa.String(length=40), nullable=False),
        sa.Column("setting", sa.String(length=12), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("treatment_region", sa.String(length=6), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("treatment_date", sa.Date(), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("liability", sa.String(length=30), nullable=True),
        sa.Column("declared_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("submitted_via", sa.String(length=20), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("required_documents", sa.JSON(), nullable=False),
        sa.Column("missing_documents", sa.JSON(), nullable=False),
        sa.Column("return_note", sa.String(length=400), nullable=True),
        sa.Column("rejection_reason", sa.String(length=400), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("filing_type", sa.String(length=30), nullable=True),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.Column("payout_fen", sa.BigInteger(), nullable=True),
        sa.Column("payout_method", sa.String(length=20), nullable=True),
        sa.Column("payout_account", sa.String(length=40), nullable=True),
        sa.Column("collector_name", sa.String(length=100), nullable=True),
        sa.Column("collector_identity", sa.String(length=18), nullable=True),
        sa.Column("collector_relation", sa.String(length=20), nullable=True),
        sa.Column("payout_reference", sa.String(length=60), nullable=True),
        sa.Column("paid_by", sa.Integer(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "payout_method IS NULL OR payout_method IN ('bank_account', 'passbook', 'family_cash')",
            name=op.f("ck_reimbursement_claims_payout_method"),
        ),
        sa.CheckConstraint(
            "setting IN ('inpatient', 'outpatient')", name=op.f("ck_reimbursement_claims_setting")
        ),
        sa.CheckConstraint(
            "state IN ('submitted', 'under_review', 'returned', 'resubmitted', 'approved',"
            " 'rejected', 'paid')",
            name=op.f("ck_reimbursement_claims_state"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_reimbursement_claims_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_by"], ["users.id"], name=op.f("fk_reimbursement_claims_paid_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_reimbursement_claims_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"], ["users.id"], name=op.f("fk_reimbursement_claims_reviewed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_reimbursement_claims_settlement_id_settlements"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_reimbursement_claims_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_claims")),
    )
    op.create_index(
        op.f("ix_reimbursement_claims_institution_id"),
        "reimbursement_claims",
        ["institution_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reimbursement_claims_insured_region"),
        "reimbursement_claims",
        ["insured_region"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reimbursement_claims_person_id"),
        "reimbursement_claims",
        ["person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reimbursement_claims_state"), "reimbursement_claims", ["state"], unique=False
    )
    op.create_table(
        "reimbursement_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["reimbursement_claims.id"],
            name=op.f("fk_reimbursement_invoices_claim_id_reimbursement_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_invoices")),
        sa.UniqueConstraint("claim_id", "number", name="uq_reimbursement_invoices_number"),
    )
    op.create_index(
        op.f("ix_reimbursement_invoices_claim_id"),
        "reimbursement_invoices",
        ["claim_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_reimbursement_invoices_number"), "reimbursement_invoices", ["number"], unique=False
    )
    op.create_table(
        "reimbursement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("quantity_e4", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_e4", sa.BigInteger(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["reimbursement_claims.id"],
            name=op.f("fk_reimbursement_lines_claim_id_reimbursement_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_lines")),
        sa.UniqueConstraint("claim_id", "line_no", name="uq_reimbursement_lines_no"),
    )
    op.create_index(
        op.f("ix_reimbursement_lines_claim_id"), "reimbursement_lines", ["claim_id"], unique=False
    )
    op.create_table(
        "reimbursement_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["reimbursement_claims.id"],
            name=op.f("fk_reimbursement_documents_claim_id_reimbursement_claims"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_reimbursement_documents_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_documents")),
    )
    op.create_index(
        op.f("ix_reimbursement_documents_claim_id"),
        "reimbursement_documents",
        ["claim_id"],
        unique=False,
    )
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=400), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('reimbursement', 'settlement')",
            name=op.f("ck_audit_findings_subject_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
    )
    op.create_index(op.f("ix_audit_findings_code"), "audit_findings", ["code"], unique=False)
    op.create_index(
        op.f("ix_audit_findings_person_id"), "audit_findings", ["person_id"], unique=False
    )
    op.create_index(
        "ix_audit_findings_subject", "audit_findings", ["subject_kind", "subject_id"], unique=False
    )
    op.create_table(
        "audit_runs",
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('reimbursement', 'settlement')",
            name=op.f("ck_audit_runs_subject_kind"),
        ),
        sa.PrimaryKeyConstraint("subject_kind", "subject_id", name=op.f("pk_audit_runs")),
    )
    op.create_table(
        "clearing_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year_month", sa.String(length=7), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("treatment_region", sa.String(length=6), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("settlements", sa.Integer(), nullable=False),
        sa.Column("reversals", sa.Integer(), nullable=False),
        sa.Column("late_entries", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("pool_fen", sa.BigInteger(), nullable=False),
        sa.Column("supplementary_fen", sa.BigInteger(), nullable=False),
        sa.Column("assistance_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'confirmed')", name=op.f("ck_clearing_statements_state")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["users.id"], name=op.f("fk_clearing_statements_confirmed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_statements")),
        sa.UniqueConstraint(
            "year_month", "insured_region", "treatment_region", name="uq_clearing_statements_pair"
        ),
    )
    op.create_index(
        op.f("ix_clearing_statements_year_month"),
        "clearing_statements",
        ["year_month"],
        unique=False,
    )
    op.create_table(
        "clearing_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_clearing_items_settlement_id_settlements"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["clearing_statements.id"],
            name=op.f("fk_clearing_items_statement_id_clearing_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearing_items")),
        sa.UniqueConstraint("settlement_id", name="uq_clearing_items_settlement"),
    )
    op.create_index(
        op.f("ix_clearing_items_statement_id"), "clearing_items", ["statement_id"], unique=False
    )
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("stated_count", sa.Integer(), nullable=False),
        sa.Column("stated_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("stated_fund_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("our_count", sa.Integer(), nullable=False),
        sa.Column("our_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("our_fund_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("details_given", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('matched', 'differences')", name=op.f("ck_reconciliations_status")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_reconciliations_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["users.id"], name=op.f("fk_reconciliations_submitted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    op.create_index(
        op.f("ix_reconciliations_institution_id"),
        "reconciliations",
        ["institution_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
