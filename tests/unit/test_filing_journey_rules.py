"""Issue 9's pure rules: who fits a category, what is still missing, when the card works at
home again, names as a checking hospital sees them, verification codes, and the one
vocabulary of categories everywhere it is spelled out."""

from __future__ import annotations

import typing
from datetime import date

import pytest

from yibao.engine.models import FILING_TYPES, LONG_TERM_FILINGS
from yibao.errors import InvalidInput
from yibao.filings import rules
from yibao.filings.certificate import verification_code, verification_code_matches
from yibao.filings.policy import filing_policy_for, known_regions, parse_filing_policy
from yibao.filings.rules import CategoryFit, PersonFacts
from yibao.filings.schemas import Category
from yibao.inputs import FilingIn

RETIRED = PersonFacts(
    scheme="employee", person_type="retired", age=70, sex="M", employed_by_unit=False
)
CHILD = PersonFacts(scheme="resident", person_type="minor", age=11, sex="F", employed_by_unit=False)


def test_category_fit_names_each_reason() -> None:
    in_service = PersonFacts(
        scheme="employee", person_type="in_service", age=40, sex="M", employed_by_unit=True
    )
    retiree_only = CategoryFit(person_types=("retired",))
    assert rules.category_fit_problems("resettled_retiree", retiree_only, RETIRED) == []
    assert rules.category_fit_problems("resettled_retiree", retiree_only, in_service) == [
        "resettled_retiree is for retired persons; this person is in_service"
    ]
    posted = CategoryFit(person_types=("in_service", "adult"), min_age=16, employed_by_unit=True)
    assert rules.category_fit_problems("posted_worker", posted, CHILD) == [
        "posted_worker is for in_service or adult persons; this person is minor",
        "posted_worker is for persons aged 16 or more; this person is 11",
        "posted_worker is for persons posted by an insured unit; this person has no unit",
    ]
    mothers = CategoryFit(schemes=("resident",), sexes=("F",))
    assert rules.category_fit_problems("resident_mother_postnatal", mothers, RETIRED) == [
        "resident_mother_postnatal is for the resident scheme;"
        " this person is insured in the employee scheme",
        "resident_mother_postnatal is for women; this person is a man",
    ]
    minors = CategoryFit(max_age=17)
    assert rules.category_fit_problems("minor_with_parents", minors, CHILD) == []
    assert rules.category_fit_problems("minor_with_parents", minors, RETIRED) == [
        "minor_with_parents is for persons aged 17 or less; this person is 70"
    ]


def test_age_counts_whole_years() -> None:
    assert rules.age_on(date(2015, 3, 28), date(2026, 3, 27)) == 10
    assert rules.age_on(date(2015, 3, 28), date(2026, 3, 28)) == 11
    assert rules.age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert rules.age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_documents_still_missing_adds_what_a_return_asked_for() -> None:
    required = ("identity_copy", "residence_proof")
    uploaded = [(1, "identity_copy"), (2, "residence_proof")]
    assert rules.documents_still_missing(required, uploaded, commitment_letter_allowed=False) == []
    asked = rules.documents_still_missing(
        required,
        uploaded,
        commitment_letter_allowed=False,
        returned_for=("residence_proof", "application_form"),
        returned_after_id=2,
    )
    assert asked == ["residence_proof", "application_form"]
    answered = rules.documents_still_missing(
        required,
        [*uploaded, (3, "residence_proof")],
        commitment_letter_allowed=False,
        returned_for=("residence_proof",),
        returned_after_id=2,
    )
    assert answered == []


def test_local_use_resumes_the_day_after() -> None:
    day = date(2026, 5, 10)
    assert rules.local_use_from(state="cancelled", cancelled_on=day, valid_to=day) == date(
        2026, 5, 11
    )
    assert rules.local_use_from(state="expired", cancelled_on=None, valid_to=day) == date(
        2026, 5, 11
    )
    assert rules.local_use_from(state="approved", cancelled_on=None, valid_to=day) is None


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王建国", "王*国"), ("王国", "王*"), ("欧阳建国", "欧**国"), ("王", "*")],
)
def test_names_are_masked_for_a_checking_hospital(name: str, masked: str) -> None:
    assert rules.mask_name(name) == masked


def test_verification_code_is_keyed_and_forgiving_about_format() -> None:
    code = verification_code("BA110000-2026-000001", "secret")
    assert len(code) == 8 and code == verification_code("BA110000-2026-000001", "secret")
    assert code != verification_code("BA110000-2026-000002", "secret")
    assert code != verification_code("BA110000-2026-000001", "other")
    spaced = f"{code[:4].lower()}-{code[4:]}"
    assert verification_code_matches("BA110000-2026-000001", spaced, "secret")
    assert not verification_code_matches("BA110000-2026-000001", "AAAAAAAA", "secret")


def test_the_category_vocabulary_is_one() -> None:
    """The API schema, the claim files and the engine spell out the same categories."""
    assert set(typing.get_args(Category)) == set(rules.CATEGORIES)
    assert set(typing.get_args(FilingIn.model_fields["type"].annotation)) == set(rules.CATEGORIES)
    assert set(rules.CATEGORIES) == FILING_TYPES
    assert set(rules.LONG_TERM_CATEGORIES) == LONG_TERM_FILINGS
    assert set(rules.CATEGORY_NAMES) == set(rules.CATEGORIES)


def test_regions_offer_seed_001s_categories() -> None:
    for region in [*known_regions(), "320100"]:
        policy = filing_policy_for(region)
        for category in ("minor_with_parents", "resident_mother_postnatal"):
            assert policy.offers(category) and rules.is_long_term(category)
    beijing = filing_policy_for("110000")
    assert beijing.needs_hospital_stamps("resettled_retiree")
    assert not beijing.needs_hospital_stamps("posted_worker")
    assert not filing_policy_for("130600").needs_hospital_stamps("resettled_retiree")


def test_policy_refuses_a_stamp_without_a_choice_and_ages_out_of_order() -> None:
    text = filing_policy_for("130600").model_dump_json()
    stamped = text.replace('"hospital_stamp":false', '"hospital_stamp":true', 1)
    with pytest.raises(InvalidInput) as caught:
        parse_filing_policy(stamped, "130600.yaml")
    assert "hospital_stamp needs hospital_choice" in caught.value.reason
    backwards = text.replace('"max_age":17', '"max_age":17,"min_age":30', 1)
    with pytest.raises(InvalidInput) as caught:
        parse_filing_policy(backwards, "130600.yaml")
    assert "min_age 30 is above max_age 17" in caught.value.reason
