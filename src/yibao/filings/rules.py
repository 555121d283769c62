"""Filing rules as pure functions (standard library only).

Each rule takes plain values (the region's policy figures are passed in by the service)
and returns data: a date, a list of problems (empty when the rule holds). The service
turns problems into errors; the unit tests call these directly.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

LONG_TERM_CATEGORIES = ("resettled_retiree", "long_term_resident", "posted_worker")
TEMPORARY_CATEGORIES = ("referral", "emergency", "other_temporary")
CATEGORIES = LONG_TERM_CATEGORIES + TEMPORARY_CATEGORIES

RESIDENCE_PROOF = "residence_proof"
COMMITMENT_LETTER = "commitment_letter"
REFERRAL_CERTIFICATE = "referral_certificate"

DOCUMENT_TYPES = (
    "id_copy",  # 身份证复印件
    RESIDENCE_PROOF,  # 居住证明 (居住证 / 户口簿)
    COMMITMENT_LETTER,  # 个人承诺书
    "retirement_certificate",  # 退休证
    "employment_proof",  # 常驻异地工作证明
    REFERRAL_CERTIFICATE,  # 转诊证明
    "emergency_record",  # 急诊病历 / 抢救证明
    "application_form",  # 申报审批表
    "other",
)

_REGION = re.compile(r"^\d{6}$")


def is_long_term(category: str) -> bool:
    return category in LONG_TERM_CATEGORIES


# --- dates -----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_end(valid_from: date, validity_months: int | None) -> date | None:
    """Last day a filing applies: one year from 2026-03-01 ends 2027-02-28; None = open."""
    if validity_months is None:
        return None
    return add_months(valid_from, validity_months) - timedelta(days=1)


def lock_end(valid_from: date, lock_months: int) -> date | None:
    """Last day of the lock period in which a filing cannot be changed or cancelled."""
    if lock_months <= 0:
        return None
    return add_months(valid_from, lock_months) - timedelta(days=1)


def is_locked(valid_from: date, lock_months: int, today: date) -> bool:
    end = lock_end(valid_from, lock_months)
    return end is not None and today <= end


def cancellation_end(today: date) -> date:
    """A cancellation takes effect from the next day: the filing still covers ``today``."""
    return today


def is_expired(valid_to: date | None, today: date) -> bool:
    return valid_to is not None and today > valid_to


# --- destination -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    """省 (``PP0000``) or 市 (``PPCC00``) where the person will be treated."""

    code: str

    @property
    def is_province(self) -> bool:
        return self.code.endswith("0000")

    def covers(self, region: str) -> bool:
        if self.code == region:
            return True
        if self.is_province:
            return region[:2] == self.code[:2]
        return region[:4] == self.code[:4] and self.code.endswith("00")


def destination_problems(code: str, *, insured_region: str) -> list[str]:
    """A destination is a province or a city code that does not cover the insured region."""
    if not _REGION.match(code):
        return [f"destination {code!r} is not a six-digit region code"]
    if not code.endswith("00"):
        return [f"destination {code} must be a province (PP0000) or a city (PPCC00), not a county"]
    if Destination(code).covers(insured_region):
        return [f"destination {code} covers the insured region {insured_region}: not off-site"]
    return []


# --- hospitals -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HospitalFacts:
    """What the hospital-choice rule needs to know about one hospital."""

    id: int
    name: str
    region: str
    kind: str  # hospital | pharmacy
    level: int | None
    specialty: str  # general | specialised
    designated: bool
    networked: bool


def hospital_choice_problems(
    chosen: Sequence[HospitalFacts], *, destination: str, max_count: int
) -> list[str]:
    """Seed 000's rule for chosen hospitals (定点医院选择).

    At most ``max_count`` distinct designated, networked hospitals in the destination. With
    two choices one must be a level-3 general hospital (三级综合) and the other is a
    hospital nearby; only a third choice may be a specialised hospital (专科) for the
    person's own disease. So: two or more choices need a level-3 general hospital, and a
    specialised hospital is allowed only as one of three.
    """
    problems: list[str] = []
    if not chosen:
        return ["choose at least one hospital"]
    if len(chosen) > max_count:
        problems.append(f"at most {max_count} hospitals may be chosen, got {len(chosen)}")
    ids = [h.id for h in chosen]
    if len(set(ids)) != len(ids):
        problems.append("a hospital is chosen twice")
    where = Destination(destination)
    for h in chosen:
        if h.kind != "hospital":
            problems.append(f"{h.name} is not a hospital")
        if not h.designated or not h.networked:
            problems.append(
                f"{h.name} is not a designated hospital networked for direct settlement"
            )
        if not where.covers(h.region):
            problems.append(f"{h.name} ({h.region}) is outside the destination {destination}")
    specialised = [h for h in chosen if h.specialty == "specialised"]
    level3_general = [h for h in chosen if h.level == 3 and h.specialty == "general"]
    if len(chosen) >= 2 and not level3_general:
        problems.append("with two or more hospitals, one must be a level-3 general hospital")
    if specialised and len(chosen) < 3:
        problems.append("a specialised hospital may only be the third choice")
    if len(specialised) > 1:
        problems.append("at most one specialised hospital may be chosen")
    return problems


def networked_hospitals(candidates: Iterable[HospitalFacts], *, destination: str) -> list[int]:
    """Without a choice, every designated networked hospital of the destination applies."""
    where = Destination(destination)
    return [
        h.id
        for h in candidates
        if h.kind == "hospital" and h.designated and h.networked and where.covers(h.region)
    ]


# --- documents -------------------------------------------------------------------------


def missing_documents(
    required: Sequence[str], present: Iterable[str], *, commitment_letter_allowed: bool
) -> list[str]:
    """Required document types not yet uploaded, in the policy's order.

    Where the policy allows it, a personal commitment letter (个人承诺书) stands in for
    the residence proof.
    """
    have = set(present)
    missing = []
    for kind in required:
        if kind in have:
            continue
        if kind == RESIDENCE_PROOF and commitment_letter_allowed and COMMITMENT_LETTER in have:
            continue
        missing.append(kind)
    return missing


# --- referral --------------------------------------------------------------------------


def referral_problems(
    *,
    issuing: HospitalFacts | None,
    insured_region: str,
    min_level: int,
    stamped: bool,
) -> list[str]:
    """A referral certificate comes from a local hospital at or above county level, stamped."""
    if issuing is None:
        return ["a referral needs the issuing hospital"]
    problems = []
    if issuing.kind != "hospital":
        problems.append(f"{issuing.name} is not a hospital")
    if issuing.region != insured_region:
        problems.append(f"{issuing.name} is not in the insured region {insured_region}")
    if (issuing.level or 0) < min_level:
        problems.append(f"{issuing.name} is below level {min_level} and cannot issue a referral")
    if not stamped:
        problems.append("the referral certificate is not stamped by the issuing hospital")
    return problems


# --- retroactive emergency filing (补办) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class HotlineApproval:
    """The insured region's hotline agreed to the emergency treatment before the filing."""

    reference: str
    called_at: datetime


