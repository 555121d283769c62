"""The audit checks, one by one: stable codes, the evidence, and what does not trigger them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from yibao.claim_checks.checks import (
    CHECK_CODES,
    DUPLICATE_INVOICE,
    FREQUENCY_LIMIT,
    OVERLAPPING_STAY,
    SEX_AGE_INCONSISTENT,
    TOTAL_MISMATCH,
    AuditLine,
    AuditRules,
    AuditSubject,
    Invoice,
    ItemRestriction,
    PriorRecord,
    age_on,
    check_duplicate_invoice,
    check_frequency,
    check_overlapping_stay,
    check_sex_age,
    check_total_mismatch,
    run_checks,
)


def subject(**overrides: object) -> AuditSubject:
    values: dict[str, object] = {
        "kind": "reimbursement",
        "ref": "R1",
        "person_id": "7",
        "sex": "M",
        "birth_date": date(1958, 6, 15),
        "treatment_region": "460200",
        "setting": "inpatient",
        "treatment_date": date(2026, 5, 10),
        "admitted_on": date(2026, 5, 1),
        "discharged_on": date(2026, 5, 10),
        "lines": (AuditLine("XB01", D("2"), D("35.50")), AuditLine("S001", D("1"), D("29.00"))),
        "invoices": (Invoice("0012-3456", D("100.00")),),
        "declared_total": D("100.00"),
    }
    values.update(overrides)
    return AuditSubject(**values)  # type: ignore[arg-type]


def test_codes_are_stable() -> None:
    assert CHECK_CODES == (
        "audit.duplicate_invoice",
        "audit.overlapping_stay",
        "audit.total_mismatch",
        "audit.sex_age_inconsistent",
        "audit.frequency_limit",
    )


# --- duplicate invoice ---------------------------------------------------------------------


def test_invoice_already_reimbursed_is_found_with_the_other_claim() -> None:
    prior = PriorRecord(
        "reimbursement", "R0", "7", "inpatient", date(2026, 4, 2), invoice_numbers=("00123456",)
    )
    [finding] = check_duplicate_invoice(subject(), [prior])
    assert finding.code == DUPLICATE_INVOICE
    assert finding.evidence["invoice_number"] == "00123456"
    assert finding.evidence["other_ref"] == "R0"
    assert "already reimbursed" in finding.message


def test_invoice_directly_settled_is_found() -> None:
    prior = PriorRecord(
        "settlement", "S9", "8", "outpatient", date(2026, 4, 2), invoice_numbers=("00123456",)
    )
    [finding] = check_duplicate_invoice(subject(), [prior])
    assert "directly settled" in finding.message
    assert finding.evidence["other_kind"] == "settlement"


def test_invoice_twice_in_one_claim() -> None:
    twice = (Invoice("A-1", D("50.00")), Invoice("a1", D("50.00")))
    [finding] = check_duplicate_invoice(subject(invoices=twice), [])
    assert finding.evidence == {"invoice_number": "A1", "times": 2, "within_claim": True}


def test_other_invoices_and_the_claim_itself_do_not_count() -> None:
    itself = PriorRecord("reimbursement", "R1", "7", "inpatient", date(2026, 5, 10), ("00123456",))
    other = PriorRecord("reimbursement", "R2", "7", "inpatient", date(2026, 5, 10), ("99",))
    assert check_duplicate_invoice(subject(), [itself, other]) == []


# --- overlapping stay ----------------------------------------------------------------------


def stay(ref: str, start: date, end: date, person: str = "7") -> PriorRecord:
    return PriorRecord(
        "settlement", ref, person, "inpatient", end, admitted_on=start, discharged_on=end
    )


def test_overlapping_stay_names_the_overlap() -> None:
    [finding] = check_overlapping_stay(subject(), [stay("S1", date(2026, 5, 8), date(2026, 5, 20))])
    assert finding.code == OVERLAPPING_STAY
    assert finding.evidence["overlap"] == ["2026-05-08", "2026-05-10"]
    assert finding.evidence["other_ref"] == "S1"


def test_transfer_on_the_discharge_day_is_not_an_overlap() -> None:
    history = [
        stay("S1", date(2026, 5, 10), date(2026, 5, 20)),
        stay("S2", date(2026, 4, 20), date(2026, 5, 1)),
        stay("S3", date(2026, 5, 2), date(2026, 5, 4), person="8"),
    ]
    assert check_overlapping_stay(subject(), history) == []


def test_outpatient_claims_have_no_stay() -> None:
    history = [stay("S1", date(2026, 5, 1), date(2026, 5, 20))]
    assert check_overlapping_stay(subject(setting="outpatient"), history) == []


def test_a_one_day_stay_inside_another_overlaps() -> None:
    one_day = subject(admitted_on=date(2026, 5, 5), discharged_on=date(2026, 5, 5))
    [finding] = check_overlapping_stay(one_day, [stay("S1", date(2026, 5, 1), date(2026, 5, 9))])
    assert finding.evidence["overlap"] == ["2026-05-05", "2026-05-05"]


# --- total mismatch ------------------------------------------------------------------------


def test_lines_that_add_up_raise_nothing() -> None:
    # 2 × 35.50 + 29.00 = 100.00, the stated total and the invoice.
    assert check_total_mismatch(subject()) == []


def test_stated_total_differs_from_lines() -> None:
    findings = check_total_mismatch(
        subject(declared_total=D("120.00"), invoices=(Invoice("1", D("120.00")),))
    )
    assert [f.code for f in findings] == [TOTAL_MISMATCH, TOTAL_MISMATCH]
    assert findings[0].evidence["difference"] == "20.00"
    assert findings[0].evidence["lines_total"] == "100.00"
    assert findings[1].evidence["compared"] == "invoices_total"


def test_line_amounts_are_rounded_half_up_per_line() -> None:
    # 3 × 0.335 = 1.005 → 1.01
    lines = (AuditLine("XB01", D("3"), D("0.335")),)
    assert check_total_mismatch(subject(lines=lines, declared_total=D("1.01"), invoices=())) == []
    [finding] = check_total_mismatch(subject(lines=lines, declared_total=D("1.00"), invoices=()))
    assert finding.evidence["difference"] == "-0.01"


# --- sex / age -----------------------------------------------------------------------------

RULES = AuditRules(
    restrictions={
        ("460200", "GYN1"): ItemRestriction("460200", "GYN1", sex="F"),
        ("460200", "PED1"): ItemRestriction("460200", "PED1", max_age=14),
        ("460200", "GER1"): ItemRestriction("460200", "GER1", min_age=60),
        ("460200", "ONCE"): ItemRestriction("460200", "ONCE", max_per_day=1),
    },
    default_max_per_day=3,
)


def test_age_counts_whole_years() -> None:
    assert age_on(date(1958, 6, 15), date(2026, 6, 14)) == 67
    assert age_on(date(1958, 6, 15), date(2026, 6, 15)) == 68


def test_item_for_women_billed_to_a_man() -> None:
    lines = (AuditLine("GYN1", D("1"), D("10")), AuditLine("XB01", D("1"), D("5")))
    [finding] = check_sex_age(subject(lines=lines), RULES)
    assert finding.code == SEX_AGE_INCONSISTENT
    assert finding.evidence["line"] == 0
    assert finding.evidence["person_sex"] == "M"
    assert finding.evidence["restriction"]["sex"] == "F"


def test_age_limits_both_ways() -> None:
    lines = (AuditLine("PED1", D("1"), D("10")), AuditLine("GER1", D("1"), D("10")))
    # born 1958-06-15, treated 2026-05-10: 67 — too old for PED1, old enough for GER1
    [finding] = check_sex_age(subject(lines=lines), RULES)
    assert finding.evidence["code"] == "PED1"
    assert finding.evidence["person_age"] == 67
    young = subject(lines=lines, birth_date=date(2016, 1, 1))
    [finding] = check_sex_age(young, RULES)
    assert finding.evidence["code"] == "GER1"
    assert "minimum age 60, person is 10" in finding.message


def test_restrictions_are_per_treatment_region() -> None:
    lines = (AuditLine("GYN1", D("1"), D("10")),)
    assert check_sex_age(subject(lines=lines, treatment_region="110000"), RULES) == []
    assert check_sex_age(subject(lines=lines, sex="F"), RULES) == []


# --- frequency -----------------------------------------------------------------------------


def test_outpatient_lines_count_on_the_visit_day() -> None:
    lines = tuple(AuditLine("S001", D("1"), D("29")) for _ in range(4))
    visit = subject(setting="outpatient", lines=lines, invoices=(), declared_total=None)
    [finding] = check_frequency(visit, [], RULES)
    assert finding.code == FREQUENCY_LIMIT
    assert finding.evidence == {
        "code": "S001",
        "day": "2026-05-10",
        "times": 4,
        "limit": 3,
        "in_this": 4,
        "elsewhere": [],
    }


def test_occurrences_on_record_count_and_are_named() -> None:
    day = date(2026, 5, 10)
    lines = (AuditLine("ONCE", D("1"), D("29")),)
    visit = subject(setting="outpatient", lines=lines)
    prior = PriorRecord("settlement", "S5", "7", "outpatient", day, lines=lines)
    other_person = PriorRecord("settlement", "S6", "8", "outpatient", day, lines=lines)
    [finding] = check_frequency(visit, [prior, other_person], RULES)
    assert finding.evidence["times"] == 2
    assert finding.evidence["limit"] == 1
    assert finding.evidence["elsewhere"] == [{"kind": "settlement", "ref": "S5"}]


def test_dated_inpatient_lines_count_undated_do_not() -> None:
    undated = tuple(AuditLine("S001", D("1"), D("29")) for _ in range(5))
    assert check_frequency(subject(lines=undated), [], RULES) == []
    dated = tuple(AuditLine("S001", D("1"), D("29"), day=date(2026, 5, 3)) for _ in range(4))
    [finding] = check_frequency(subject(lines=dated), [], RULES)
    assert finding.evidence["day"] == "2026-05-03"


def test_no_default_limit_means_only_listed_items_are_checked() -> None:
    lines = tuple(AuditLine("S001", D("1"), D("29")) for _ in range(9))
    rules = AuditRules(restrictions=RULES.restrictions, default_max_per_day=None)
    assert check_frequency(subject(setting="outpatient", lines=lines), [], rules) == []


def test_run_checks_collects_every_check() -> None:
    lines = (AuditLine("GYN1", D("1"), D("10")),)
    prior = stay("S1", date(2026, 5, 9), date(2026, 5, 12))
    findings = run_checks(subject(lines=lines), history=[prior], rules=RULES)
    assert sorted(f.code for f in findings) == sorted(
        [OVERLAPPING_STAY, TOTAL_MISMATCH, TOTAL_MISMATCH, SEX_AGE_INCONSISTENT]
    )
    assert all(f.as_dict()["evidence"] for f in findings)
