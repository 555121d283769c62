"""Request and response bodies of the reimbursement API (and the CLI's JSON input)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.claim_checks.schemas import FindingRead
from yibao.documents.schemas import ClaimDocumentRead

CaseType = Literal[
    "offsite_no_direct", "emergency_after_discharge", "outpatient_paid_in_full", "card_not_carried"
]
PayoutMethod = Literal["bank_account", "passbook", "family_cash"]

ICD10 = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"


class InvoiceIn(BaseModel):
    number: str = Field(min_length=1, max_length=60, examples=["46020026000123"])
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, examples=["1280.50"])


class LineIn(BaseModel):
    code: str = Field(min_length=1, max_length=60, examples=["D0001"])
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=4, examples=["2"])
    unit_price: Decimal = Field(ge=0, max_digits=14, decimal_places=4, examples=["35.50"])
    service_date: date | None = Field(default=None, description="The day the item was given")


class PayoutIn(BaseModel):
    """Where the money goes: a bank account or passbook (存折), or cash for a family member."""

    method: PayoutMethod
    account_number: str | None = Field(default=None, min_length=4, max_length=40)


class ReimbursementCreate(BaseModel):
    person_id: int
    case_type: CaseType
    setting: Literal["inpatient", "outpatient"]
    institution_id: int = Field(description="The hospital that treated and invoiced")
    treatment_date: date = Field(description="Visit day, or discharge day for inpatients")
    admitted_on: date | None = Field(default=None, description="Inpatients: admission day")
    emergency: bool = False
    liability: str | None = None
    total: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="Stated total")
    diagnoses: list[str] = Field(min_length=1, examples=[["I21.0"]])
    invoices: list[InvoiceIn] = Field(min_length=1)
    lines: list[LineIn] = Field(min_length=1)
    payout: PayoutIn


class ReimbursementAmend(BaseModel):
    """What a returned claim may add before it is resubmitted; everything else is kept."""

    diagnoses: list[str] = Field(default_factory=list)
    invoices: list[InvoiceIn] = Field(default_factory=list)
    note: str | None = Field(default=None, max_length=400)


class ReturnIn(BaseModel):
    missing_documents: list[str] = Field(
        default_factory=list, description="Empty: whatever the policy requires and is missing"
    )
    note: str | None = Field(default=None, max_length=400)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=400)


class PayIn(BaseModel):
    reference: str | None = Field(default=None, max_length=60, description="Bank transfer ref")
    collector_name: str | None = Field(default=None, max_length=100)
    collector_identity_number: str | None = Field(default=None, min_length=18, max_length=18)
    collector_relation: Literal["spouse", "parent", "child", "sibling"] | None = None


class OverrideIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=400, description="Why the claim is approved despite its findings"
    )


class InvoiceRead(BaseModel):
    number: str
    amount: str


class LineRead(BaseModel):
    line_no: int
    code: str
    quantity: str
    unit_price: str
    service_date: date | None


class ReimbursementRead(BaseModel):
    id: int
    person_id: int
    state: str
    allowed_actions: list[str]
    case_type: str
    setting: str
    institution_id: int
    insured_region: str
    treatment_region: str
    treatment_date: date
    admitted_on: date | None
    emergency: bool
    total: str
    diagnoses: list[str]
    submitted_via: str
    submitted_at: datetime
    required_documents: list[str]
    documents_still_missing: list[str]
    missing_documents: list[str]
    return_note: str | None
    rejection_reason: str | None
    filing_type: str | None
    settlement_id: int | None
    settlement: dict[str, Any] | None
    payout: str | None
    payout_method: str | None
    payout_account_masked: str | None
    collector_name: str | None
    collector_identity_masked: str | None
    collector_relation: str | None
    payout_reference: str | None
    paid_at: datetime | None
    invoices: list[InvoiceRead]
    lines: list[LineRead]
    documents: list[ClaimDocumentRead]
    findings: list[FindingRead]


class ReimbursementSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    state: str
    case_type: str
    setting: str
    treatment_date: date
    insured_region: str
    treatment_region: str
