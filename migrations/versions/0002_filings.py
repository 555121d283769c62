"""Filings: off-site filings, their documents and chosen hospitals.

Revision ID: 0002_filings
Revises: 0001_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_filings"
down_revision: str | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("destination", sa.String(length=6), nullable=False),
        sa.Column("requested_start", sa.Date(), nullable=True),
        sa.Column("submitted_via", sa.String(length=20), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("hospitals_chosen", sa.Boolean(), nullable=False),
        sa.Column("referral_hospital_id", sa.Integer(), nullable=True),
        sa.Column("referral_stamp", sa.String(length=12), nullable=True),
        sa.Column("referral_stamped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referral_stamped_by_user_id", sa.Integer(), nullable=True),
        sa.Column("hotline_reference", sa.String(length=60), nullable=True),
        sa.Column("hotline_called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("treatment_start", sa.Date(), nullable=True),
        sa.Column("treatment_end", sa.Date(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("reviewer_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("missing_documents", sa.JSON(), nullable=True),
        sa.Column("return_note", sa.Text(), nullable=True),
        sa.Column("returned_after_document_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("locked_until", sa.Date(), nullable=True),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("renews_filing_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "category IN ('resettled_retiree', 'long_term_resident', 'posted_worker',"
            " 'referral', 'emergency', 'other_temporary')",
            name=op.f("ck_filings_category"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'returned', 'resubmitted', 'approved',"
            " 'rejected', 'cancelled', 'expired')",
            name=op.f("ck_filings_state"),
        ),
        sa.CheckConstraint(
            "submitted_via IN ('person', 'unit', 'street_office', 'agency')",
            name=op.f("ck_filings_submitted_via"),
        ),
        sa.CheckConstraint(
            "referral_stamp IS NULL OR referral_stamp IN ('unstamped', 'stamped')",
            name=op.f("ck_filings_referral_stamp"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_filings_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["insured_region"], ["regions.code"], name=op.f("fk_filings_insured_region_regions")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_filings_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_filings_unit_id_units")),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_filings_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["referral_hospital_id"],
            ["institutions.id"],
            name=op.f("fk_filings_referral_hospital_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_stamped_by_user_id"],
            ["users.id"],
            name=op.f("fk_filings_referral_stamped_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"], ["users.id"], name=op.f("fk_filings_reviewer_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["renews_filing_id"],
            ["filings.id"],
            name=op.f("fk_filings_renews_filing_id_filings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint("number", name=op.f("uq_filings_number")),
    )
    op.create_index(op.f("ix_filings_person_id"), "filings", ["person_id"], unique=False)
    op.create_index(op.f("ix_filings_insured_region"), "filings", ["insured_region"], unique=False)
    op.create_index(op.f("ix_filings_state"), "filings", ["state"], unique=False)
    op.create_index(op.f("ix_filings_destination"), "filings", ["destination"], unique=False)
    op.create_index(op.f("ix_filings_valid_from"), "filings", ["valid_from"], unique=False)

    op.create_table(
        "filing_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_documents_filing_id_filings")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_filing_documents_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_documents")),
    )
    op.create_index(
        op.f("ix_filing_documents_filing_id"), "filing_documents", ["filing_id"], unique=False
    )

    op.create_table(
        "filing_hospitals",
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_hospitals_filing_id_filings")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_filing_hospitals_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("filing_id", "institution_id", name=op.f("pk_filing_hospitals")),
    )


def downgrade() -> None:
    op.drop_table("filing_hospitals")
    op.drop_index(op.f("ix_filing_documents_filing_id"), table_name="filing_documents")
    op.drop_table("filing_documents")
    for column in ("valid_from", "destination", "state", "insured_region", "person_id"):
        op.drop_index(op.f(f"ix_filings_{column}"), table_name="filings")
    op.drop_table("filings")
