"""The names Yibao's FHIR face uses: identifier systems (NamingSystems), code systems and
extensions. Every one is a stable URN under ``urn:yibao:fhir:`` (a name, not an address:
no domain is implied), listed in docs/fhir.md; standard HL7 systems are used beside them
where one says the same thing.
"""

from __future__ import annotations

from typing import Final

FHIR_VERSION: Final = "4.0.1"
MEDIA_TYPE: Final = "application/fhir+json"
CURRENCY: Final = "CNY"

_BASE: Final = "urn:yibao:fhir"

# --- identifier systems (NamingSystem) ---------------------------------------------------
RESIDENT_ID: Final = f"{_BASE}:NamingSystem:resident-id"  # 公民身份号码, GB 11643
INSURANCE_CARD: Final = f"{_BASE}:NamingSystem:insurance-card"  # 社会保障卡号
PERSON: Final = f"{_BASE}:NamingSystem:person"  # Yibao's person id
INSTITUTION: Final = f"{_BASE}:NamingSystem:institution"  # 定点医药机构编码 (fixmedins_code)
REGION: Final = f"{_BASE}:NamingSystem:region"  # GB/T 2260 统筹区
FILING: Final = f"{_BASE}:NamingSystem:filing"  # 备案号 (BA<region>-<year>-<seq>)
SETTLEMENT: Final = f"{_BASE}:NamingSystem:settlement"  # Yibao's settlement id
ENCOUNTER: Final = f"{_BASE}:NamingSystem:encounter"  # Yibao's encounter id
STATEMENT: Final = f"{_BASE}:NamingSystem:clearing-statement"  # 清算单 id

# --- code systems -------------------------------------------------------------------------
SCHEME: Final = f"{_BASE}:CodeSystem:scheme"  # employee | resident
PERSON_TYPE: Final = f"{_BASE}:CodeSystem:person-type"  # in_service, retired, adult, ...
FILING_CATEGORY: Final = f"{_BASE}:CodeSystem:filing-category"  # resettled_retiree, ...
SETTING: Final = f"{_BASE}:CodeSystem:setting"  # inpatient | outpatient
CATALOG: Final = f"{_BASE}:CodeSystem:catalog"  # the treatment region's catalog codes
ITEM_CLASS: Final = f"{_BASE}:CodeSystem:item-class"  # A 甲 | B 乙 | C 丙
FIGURE: Final = f"{_BASE}:CodeSystem:settlement-figure"  # the contract's money fields
OFFSITE_STATUS: Final = f"{_BASE}:CodeSystem:offsite-status"  # local, long_term, ...
REASON: Final = f"{_BASE}:CodeSystem:adjudication-reason"  # why a figure is what it is
FUND: Final = f"{_BASE}:CodeSystem:fund"  # pool, supplementary, assistance, account, cash
ELIGIBILITY: Final = f"{_BASE}:CodeSystem:eligibility"  # why a person is (not) covered
LIABILITY: Final = f"{_BASE}:CodeSystem:liability"  # work_injury, third_party, ...

# --- extensions ---------------------------------------------------------------------------
EXT_FILING: Final = f"{_BASE}:StructureDefinition:offsite-filing"
EXT_OFFSITE_STATUS: Final = f"{_BASE}:StructureDefinition:offsite-status"
EXT_DEPOSIT: Final = f"{_BASE}:StructureDefinition:deposit"
EXT_EMERGENCY: Final = f"{_BASE}:StructureDefinition:emergency"
EXT_LIABILITY: Final = f"{_BASE}:StructureDefinition:liability"
EXT_INVOICE: Final = f"{_BASE}:StructureDefinition:invoice-number"
EXT_HOSPITAL_REF: Final = f"{_BASE}:StructureDefinition:hospital-visit-number"
EXT_POLICY: Final = f"{_BASE}:StructureDefinition:policy"
EXT_COVERS_INSTITUTION: Final = f"{_BASE}:StructureDefinition:filing-covers-institution"

# --- standard HL7 systems -----------------------------------------------------------------
HL7_ADJUDICATION: Final = "http://terminology.hl7.org/CodeSystem/adjudication"
HL7_CLAIM_TYPE: Final = "http://terminology.hl7.org/CodeSystem/claim-type"
HL7_PROCESS_PRIORITY: Final = "http://terminology.hl7.org/CodeSystem/processpriority"
HL7_COVERAGE_CLASS: Final = "http://terminology.hl7.org/CodeSystem/coverage-class"
HL7_PAYMENT_TYPE: Final = "http://terminology.hl7.org/CodeSystem/payment-type"
HL7_V3_OBSERVATION_VALUE: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"

# The contract's money fields and the HL7 adjudication category that says the same, where
# one does (docs/fhir.md has the table).
HL7_CATEGORY_OF: Final[dict[str, str]] = {
    "total": "submitted",
    "in_scope": "eligible",
    "deductible": "deductible",
    "fund_pay_total": "benefit",
    "personal_burden": "copay",
}
