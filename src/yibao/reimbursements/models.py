"""Manual reimbursement (零星报销) tables: claims, their invoices and fee lines (documents:
:mod:`yibao.documents`).

Money is whole fen; quantities and unit prices carry up to 4 decimals and are stored as
integers scaled by 10,000 (``*_e4``), as direct settlement stores them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base

CASE_TYPES = (
    "offsite_no_direct",
    "emergency_after_discharge",
    "outpatient_paid_in_full",
    "card_not_carried",
)
PAYOUT_METHODS = ("bank_account", "passbook", "family_cash")


class ReimbursementClaim(Base):
    """A claim for money paid in full, from submission to payout."""

    __tablename__ = "reimbursement_claims"
    __table_args__ = (
        CheckConstraint(
            "state IN ('submitted', 'under_review', 'returned', 'resubmitted', 'approved',"
            " 'rejected', 'paid')",
            name="state",
        ),
        CheckConstraint("setting IN ('inpatient', 'outpatient')", name="setting"),
        CheckConstraint(
            "payout_method IS NULL OR payout_method IN ('bank_account', 'passbook', 'family_cash')",
            name="payout_method",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    case_type: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(12))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    treatment_region: Mapped[str] = mapped_column(String(6))
    insured_region: Mapped[str] = mapped_column(String(6), index=True)
    # The visit day (outpatient) or the discharge day (inpatient): the settlement's date.
    treatment_date: Mapped[date] = mapped_column(Date)
    admitted_on: Mapped[date | None] = mapped_column(Date)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    liability: Mapped[str | None] = mapped_column(String(30))
    declared_total_fen: Mapped[int] = mapped_column(BigInteger)
    # ICD-10 codes, main diagnosis first.
    diagnoses: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_via: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Documents the policy requires for this case (fixed at submission).
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What was missing when last returned, and the reviewer's note.
    missing_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    return_note: Mapped[str | None] = mapped_column(String(400))
    rejection_reason: Mapped[str | None] = mapped_column(String(400))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    filing_type: Mapped[str | None] = mapped_column(String(30))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    # What the person gets back: the funds' share plus what the personal account pays.
    payout_fen: Mapped[int | None] = mapped_column(BigInteger)
    payout_method: Mapped[str | None] = mapped_column(String(20))
    payout_account: Mapped[str | None] = mapped_column(String(40))
    collector_name: Mapped[str | None] = mapped_column(String(100))
    collector_identity: Mapped[str | None] = mapped_column(String(18))
    collector_relation: Mapped[str | None] = mapped_column(String(20))
    payout_reference: Mapped[str | None] = mapped_column(String(60))
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReimbursementInvoice(Base):
    """An invoice (发票) attached to a claim: its number and amount."""

    __tablename__ = "reimbursement_invoices"
    __table_args__ = (
        UniqueConstraint("claim_id", "number", name="uq_reimbursement_invoices_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("reimbursement_claims.id"), index=True)
    number: Mapped[str] = mapped_column(String(60), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class ReimbursementLine(Base):
    """A fee line of the hospital's detailed list (费用明细)."""

    __tablename__ = "reimbursement_lines"
    __table_args__ = (UniqueConstraint("claim_id", "line_no", name="uq_reimbursement_lines_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("reimbursement_claims.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(60))
    quantity_e4: Mapped[int] = mapped_column(BigInteger)
    unit_price_e4: Mapped[int] = mapped_column(BigInteger)
    service_date: Mapped[date | None] = mapped_column(Date)


__all__ = [
    "CASE_TYPES",
    "PAYOUT_METHODS",
    "ReimbursementClaim",
    "ReimbursementInvoice",
    "ReimbursementLine",
]