def retroactive_problems(
    *,
    hotline: HotlineApproval | None,
    treatment_start: date | None,
    treatment_end: date | None,
    today: date,
    max_days_after: int,
) -> list[str]:
    """An emergency filed afterwards needs the hotline approval and the treatment dates."""
    problems = []
    if hotline is None or not hotline.reference.strip():
        problems.append("an emergency filing needs the hotline approval reference")
    if treatment_start is None:
        problems.append("an emergency filing needs the treatment start date")
        return problems
    if treatment_start > today:
        problems.append("treatment cannot start in the future")
    if treatment_end is not None and treatment_end < treatment_start:
        problems.append("treatment ends before it starts")
    if (today - treatment_start).days > max_days_after:
        problems.append(
            f"treatment started {(today - treatment_start).days} days ago;"
            f" at most {max_days_after} days may be filed afterwards"
        )
    if hotline is not None and hotline.called_at.date() > today:
        problems.append("the hotline call cannot be in the future")
    return problems


def retroactive_validity(
    *, treatment_start: date, treatment_end: date | None, validity_months: int | None
) -> tuple[date, date | None]:
    """Validity from the first treatment day, long enough to cover the whole treatment."""
    end = validity_end(treatment_start, validity_months)
    if end is not None and treatment_end is not None and treatment_end > end:
        end = treatment_end
    return treatment_start, end


# --- numbers ---------------------------------------------------------------------------


def filing_number(region: str, year: int, sequence: int) -> str:
    """备案号, e.g. ``BA110000-2026-000123``."""
    return f"BA{region}-{year}-{sequence:06d}"


def parse_filing_number(number: str) -> tuple[str, int, int] | None:
    match = re.fullmatch(r"BA(\d{6})-(\d{4})-(\d{6})", number)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3))
