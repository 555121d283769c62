"""Request and response bodies of the filing API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.documents.schemas import FilingDocumentRead

# The platform's categories (yibao.filings.rules.CATEGORIES); a test keeps the two equal.
Category = Literal[
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
    "minor_with_parents",
    "resident_mother_postnatal",
    "referral",
    "emergency",
    "other_temporary",
]


class HotlineApprovalIn(BaseModel):
    """The insured region's hotline agreed before the emergency was filed (电话备案)."""

    reference: str = Field(min_length=1, max_length=60, examples=["12393-20260510-0042"])
    called_at: datetime


class FilingCreate(BaseModel):
    person_id: int
    category: Category
    destination: str = Field(
        pattern=r"^\d{6}$", description="Province PP0000 or city PPCC00", examples=["460200"]
    )
    requested_start: date | None = None
    hospital_ids: list[int] | None = Field(
        default=None, description="Chosen hospitals where the insured region requires a choice"
    )
    referral_hospital_id: int | None = Field(
        default=None, description="The hospital issuing the referral certificate (referral)"
    )
    hotline: HotlineApprovalIn | None = Field(
        default=None, description="Emergency filed afterwards: the hotline approval"
    )
    treatment_start: date | None = None
    treatment_end: date | None = None


class FilingChange(BaseModel):
    """After the lock period: a new destination, hospitals or category (same kind)."""

    destination: str | None = Field(default=None, pattern=r"^\d{6}$")
    hospital_ids: list[int] | None = None
    category: Category | None = None


class FilingCorrect(FilingChange):
    """The centre's correction (更正), inside the lock period too; the reason is audited."""

    reason: str = Field(min_length=1, max_length=2000)


class FilingWithdraw(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class FilingReject(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class FilingReturn(BaseModel):
    missing_documents: list[str] = Field(min_length=1, examples=[["residence_proof"]])
    note: str | None = None


class FilingCancel(BaseModel):
    reason: str | None = None


class HospitalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    region_code: str
    level: int | None
    specialty: str
    # Seed 000: the hospital's stamp on the resettlement form, where the region asks for it.
    stamped_at: datetime | None = None


class FilingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str | None
    person_id: int
    insured_region: str
    category: str
    category_name: str = ""
    state: str
    allowed_actions: list[str] = Field(
        default=[], description="Routes the caller may call now: POST /filings/{id}/<action>"
    )
    destination: str
    submitted_via: str
    requested_start: date | None
    hospitals_chosen: bool
    hospitals: list[HospitalRead] = []
    referral_hospital_id: int | None
    referral_stamp: str | None
    referral_stamped_at: datetime | None
    hotline_reference: str | None
    hotline_called_at: datetime | None
    treatment_start: date | None
    treatment_end: date | None
    submitted_on: date | None
    decided_on: date | None
    reject_reason: str | None
    missing_documents: list[str] | None = Field(
        default=None, description="Deprecated: the same list as documents_still_missing"
    )
    return_requested_documents: list[str] | None = Field(
        default=None, description="What the last return asked for (退回补正), as asked"
    )
    return_note: str | None
    documents: list[FilingDocumentRead] = []
    documents_still_missing: list[str] = Field(
        default=[], description="What the filing still lacks before it can be (re)submitted"
    )
    hospital_stamps_required: bool = False
    hospitals_to_stamp: list[int] = Field(
        default=[], description="Chosen hospitals whose stamp is still missing (seed 000)"
    )
    valid_from: date | None
    valid_to: date | None
    locked_until: date | None
    cancelled_on: date | None
    local_use_from: date | None = Field(
        default=None, description="After a cancellation or expiry: the card works at home again"
    )
    withdrawn_on: date | None = None
    renews_filing_id: int | None


class FilingSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str | None
    person_id: int
    category: str
    state: str
    destination: str
    submitted_on: date | None
    valid_from: date | None
    valid_to: date | None


class LocalUseRead(BaseModel):
    person_id: int
    on: date
    local_use_suspended: bool
    long_term_filing: bool
    filing_type: str | None = None
    destination: str | None = None


class CertificateCheckRead(BaseModel):
    """The answer to ``GET /filings/verify``: a presented certificate checked."""

    model_config = ConfigDict(from_attributes=True)

    valid: bool
    reason: str
    checked_on: date
    filing_number: str | None = None
    state: str | None = None
    category: str | None = None
    category_name: str | None = None
    person_name: str | None = Field(default=None, examples=["王*国"])
    identity_number_masked: str | None = None
    insured_region: str | None = None
    destination: str | None = None
    destination_name: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    cancelled_on: date | None = None
    local_use_from: date | None = None
    all_networked_hospitals: bool | None = None
    covers_your_hospital: bool | None = Field(
        default=None, description="For a hospital asking: whether the filing applies there"
    )
