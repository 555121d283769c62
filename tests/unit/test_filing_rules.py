"""Filing rules: dates, destination, hospital choice (seed 000), documents, referral, 补办."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from yibao.errors import InvalidInput
from yibao.filings import rules
from yibao.filings.policy import filing_policy_for, parse_filing_policy
from yibao.filings.rules import HospitalFacts, HotlineApproval


def hospital(
    id: int,
    *,
    level: int = 3,
    specialty: str = "general",
    region: str = "460202",
    networked: bool = True,
    kind: str = "hospital",
) -> HospitalFacts:
    return HospitalFacts(
        id=id,
        name=f"H{id}",
        region=region,
        kind=kind,
        level=level,
        specialty=specialty,
        designated=True,
        networked=networked,
    )


# --- dates ------------------------------------------------------------------------------


def test_add_months_clamps_to_month_end() -> None:
    assert rules.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_one_year_validity_ends_the_day_before_the_anniversary() -> None:
    assert rules.validity_end(date(2026, 3, 1), 12) == date(2027, 2, 28)
    assert rules.validity_end(date(2026, 3, 1), 6) == date(2026, 8, 31)
    assert rules.validity_end(date(2026, 3, 1), None) is None


def test_lock_period_of_six_months() -> None:
    start = date(2026, 3, 1)
    assert rules.lock_end(start, 6) == date(2026, 8, 31)
    assert rules.is_locked(start, 6, date(2026, 8, 31))
    assert not rules.is_locked(start, 6, date(2026, 9, 1))
    assert not rules.is_locked(start, 0, start)


def test_expiry_is_the_day_after_valid_to() -> None:
    assert not rules.is_expired(date(2027, 2, 28), date(2027, 2, 28))
    assert rules.is_expired(date(2027, 2, 28), date(2027, 3, 1))
    assert not rules.is_expired(None, date(2099, 1, 1))


# --- destination -------------------------------------------------------------------------


def test_destination_province_and_city() -> None:
    assert rules.Destination("460000").covers("460202")
    assert rules.Destination("460200").covers("460202")
    assert not rules.Destination("460200").covers("460100")
    assert rules.destination_problems("460200", insured_region="110000") == []
    assert rules.destination_problems("460000", insured_region="110000") == []


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("46020", "six-digit"),
        ("460202", "not a county"),
        ("110000", "not off-site"),
        ("130000", "not off-site"),  # Hebei covers Baoding itself
    ],
)
def test_destination_refused(code: str, fragment: str) -> None:
    insured = "130600" if code == "130000" else "110000"
    problems = rules.destination_problems(code, insured_region=insured)
    assert len(problems) == 1 and fragment in problems[0]


# --- hospital choice (seed 000) ------------------------------------------------------------


def test_two_hospitals_one_level3_general_is_fine() -> None:
    chosen = [hospital(1), hospital(2, level=2)]
    assert rules.hospital_choice_problems(chosen, destination="460200", max_count=3) == []


def test_two_hospitals_without_level3_general_refused() -> None:
    chosen = [hospital(1, level=2), hospital(2, level=2)]
    problems = rules.hospital_choice_problems(chosen, destination="460200", max_count=3)
    assert problems == ["with two or more hospitals, one must be a level-3 general hospital"]


def test_specialised_only_as_third_choice() -> None:
    two = [hospital(1), hospital(2, specialty="specialised")]
    assert rules.hospital_choice_problems(two, destination="460200", max_count=3) == [
        "a specialised hospital may only be the third choice"
    ]
    three = [hospital(1), hospital(2, level=2), hospital(3, specialty="specialised")]
    assert rules.hospital_choice_problems(three, destination="460200", max_count=3) == []


def test_too_many_outside_or_not_networked() -> None:
    chosen = [
        hospital(1),
        hospital(2, region="460100"),
        hospital(3, networked=False),
        hospital(4, kind="pharmacy"),
    ]
    problems = rules.hospital_choice_problems(chosen, destination="460200", max_count=3)
    assert "at most 3 hospitals may be chosen, got 4" in problems
    assert any("outside the destination" in p for p in problems)
    assert any("H3 is not a designated hospital" in p for p in problems)
    assert "H4 is not a hospital" in problems


def test_duplicates_and_empty_refused() -> None:
    assert rules.hospital_choice_problems([], destination="460200", max_count=2) == [
        "choose at least one hospital"
    ]
    dup = rules.hospital_choice_problems(
        [hospital(1), hospital(1)], destination="460200", max_count=2
    )
    assert dup == ["a hospital is chosen twice"]


def test_without_choice_every_networked_hospital_of_the_destination() -> None:
    candidates = [hospital(1), hospital(2, networked=False), hospital(3, region="460100")]
    assert rules.networked_hospitals(candidates, destination="460200") == [1]
    assert rules.networked_hospitals(candidates, destination="460000") == [1, 3]


# --- documents ---------------------------------------------------------------------------


def test_missing_documents_in_policy_order() -> None:
    required = ["identity_copy", "residence_proof", "retirement_certificate"]
    assert rules.missing_documents(required, ["identity_copy"], commitment_letter_allowed=True) == [
        "residence_proof",
        "retirement_certificate",
    ]


def test_commitment_letter_replaces_residence_proof_only_where_allowed() -> None:
    required = ["identity_copy", "residence_proof"]
    present = ["identity_copy", "commitment_letter"]
    assert rules.missing_documents(required, present, commitment_letter_allowed=True) == []
    assert rules.missing_documents(required, present, commitment_letter_allowed=False) == [
        "residence_proof"
    ]


# --- referral ----------------------------------------------------------------------------


def test_referral_from_local_county_hospital_stamped() -> None:
    local = hospital(9, level=2, region="110000")
    ok = rules.referral_problems(issuing=local, insured_region="110000", min_level=2, stamped=True)
    assert ok == []
    unstamped = rules.referral_problems(
        issuing=local, insured_region="110000", min_level=2, stamped=False
    )
    assert unstamped == ["the referral certificate is not stamped by the issuing hospital"]
    small = hospital(8, level=1, region="110000")
    low = rules.referral_problems(issuing=small, insured_region="110000", min_level=2, stamped=True)
    assert low == ["H8 is below level 2 and cannot issue a referral"]


# --- retroactive emergency -----------------------------------------------------------------


def test_retroactive_emergency_needs_hotline_and_dates() -> None:
    today = date(2026, 5, 20)
    call = HotlineApproval("12393-0001", datetime(2026, 5, 10, 22, 5))
    assert (
        rules.retroactive_problems(
            hotline=call,
            treatment_start=date(2026, 5, 10),
            treatment_end=date(2026, 5, 18),
            today=today,
            max_days_after=90,
        )
        == []
    )
    problems = rules.retroactive_problems(
        hotline=None, treatment_start=None, treatment_end=None, today=today, max_days_after=90
    )
    assert problems == [
        "an emergency filing needs the hotline approval reference",
        "an emergency filing needs the treatment start date",
    ]
    late = rules.retroactive_problems(
        hotline=call,
        treatment_start=date(2026, 1, 1),
        treatment_end=None,
        today=today,
        max_days_after=90,
    )
    assert late == ["treatment started 139 days ago; at most 90 days may be filed afterwards"]


def test_retroactive_validity_covers_the_treatment() -> None:
    assert rules.retroactive_validity(
        treatment_start=date(2026, 5, 10), treatment_end=date(2026, 5, 18), validity_months=6
    ) == (date(2026, 5, 10), date(2026, 11, 9))
    assert rules.retroactive_validity(
        treatment_start=date(2026, 5, 10), treatment_end=date(2026, 12, 1), validity_months=6
    ) == (date(2026, 5, 10), date(2026, 12, 1))


def test_filing_number_format() -> None:
    assert rules.filing_number("110000", 2026, 123) == "BA110000-2026-000123"
    assert rules.parse_filing_number("BA110000-2026-000123") == ("110000", 2026, 123)
    assert rules.parse_filing_number("BA11-2026-1") is None


# --- policy data --------------------------------------------------------------------------


def test_region_policies_load() -> None:
    beijing = filing_policy_for("110000")
    assert beijing.hospital_choice.required and beijing.hospital_choice.max_count == 3
    assert beijing.category("resettled_retiree").validity_months == 12
    assert beijing.category("referral").validity_months == 6
    assert beijing.local_use_while_filed == "allowed"
    baoding = filing_policy_for("130600")
    assert baoding.local_use_while_filed == "suspended"
    assert not baoding.commitment_letter_replaces_residence_proof
    other = filing_policy_for("320100")
    assert other.local_use_while_filed is None
    assert other.region == "320100" and other.category("long_term_resident").validity_months is None


def test_policy_file_errors_name_the_field() -> None:
    text = filing_policy_for("110000").model_dump_json()
    broken = text.replace('"identity_copy"', '"passport_scan"', 1)
    with pytest.raises(InvalidInput) as caught:
        parse_filing_policy(broken, "x.yaml")
    assert caught.value.source == "x.yaml"
    assert "categories" in caught.value.where and "passport_scan" in caught.value.reason
