"""Request and response bodies of the filing API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal[
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
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
    destination: str | None = Field(default=None, pattern=r"^\d{6}$")
    hospital_ids: list[int] | None = None


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


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    doc_type: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime | None = None


class FilingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str | None
    person_id: int
    insured_region: str
    category: str
    state: str
    allowed_actions: list[str] = []
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
    missing_documents: list[str] | None
    return_note: str | None
    documents: list[DocumentRead] = []
    documents_still_missing: list[str] = []
    valid_from: date | None
    valid_to: date | None
    locked_until: date | None
    cancelled_on: date | None
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
