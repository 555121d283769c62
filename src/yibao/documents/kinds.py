"""The one vocabulary of document kinds (材料类型), shared by filings and reimbursement claims.

Standard library only, so pure rules (:mod:`yibao.filings.rules`) and policy data readers
may use it. A kind names one sort of paper, whatever the concept asking for it; adding a
kind means a line here and a migration (the ``documents`` table checks its kinds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from yibao.errors import ValidationFailed


class DocumentKind(StrEnum):
    IDENTITY_COPY = "identity_copy"
    RESIDENCE_PROOF = "residence_proof"
    COMMITMENT_LETTER = "commitment_letter"
    RETIREMENT_CERTIFICATE = "retirement_certificate"
    EMPLOYMENT_PROOF = "employment_proof"
    REFERRAL_CERTIFICATE = "referral_certificate"
    EMERGENCY_RECORD = "emergency_record"
    APPLICATION_FORM = "application_form"
    RECEIPT = "receipt"
    EXPENSE_LIST = "expense_list"
    DETAILED_LIST = "detailed_list"
    PRESCRIPTION = "prescription"
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate"
    HOSPITAL_GRADE_CERTIFICATE = "hospital_grade_certificate"
    INPATIENT_MEDICAL_RECORD = "inpatient_medical_record"
    OTHER = "other"

    @property
    def chinese(self) -> str:
        return KIND_NAMES[self].chinese

    @property
    def english(self) -> str:
        return KIND_NAMES[self].english


@dataclass(frozen=True, slots=True)
class KindName:
    chinese: str
    english: str


K = DocumentKind
KIND_NAMES: Mapping[DocumentKind, KindName] = MappingProxyType(
    {
        K.IDENTITY_COPY: KindName("身份证复印件", "copy of the identity card"),
        K.RESIDENCE_PROOF: KindName("居住证明（居住证、户口簿）", "proof of residence"),
        K.COMMITMENT_LETTER: KindName("个人承诺书", "personal commitment letter"),
        K.RETIREMENT_CERTIFICATE: KindName("退休证", "retirement certificate"),
        K.EMPLOYMENT_PROOF: KindName("常驻异地工作证明", "proof of a posting off-site"),
        K.REFERRAL_CERTIFICATE: KindName("转诊证明", "referral certificate"),
        K.EMERGENCY_RECORD: KindName("急诊病历、抢救证明", "emergency record"),
        K.APPLICATION_FORM: KindName("申报审批表", "application form"),
        K.RECEIPT: KindName("收据、发票", "original receipt (invoice)"),
        K.EXPENSE_LIST: KindName("费用清单", "expense list"),
        K.DETAILED_LIST: KindName("费用明细清单", "detailed list of fees"),
        K.PRESCRIPTION: KindName("处方", "prescription"),
        K.DIAGNOSIS_CERTIFICATE: KindName("疾病诊断证明", "diagnosis certificate"),
        K.HOSPITAL_GRADE_CERTIFICATE: KindName("医院等级证明", "hospital grade certificate"),
        K.INPATIENT_MEDICAL_RECORD: KindName(
            "住院病历", "inpatient medical record (hospital seal)"
        ),
        K.OTHER: KindName("其他材料", "other document"),
    }
)

KNOWN_KINDS: tuple[str, ...] = tuple(DocumentKind)

FORMER_NAMES: Mapping[str, DocumentKind] = MappingProxyType(
    {
        "id_copy": K.IDENTITY_COPY,  # filings' name until migration 0007_documents
        "receipts": K.RECEIPT,
        "prescriptions": K.PRESCRIPTION,
    }
)
"""Names the kinds had before the vocabulary was merged: refused, with the new name."""


def is_known_kind(value: str) -> bool:
    return value in KNOWN_KINDS


def unknown_kind_message(value: str) -> str:
    renamed = FORMER_NAMES.get(value)
    hint = f" ({value!r} is now called {renamed.value!r})" if renamed else ""
    return f"unknown document kind {value!r}{hint}; known kinds: {', '.join(KNOWN_KINDS)}"


def parse_kind(value: str, *, code: str = "upload.document_type_unknown") -> DocumentKind:
    """The kind named ``value``; anything else is refused naming it and the known kinds."""
    if is_known_kind(value):
        return DocumentKind(value)
    renamed = FORMER_NAMES.get(value)
    raise ValidationFailed(
        unknown_kind_message(value),
        code=code,
        kind=value,
        known=list(KNOWN_KINDS),
        **({"renamed_to": renamed.value} if renamed else {}),
    )
