"""Filing rules as pure functions (standard library and the document kinds only).

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

from yibao.documents.kinds import KNOWN_KINDS, DocumentKind

LONG_TERM_CATEGORIES = (
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
    "minor_with_parents",
    "resident_mother_postnatal",
)
TEMPORARY_CATEGORIES = ("referral", "emergency", "other_temporary")
CATEGORIES = LONG_TERM_CATEGORIES + TEMPORARY_CATEGORIES
"""The platform's vocabulary of filing categories; each region's filing rules say which
it offers, who fits each and what each needs (:mod:`yibao.filings.policy`)."""

# category → (中文, English label with pinyin): printed on the certificate, sent in answers.
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "resettled_retiree": ("异地安置退休人员", "Resettled retiree (yidi anzhi tuixiu)"),
    "long_term_resident": ("异地长期居住人员", "Long-term resident (yidi changqi juzhu)"),
    "posted_worker": ("常驻异地工作人员", "Posted worker (changzhu yidi gongzuo)"),
    "minor_with_parents": (
        "未成年人随父母异地居住",
        "Minor living with parents off-site (weichengnianren sui fumu yidi juzhu)",
    ),
    "resident_mother_postnatal": (
        "城乡居民产后随配偶或父母异地居住的女性",
        "Resident-scheme mother living off-site after childbirth (chanhou yidi juzhu)",
    ),
    "referral": ("异地转诊人员", "Referral (yidi zhuanzhen)"),
    "emergency": ("异地急诊抢救人员", "Emergency (jizhen qiangjiu)"),
    "other_temporary": ("其他临时外出就医人员", "Other temporary (qita linshi waichu)"),
}

RESIDENCE_PROOF = DocumentKind.RESIDENCE_PROOF
COMMITMENT_LETTER = DocumentKind.COMMITMENT_LETTER
REFERRAL_CERTIFICATE = DocumentKind.REFERRAL_CERTIFICATE

# The one vocabulary of document kinds, shared with reimbursement claims.
DOCUMENT_TYPES = KNOWN_KINDS

_REGION = re.compile(r"^\d{6}$")


def is_long_term(category: str) -> bool:
    return category in LONG_TERM_CATEGORIES


def category_name(category: str) -> str:
    """The category's Chinese name (its code when the platform does not know it)."""
    names = CATEGORY_NAMES.get(category)
    return names[0] if names else category


# --- who fits a category ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the category-fit rule needs to know about the person, on the filing day."""

    scheme: str  # employee | resident
    person_type: str  # the registry's type: retired, in_service, minor, adult, ...
    age: int
    sex: str  # M | F
    employed_by_unit: bool  # an insured unit (参保单位) employs the person


