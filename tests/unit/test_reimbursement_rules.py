"""The reimbursement workflow table and the documents policy data."""

from __future__ import annotations

import pytest

from yibao.errors import InvalidInput, InvalidTransition, ValidationFailed
from yibao.reimbursements.rules import parse_rules_text, rules_for
from yibao.reimbursements.states import (
    FINAL_STATES,
    TRANSITIONS,
    ClaimState,
    allowed_actions,
    next_state,
)


def test_the_happy_path_and_the_return_loop() -> None:
    state = ClaimState.SUBMITTED
    for action, expected in [
        ("start_review", "under_review"),
        ("return", "returned"),
        ("resubmit", "resubmitted"),
        ("start_review", "under_review"),
        ("approve", "approved"),
        ("pay", "paid"),
    ]:
        state = next_state(state, action)
        assert state == expected


def test_illegal_move_lists_the_allowed_ones() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state("approved", "reject")
    assert caught.value.allowed == ["pay"]
    assert caught.value.code == "state.invalid_transition"
    with pytest.raises(InvalidTransition):
        next_state("submitted", "no_such_action")


def test_final_states_have_no_moves() -> None:
    assert {ClaimState.PAID, ClaimState.REJECTED} == FINAL_STATES
    assert allowed_actions("paid") == []
    assert set(TRANSITIONS) == set(ClaimState)


def test_required_documents_per_case_and_filing() -> None:
    rules = rules_for("110000")
    assert rules.required_documents(
        case="offsite_no_direct", setting="inpatient", filing_type="resettled_retiree"
    ) == [
        "receipt",
        "expense_list",
        "prescription",
        "detailed_list",
        "diagnosis_certificate",
        "hospital_grade_certificate",
        "inpatient_medical_record",
        "identity_copy",
    ]
    referral = rules.required_documents(
        case="offsite_no_direct", setting="inpatient", filing_type="referral"
    )
    assert referral[-1] == "referral_certificate"
    assert "referral_certificate" not in rules.required_documents(
        case="emergency_after_discharge", setting="inpatient", filing_type="emergency"
    )


def test_unknown_case_or_setting_is_refused() -> None:
    rules = rules_for("110000")
    with pytest.raises(ValidationFailed) as caught:
        rules.required_documents(case="lost_wallet", setting="inpatient", filing_type=None)
    assert caught.value.code == "reimbursement.unknown_case"
    with pytest.raises(ValidationFailed):
        rules.required_documents(
            case="outpatient_paid_in_full", setting="inpatient", filing_type=None
        )


def test_rules_file_mistakes_name_the_place() -> None:
    text = "cases:\n  c1: {inpatient: [receipt, passport]}\n"
    with pytest.raises(InvalidInput) as caught:
        parse_rules_text(text, "x.yaml")
    assert "cases.c1.inpatient" in str(caught.value)
    assert "passport" in str(caught.value)
    with pytest.raises(InvalidInput):
        parse_rules_text("cases: {c: {}}\nextra: 1\n", "x.yaml")


def test_rules_files_use_the_one_vocabulary_of_kinds() -> None:
    # a former name is refused with the name it has now
    with pytest.raises(InvalidInput) as caught:
        parse_rules_text("cases:\n  c1: {inpatient: [receipts]}\n", "x.yaml")
    assert "'receipts' is now called 'receipt'" in caught.value.reason
    # a file may not bring its own list of kinds
    with pytest.raises(InvalidInput) as own:
        parse_rules_text("documents: {receipt: r}\ncases: {c: {}}\n", "x.yaml")
    assert own.value.where == "documents"
    assert rules_for("110000").documents["identity_copy"].startswith("身份证复印件")
