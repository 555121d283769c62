"""Pure parts of direct settlement: transition tables, deposit squaring, accumulator deltas."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.encounters.states import encounter_next
from yibao.engine.accumulators import accumulator_delta
from yibao.engine.models import SettingAccumulator, SupplementaryAccumulator, YearAccumulators
from yibao.errors import InvalidTransition
from yibao.money import to_e4
from yibao.pharmacy.states import refusal_reason
from yibao.recovery.states import case_next
from yibao.settlements.idempotency import request_hash
from yibao.settlements.states import deposit_outcome, settlement_next


def test_an_encounter_is_settled_once_and_reopened_by_a_reversal() -> None:
    assert encounter_next("open", "settle") == "settled"
    assert encounter_next("settled", "reverse") == "open"
    with pytest.raises(InvalidTransition) as err:
        encounter_next("settled", "upload_fees")
    assert err.value.allowed == ["reverse"]
    with pytest.raises(InvalidTransition):
        encounter_next("cancelled", "settle")


def test_a_settlement_is_reversed_once() -> None:
    assert settlement_next("settled", "reverse") == "reversed"
    with pytest.raises(InvalidTransition) as err:
        settlement_next("reversed", "reverse")
    assert err.value.allowed == []
    with pytest.raises(InvalidTransition):
        settlement_next("reversal", "reverse")


def test_recovery_cases_close_or_cancel_only_when_open() -> None:
    assert case_next("open", "close") == "closed"
    with pytest.raises(InvalidTransition):
        case_next("closed", "close")


def test_the_deposit_covers_the_cash_share_first() -> None:
    assert deposit_outcome(300_000, 72_000) == (228_000, 0)
    assert deposit_outcome(50_000, 72_000) == (0, 22_000)
    assert deposit_outcome(0, 0) == (0, 0)


def test_pharmacy_refusals_name_the_reason() -> None:
    assert refusal_reason("drug", "A") is None
    assert refusal_reason("drug", "B") is None
    assert "class C" in (refusal_reason("drug", "C") or "")
    assert "not a drug" in (refusal_reason("service", "A") or "")
    assert "not in the catalog" in (refusal_reason(None, None) or "")


def test_the_delta_is_this_claims_own_contribution_in_fen() -> None:
    before = YearAccumulators(
        year=2026,
        inpatient=SettingAccumulator(Decimal("2000.00"), Decimal("1000.00"), Decimal("600.00"), 1),
        supplementary={"big": SupplementaryAccumulator(Decimal("1400.00"), Decimal("700.00"))},
    )
    after = YearAccumulators(
        year=2026,
        inpatient=SettingAccumulator(Decimal("4000.00"), Decimal("1500.00"), Decimal("1500.00"), 2),
        supplementary={
            "big": SupplementaryAccumulator(Decimal("2500.00"), Decimal("1000.00")),
            "new": SupplementaryAccumulator(Decimal("10.00"), Decimal("0.01")),
        },
        assistance_paid_cum=Decimal("3.50"),
    )
    delta = accumulator_delta(before, after)
    assert delta["inpatient"] == {
        "in_scope_cum": 200_000,
        "deductible_met": 50_000,
        "pool_paid_cum": 90_000,
        "admissions": 1,
    }
    assert delta["outpatient"] == dict.fromkeys(
        ("in_scope_cum", "deductible_met", "pool_paid_cum", "admissions"), 0
    )
    assert delta["supplementary"] == {
        "big": {"base_cum": 110_000, "paid_cum": 30_000},
        "new": {"base_cum": 1_000, "paid_cum": 1},
    }
    assert delta["assistance_paid_cum"] == 350


def test_quantities_keep_four_decimals_exactly() -> None:
    assert to_e4(Decimal("1.2345")) == 12_345
    with pytest.raises(ValueError):
        to_e4(Decimal("0.00001"))


def test_the_request_hash_ignores_key_order_but_not_values() -> None:
    a = request_hash("POST", "/x", {"a": 1, "b": "2"})
    assert a == request_hash("post", "/x", {"b": "2", "a": 1})
    assert a != request_hash("POST", "/x", {"a": 1, "b": "3"})
    assert a != request_hash("POST", "/y", {"a": 1, "b": "2"})
