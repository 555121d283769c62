"""The audit checks (稽核规则): pure functions from a claim and its history to findings.

Standard library only. Each check has a stable code and returns :class:`Finding` values
with the evidence a reviewer needs to judge them (the invoice, the other claim, the
figures), never a verdict: the reviewer decides. The same checks run on manual
reimbursement claims and on direct settlements, so both are described by one shape,
:class:`AuditSubject`; whatever the person already has on record is :class:`PriorRecord`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from yibao.invoices import normalise_invoice_number
from yibao.money import round2

DUPLICATE_INVOICE = "audit.duplicate_invoice"
OVERLAPPING_STAY = "audit.overlapping_stay"
TOTAL_MISMATCH = "audit.total_mismatch"
SEX_AGE_INCONSISTENT = "audit.sex_age_inconsistent"
FREQUENCY_LIMIT = "audit.frequency_limit"

CHECK_CODES = (
    DUPLICATE_INVOICE,
    OVERLAPPING_STAY,
    TOTAL_MISMATCH,
    SEX_AGE_INCONSISTENT,
    FREQUENCY_LIMIT,
)

BLOCKING_CODES = frozenset({DUPLICATE_INVOICE, OVERLAPPING_STAY, TOTAL_MISMATCH})
"""Findings that stop a claim's approval until a second reviewer overrides them with a
written reason; the others are warnings the reviewer reads."""

SubjectKind = Literal["reimbursement", "settlement"]
Severity = Literal["blocking", "warning"]


def severity(code: str) -> Severity:
    return "blocking" if code in BLOCKING_CODES else "warning"


def finding_key(code: str, evidence: Mapping[str, Any]) -> str:
    """What a finding is about, stable across re-runs of the checks: an override names
    the findings it covers by these keys, so a new problem is not overridden by an old
    decision."""
    parts = [
        code,
        str(evidence.get("invoice_number", "")),
        f"{evidence.get('other_kind', '')}:{evidence.get('other_ref', '')}",
        str(evidence.get("compared", "")),
        str(evidence.get("code", "")),
        str(evidence.get("day", "")),
    ]
    return "|".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One audit finding: a stable ``code``, a sentence, and the evidence behind it."""

    code: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "evidence": dict(self.evidence)}