@dataclass(frozen=True, slots=True)
class CategoryFit:
    """Who a category is for; an empty tuple or None means "anyone"."""

    schemes: tuple[str, ...] = ()
    person_types: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    sexes: tuple[str, ...] = ()
    employed_by_unit: bool | None = None


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day`` (a person born 29 February turns a year older on 1 March)."""
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _either(values: Sequence[str]) -> str:
    return " or ".join(values)


_SEX_WORDS = {"M": ("men", "a man"), "F": ("women", "a woman")}


@dataclass(frozen=True, slots=True)
class FitReason:
    """One reason a person does not fit a category, as data a page says in its own words.

    ``rule`` names the rule: ``scheme``, ``person_type``, ``min_age``, ``max_age``, ``sex``,
    ``unit_needed`` (posted by an insured unit) or ``no_unit`` (without an employing unit);
    ``wanted`` is what the category asks (codes, or the age limit), ``actual`` what the
    person is (a code or the age; empty for the unit rules).
    """

    rule: str
    wanted: tuple[str, ...]
    actual: str


def category_fit_reasons(fit: CategoryFit, person: PersonFacts) -> list[FitReason]:
    """Why ``person`` does not fit a category of rule ``fit`` (empty when they do), one
    reason per rule, in the order of :func:`category_fit_problems`."""
    reasons: list[FitReason] = []
    if fit.schemes and person.scheme not in fit.schemes:
        reasons.append(FitReason("scheme", fit.schemes, person.scheme))
    if fit.person_types and person.person_type not in fit.person_types:
        reasons.append(FitReason("person_type", fit.person_types, person.person_type))
    if fit.min_age is not None and person.age < fit.min_age:
        reasons.append(FitReason("min_age", (str(fit.min_age),), str(person.age)))
    if fit.max_age is not None and person.age > fit.max_age:
        reasons.append(FitReason("max_age", (str(fit.max_age),), str(person.age)))
    if fit.sexes and person.sex not in fit.sexes:
        reasons.append(FitReason("sex", fit.sexes, person.sex))
    if fit.employed_by_unit is True and not person.employed_by_unit:
        reasons.append(FitReason("unit_needed", (), ""))
    if fit.employed_by_unit is False and person.employed_by_unit:
        reasons.append(FitReason("no_unit", (), ""))
    return reasons


def _fit_problem(category: str, reason: FitReason) -> str:
    wanted, actual = reason.wanted, reason.actual
    if reason.rule == "scheme":
        return (
            f"{category} is for the {_either(wanted)} scheme;"
            f" this person is insured in the {actual} scheme"
        )
    if reason.rule == "person_type":
        return f"{category} is for {_either(wanted)} persons; this person is {actual}"
    if reason.rule == "min_age":
        return f"{category} is for persons aged {wanted[0]} or more; this person is {actual}"
    if reason.rule == "max_age":
        return f"{category} is for persons aged {wanted[0]} or less; this person is {actual}"
    if reason.rule == "sex":
        words = _either([_SEX_WORDS.get(s, (s, s))[0] for s in wanted])
        who = _SEX_WORDS.get(actual, (actual, actual))[1]
        return f"{category} is for {words}; this person is {who}"
    if reason.rule == "unit_needed":
        return f"{category} is for persons posted by an insured unit; this person has no unit"
    return f"{category} is for persons without an employing unit; this person has one"


def category_fit_problems(category: str, fit: CategoryFit, person: PersonFacts) -> list[str]:
    """Why ``person`` does not fit ``category`` (empty when they do), one reason per rule.

    E.g. "resettled_retiree is for retired persons; this person is in_service"; the same
    reasons as data: :func:`category_fit_reasons`.
    """
    return [_fit_problem(category, reason) for reason in category_fit_reasons(fit, person)]


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
    """Last day of the lock period in which a filing cannot be changed (hospitals,
    destination, category); cancelling is always possible (seed 001)."""
    if lock_months <= 0:
        return None
    return add_months(valid_from, lock_months) - timedelta(days=1)


def is_locked(valid_from: date, lock_months: int, today: date) -> bool:
    end = lock_end(valid_from, lock_months)
    return end is not None and today <= end


def cancellation_end(today: date) -> date:
    """A cancellation is made on ``today`` and the filing still covers that day; from the
    next day the card works at home again (seed 001)."""
    return today


def local_use_from(*, state: str, cancelled_on: date | None, valid_to: date | None) -> date | None:
    """The day the card works at home again after a filing ended: the day after the
    cancellation (seed 001) or after the last valid day of an expired filing; None while
    the filing applies or never did."""
    if state == "cancelled" and cancelled_on is not None:
        return cancelled_on + timedelta(days=1)
    if state == "expired" and valid_to is not None:
        return valid_to + timedelta(days=1)
    return None


def mask_name(name: str) -> str:
    """A name as a hospital checking a certificate sees it: 王建国 → 王*国, 王国 → 王*."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


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


def documents_still_missing(
    required: Sequence[str],
    uploaded: Sequence[tuple[int, str]],
    *,
    commitment_letter_allowed: bool,
    returned_for: Sequence[str] = (),
    returned_after_id: int = 0,
) -> list[str]:
    """The one definition of what a filing still lacks (``uploaded``: ``(id, kind)`` pairs).

    The region's required documents not uploaded yet (see :func:`missing_documents`), then
    each document a return asked for (退回补正) that has not been uploaded since the return
    (document ids above ``returned_after_id``); pass ``returned_for`` only while the filing
    is returned. Submission, approval and every answer use this one list.
    """
    missing = missing_documents(
        required,
        [kind for _, kind in uploaded],
        commitment_letter_allowed=commitment_letter_allowed,
    )
    fresh = {kind for doc_id, kind in uploaded if doc_id > returned_after_id}
    for kind in returned_for:
        if kind not in fresh and kind not in missing:
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
