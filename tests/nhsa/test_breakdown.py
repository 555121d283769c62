"""``yibao.settlements.breakdown``: the parts of a settlement the contract names in total."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal as D

from sqlalchemy.orm import Session

from tests.conftest import World
from yibao.settlements.breakdown import breakdown_of_record
from yibao.settlements.models import SettlementRecord


def _record(world: World, **over: object) -> SettlementRecord:
    fields: dict = dict(
        kind="settlement",
        state="settled",
        source="pharmacy",
        person_id=world.spouse.id,
        account_person_id=world.worker.id,
        institution_id=world.pharmacy.id,
        claim_id="c",
        claim_date=date(2026, 5, 1),
        year=2026,
        year_month="2026-05",
        setting="outpatient",
        insured_region="110000",
        treatment_region="460200",
        total_fen=10_000,
        full_self_pay_fen=0,
        over_limit_self_pay_fen=0,
        pre_self_pay_fen=0,
        in_scope_fen=10_000,
        deductible_fen=3_000,
        pool_fund_pay_fen=2_100,
        supplementary_pay_fen=1_000,
        assistance_pay_fen=0,
        fund_pay_total_fen=3_100,
        personal_burden_fen=6_900,
        account_pay_fen=6_900,
        cash_pay_fen=0,
        recoverable_fen=0,
        acc_delta="{}",
        result_json=json.dumps({"supplementary_by_name": {"large_amount": "10.00"}}),
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
        id=999,
    )
    fields.update(over)
    return SettlementRecord(**fields)


def test_a_relatives_account_and_the_pooled_share(session: Session, world: World) -> None:
    # in scope 100.00 − deductible 30.00 − pool 21.00 = 49.00 pooled personal share; the
    # worker's account paid 69.00 for the spouse: all of it is the family-sharing part; no
    # movement recorded for this unsaved record: the balance is the account's now (500.00)
    b = breakdown_of_record(session, record_=_record(world))
    assert b.pooled_personal_share == D("49.00")
    assert b.family_account_pay == D("69.00")
    assert b.supplementary_by_name == {"large_amount": D("10.00")}
    assert b.hospital_share == D("0.00")
    assert b.balance_after == D("500.00")


def test_own_account_and_a_reversal(session: Session, world: World) -> None:
    own = breakdown_of_record(session, record_=_record(world, account_person_id=world.spouse.id))
    assert own.family_account_pay == D("0.00")
    reversal = _record(
        world,
        kind="reversal",
        state="reversal",
        reverses_id=1,
        account_person_id=None,
        in_scope_fen=-10_000,
        deductible_fen=-3_000,
        pool_fund_pay_fen=-2_100,
    )
    b = breakdown_of_record(session, record_=reversal)
    assert b.pooled_personal_share == D("-49.00")
    assert b.supplementary_by_name == {"large_amount": D("-10.00")}
    assert b.balance_after is None