@dataclass(frozen=True, slots=True)
class AuditLine:
    """A fee line: item code, quantity, unit price; ``day`` when the line is dated."""

    code: str
    quantity: Decimal
    unit_price: Decimal
    day: date | None = None
    line_id: str | None = None

    @property
    def amount(self) -> Decimal:
        # the line amount as the contract defines it (step 1): round2(quantity × unit price)
        return round2(self.quantity * self.unit_price)


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AuditSubject:
    """The claim or settlement being checked, with the person it belongs to."""

    kind: SubjectKind
    ref: str
    person_id: str
    sex: str
    birth_date: date
    treatment_region: str
    setting: str
    treatment_date: date
    lines: tuple[AuditLine, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    declared_total: Decimal | None = None
    admitted_on: date | None = None
    discharged_on: date | None = None

    def line_day(self, line: AuditLine) -> date | None:
        """A dated line's day; an outpatient line's day is the visit; undated inpatient: None."""
        if line.day is not None:
            return line.day
        return self.treatment_date if self.setting == "outpatient" else None


@dataclass(frozen=True, slots=True)
class PriorRecord:
    """Something already on record: a reimbursed claim or a direct settlement not reversed."""

    kind: SubjectKind
    ref: str
    person_id: str
    setting: str
    treatment_date: date
    invoice_numbers: tuple[str, ...] = ()
    admitted_on: date | None = None
    discharged_on: date | None = None
    lines: tuple[AuditLine, ...] = ()

    def line_day(self, line: AuditLine) -> date | None:
        if line.day is not None:
            return line.day
        return self.treatment_date if self.setting == "outpatient" else None


@dataclass(frozen=True, slots=True)
class ItemRestriction:
    """What the catalog says about who may receive an item, and how often a day."""

    region: str
    code: str
    sex: str | None = None
    min_age: int | None = None
    max_age: int | None = None
    max_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class AuditRules:
    """Restrictions keyed by ``(region, code)`` and the default daily frequency limit."""

    restrictions: Mapping[tuple[str, str], ItemRestriction] = field(default_factory=dict)
    default_max_per_day: int | None = None

    def restriction(self, region: str, code: str) -> ItemRestriction | None:
        return self.restrictions.get((region, code))

    def max_per_day(self, region: str, code: str) -> int | None:
        item = self.restrictions.get((region, code))
        if item is not None and item.max_per_day is not None:
            return item.max_per_day
        return self.default_max_per_day


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


# --- the checks ------------------------------------------------------------------------------


def check_duplicate_invoice(subject: AuditSubject, history: Iterable[PriorRecord]) -> list[Finding]:
    """``audit.duplicate_invoice``: an invoice already reimbursed or directly settled.

    Also flags an invoice listed twice within the claim itself. ``history`` holds only
    what counts (approved or paid claims, settlements not reversed); the subject itself is
    skipped if present.
    """
    findings: list[Finding] = []
    seen: dict[str, int] = defaultdict(int)
    for invoice in subject.invoices:
        seen[normalise_invoice_number(invoice.number)] += 1
    for number, count in sorted(seen.items()):
        if count > 1:
            findings.append(
                Finding(
                    DUPLICATE_INVOICE,
                    f"invoice {number} is listed {count} times in this claim",
                    {"invoice_number": number, "times": count, "within_claim": True},
                )
            )
    for record in history:
        if record.kind == subject.kind and record.ref == subject.ref:
            continue
        numbers = {normalise_invoice_number(n) for n in record.invoice_numbers}
        for number in sorted(numbers & seen.keys()):
            what = "reimbursed" if record.kind == "reimbursement" else "directly settled"
            findings.append(
                Finding(
                    DUPLICATE_INVOICE,
                    f"invoice {number} was already {what} ({record.kind} {record.ref})",
                    {
                        "invoice_number": number,
                        "other_kind": record.kind,
                        "other_ref": record.ref,
                        "other_person_id": record.person_id,
                        "other_treatment_date": record.treatment_date.isoformat(),
                    },
                )
            )
    return findings


def _stay(admitted: date | None, discharged: date | None, day: date) -> tuple[date, date]:
    start = admitted or day
    return start, discharged or day


def check_overlapping_stay(subject: AuditSubject, history: Iterable[PriorRecord]) -> list[Finding]:
    """``audit.overlapping_stay``: two inpatient stays of one person overlap.

    Stays are ``[admitted, discharged]``; a transfer where one stay ends on the day the
    next begins does not overlap.
    """
    if subject.setting != "inpatient":
        return []
    start, end = _stay(subject.admitted_on, subject.discharged_on, subject.treatment_date)
    findings: list[Finding] = []
    for record in history:
        if record.setting != "inpatient" or record.person_id != subject.person_id:
            continue
        if record.kind == subject.kind and record.ref == subject.ref:
            continue
        other_start, other_end = _stay(
            record.admitted_on, record.discharged_on, record.treatment_date
        )
        overlaps = start < other_end and other_start < end
        same_stay = start == other_start and end == other_end
        if overlaps or same_stay:
            first = max(start, other_start)
            last = min(end, other_end)
            findings.append(
                Finding(
                    OVERLAPPING_STAY,
                    f"inpatient stay {start}..{end} overlaps "
                    f"{record.kind} {record.ref} ({other_start}..{other_end})",
                    {
                        "stay": [start.isoformat(), end.isoformat()],
                        "other_kind": record.kind,
                        "other_ref": record.ref,
                        "other_stay": [other_start.isoformat(), other_end.isoformat()],
                        "overlap": [first.isoformat(), last.isoformat()],
                    },
                )
            )
    return findings


def check_total_mismatch(subject: AuditSubject) -> list[Finding]:
    """``audit.total_mismatch``: the claim's stated total or its invoices differ from its lines."""
    lines_total = sum((line.amount for line in subject.lines), Decimal("0.00"))
    findings: list[Finding] = []
    if subject.declared_total is not None and subject.declared_total != lines_total:
        findings.append(
            Finding(
                TOTAL_MISMATCH,
                f"stated total {subject.declared_total:.2f} differs from the lines' "
                f"{lines_total:.2f}",
                {
                    "compared": "declared_total",
                    "declared": f"{subject.declared_total:.2f}",
                    "lines_total": f"{lines_total:.2f}",
                    "difference": f"{subject.declared_total - lines_total:.2f}",
                },
            )
        )
    if subject.invoices:
        invoices_total = sum((i.amount for i in subject.invoices), Decimal("0.00"))
        if invoices_total != lines_total:
            findings.append(
                Finding(
                    TOTAL_MISMATCH,
                    f"invoices add up to {invoices_total:.2f}, the lines to {lines_total:.2f}",
                    {
                        "compared": "invoices_total",
                        "declared": f"{invoices_total:.2f}",
                        "lines_total": f"{lines_total:.2f}",
                        "difference": f"{invoices_total - lines_total:.2f}",
                        "invoices": [
                            {"number": i.number, "amount": f"{i.amount:.2f}"}
                            for i in subject.invoices
                        ],
                    },
                )
            )
    return findings


def check_sex_age(subject: AuditSubject, rules: AuditRules) -> list[Finding]:
    """``audit.sex_age_inconsistent``: an item the catalog restricts by sex or age."""
    age = age_on(subject.birth_date, subject.treatment_date)
    findings: list[Finding] = []
    for index, line in enumerate(subject.lines):
        restriction = rules.restriction(subject.treatment_region, line.code)
        if restriction is None:
            continue
        problems: list[str] = []
        if restriction.sex is not None and restriction.sex != subject.sex:
            problems.append(f"restricted to sex {restriction.sex}, person is {subject.sex}")
        if restriction.min_age is not None and age < restriction.min_age:
            problems.append(f"minimum age {restriction.min_age}, person is {age}")
        if restriction.max_age is not None and age > restriction.max_age:
            problems.append(f"maximum age {restriction.max_age}, person is {age}")
        if problems:
            findings.append(
                Finding(
                    SEX_AGE_INCONSISTENT,
                    f"item {line.code}: " + "; ".join(problems),
                    {
                        "line": index,
                        "line_id": line.line_id,
                        "code": line.code,
                        "person_sex": subject.sex,
                        "person_age": age,
                        "restriction": {
                            "sex": restriction.sex,
                            "min_age": restriction.min_age,
                            "max_age": restriction.max_age,
                        },
                    },
                )
            )
    return findings


def check_frequency(
    subject: AuditSubject, history: Iterable[PriorRecord], rules: AuditRules
) -> list[Finding]:
    """``audit.frequency_limit``: the same item for the same person too often on one day.

    Each line is one occurrence; lines count on their own day, an outpatient visit's
    lines on the visit day; undated inpatient lines cannot be placed on a day and are not
    counted. Occurrences already on record for the person count with the subject's own.
    """
    own: dict[tuple[str, date], int] = defaultdict(int)
    for line in subject.lines:
        day = subject.line_day(line)
        if day is not None:
            own[(line.code, day)] += 1
    if not own:
        return []
    others: dict[tuple[str, date], list[tuple[str, str]]] = defaultdict(list)
    for record in history:
        if record.person_id != subject.person_id:
            continue
        if record.kind == subject.kind and record.ref == subject.ref:
            continue
        for line in record.lines:
            day = record.line_day(line)
            if day is not None and (line.code, day) in own:
                others[(line.code, day)].append((record.kind, record.ref))
    findings: list[Finding] = []
    for (code, day), count in sorted(own.items()):
        limit = rules.max_per_day(subject.treatment_region, code)
        if limit is None:
            continue
        elsewhere = others.get((code, day), [])
        total = count + len(elsewhere)
        if total > limit:
            findings.append(
                Finding(
                    FREQUENCY_LIMIT,
                    f"item {code} {total} times on {day.isoformat()}, limit {limit} a day",
                    {
                        "code": code,
                        "day": day.isoformat(),
                        "times": total,
                        "limit": limit,
                        "in_this": count,
                        "elsewhere": [{"kind": k, "ref": r} for k, r in elsewhere],
                    },
                )
            )
    return findings


CHECKS: Mapping[str, Callable[[AuditSubject, Sequence[PriorRecord], AuditRules], list[Finding]]] = {
    DUPLICATE_INVOICE: lambda s, h, r: check_duplicate_invoice(s, h),
    OVERLAPPING_STAY: lambda s, h, r: check_overlapping_stay(s, h),
    TOTAL_MISMATCH: lambda s, h, r: check_total_mismatch(s),
    SEX_AGE_INCONSISTENT: lambda s, h, r: check_sex_age(s, r),
    FREQUENCY_LIMIT: check_frequency,
}
"""Every check by its code, in the order they run."""


def run_checks(
    subject: AuditSubject, *, history: Sequence[PriorRecord], rules: AuditRules
) -> list[Finding]:
    """All checks on one subject; an empty list means nothing to report."""
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(subject, history, rules))
    return findings
