"""The advance fund (预付金) between regions: its thresholds (70%, 90%), its history by
date, the suggested amount from the settlements, and the four eyes on every amount."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from yibao.approvals import service as approvals
from yibao.auth.models import User
from yibao.clearing import advance
from yibao.clearing import service as clearing
from yibao.clearing.models import AdvanceFund
from yibao.demo.loader import load_demo
from yibao.errors import Forbidden, NotFound, ValidationFailed
from yibao.registry.models import Person
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import reverse_settlement

APRIL = datetime(2026, 4, 20, 8, 0, tzinfo=UTC)
MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
JUNE_DAY = date(2026, 6, 10)
PAIR = ("110000", "460200")
# An unfiled Beijing stay in Sanya (tests/integration/test_clearing_statements.py): the
# funds pay 600.00 + 700.00, the personal account 300.00; clearing repays 1,600.00.
STAY_FUNDS_FEN = 130_000
STAY_DUE_FEN = 160_000


def people(session: Session, count: int, *, first: int = 0) -> list[Person]:
    return [
        add_person(
            session,
            name=f"预付{i}",
            region="110000",
            born=date(1954, 1 + i % 12, 1 + i),
            sequence=101 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        for i in range(first, first + count)
    ]


@pytest.fixture
def rules(session: Session, world: World) -> None:
    load_rules(session, regions=("460200", "110000", "130600"))


@pytest.fixture
def centre(make_user: MakeUser, world: World) -> User:
    return make_user("agency", agency_id=world.center.id).user


@pytest.fixture
def second(make_user: MakeUser, world: World) -> User:
    """A second user of the Beijing centre: the four eyes."""
    return make_user("agency", agency_id=world.center.id).user


def record(
    session: Session,
    first: User,
    second: User,
    amount: str,
    effective_from: date,
    *,
    treatment_region: str = "460200",
) -> AdvanceFund:
    """Ask as ``first``, approve as ``second``: the recorded row."""
    asked = advance.request_advance_fund(
        session,
        actor=first,
        treatment_region=treatment_region,
        amount=Decimal(amount),
        effective_from=effective_from,
    )
    done = approvals.approve(session, actor=second, approval_id=asked.id)
    assert done.state == "approved"
    row = session.scalars(select(AdvanceFund).where(AdvanceFund.approval_id == asked.id)).one()
    return row


def usage_of(session: Session, actor: User, on: date = JUNE_DAY) -> advance.Usage:
    rows = {
        (u.insured_region, u.treatment_region): u
        for u in advance.usage(session, actor=actor, on=on)
    }
    return rows[PAIR]


# --- the rule, pure ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "in_use", "level"),
    [
        (1_000, 0, "ok"),
        (1_000, 699, "ok"),
        (1_000, 700, "warning"),  # exactly 70%
        (1_000, 899, "warning"),
        (1_000, 900, "serious"),  # exactly 90%
        (1_000, 1_500, "serious"),
        (1_000, -50, "ok"),  # more reversed than settled
        (None, 500, "no_advance"),
        (0, 500, "no_advance"),  # a fund ended by recording 0.00
        (1_600_001, 1_120_000, "ok"),  # 69.99996%
    ],
)
def test_levels(amount: int | None, in_use: int, level: str) -> None:
    assert advance.level_of(amount, in_use) == level


def test_the_share_is_rounded_down_so_it_never_shows_a_threshold_not_reached() -> None:
    assert advance.usage_percent(1_600_001, 1_120_000) == Decimal("69.9")
    assert advance.usage_percent(1_000, 700) == Decimal("70.0")
    assert advance.usage_percent(3, 1) == Decimal("33.3")
    assert advance.usage_percent(None, 1) is None
    assert advance.WARNING_PERCENT == 70 and advance.SERIOUS_PERCENT == 90


def test_the_last_two_complete_months() -> None:
    assert advance.suggestion_months(date(2026, 6, 10)) == ("2026-04", "2026-05")
    assert advance.suggestion_months(date(2026, 1, 31)) == ("2025-11", "2025-12")
    assert advance.suggestion_months(date(2026, 2, 1)) == ("2025-12", "2026-01")
    assert advance.suggested_fen(390_001) == 390_001  # 2 × (390,001 / 2)
    assert advance.suggested_fen(-5) == 0


# --- the thresholds through the services -------------------------------------------------


def test_exactly_70_and_90_percent_of_the_fund_in_use(
    session: Session, world: World, rules: None, centre: User, second: User
) -> None:
    """Seven stays in use (11,200.00) of a fund of 16,000.00 is exactly 70%; nine stays
    (14,400.00) exactly 90%; one fen more in the fund and each is below its threshold."""
    for n, person in enumerate(people(session, 7)):
        settle(session, person, world.hospital, f"AF-{n}", at=APRIL)
    session.commit()
    record(session, centre, second, "16000.00", date(2026, 6, 1))
    seen = usage_of(session, centre)
    assert seen.in_use_fen == 7 * STAY_DUE_FEN
    assert (seen.amount_fen, seen.percent, seen.level) == (1_600_000, Decimal("70.0"), "warning")

    record(session, centre, second, "16000.01", date(2026, 6, 2))
    seen = usage_of(session, centre)
    assert (seen.amount_fen, seen.percent, seen.level) == (1_600_001, Decimal("69.9"), "ok")

    for n, person in enumerate(people(session, 2, first=7)):
        settle(session, person, world.hospital, f"AF-more-{n}", at=MAY)
    seen = usage_of(session, centre)
    assert seen.in_use_fen == 9 * STAY_DUE_FEN
    assert seen.level == "warning"  # 89.99994%
    record(session, centre, second, "16000.00", date(2026, 6, 3))
    seen = usage_of(session, centre)
    assert (seen.percent, seen.level) == (Decimal("90.0"), "serious")
    # in use is what clearing already says is outstanding, never a second sum
    (owed,) = [
        r for r in clearing.outstanding(session, actor=centre) if r.treatment_region == "460200"
    ]
    assert seen.in_use_fen == owed.due_fen and seen.entries == owed.entries == 9


def test_a_pair_without_a_fund_says_so(
    session: Session, world: World, rules: None, centre: User
) -> None:
    (person,) = people(session, 1)
    settle(session, person, world.hospital, "AF-none", at=MAY)
    seen = usage_of(session, centre)
    assert (seen.amount_fen, seen.effective_from, seen.percent) == (None, None, None)
    assert seen.level == "no_advance"
    assert seen.in_use_fen == STAY_DUE_FEN
    assert seen.since == "2026-05"


def test_confirmed_clearing_frees_the_fund(
    session: Session, world: World, rules: None, centre: User, second: User
) -> None:
    """What a confirmed statement holds is no longer in use."""
    for n, person in enumerate(people(session, 2)):
        settle(session, person, world.hospital, f"AF-c-{n}", at=APRIL)
    record(session, centre, second, "4000.00", date(2026, 4, 1))
    assert usage_of(session, centre).level == "warning"  # 3,200 of 4,000: 80%
    (statement,) = [
        s
        for s in clearing.build_month(session, actor=centre, month="2026-04", now=MAY)
        if s.treatment_region == "460200"
    ]
    asked = clearing.confirm_statement(session, actor=centre, statement_id=statement.id, now=MAY)
    approvals.approve(session, actor=second, approval_id=asked.id, now=MAY)
    seen = usage_of(session, centre)
    assert (seen.in_use_fen, seen.level, seen.percent) == (0, "ok", Decimal("0.0"))


# --- history by date ---------------------------------------------------------------------


def test_the_amount_in_force_is_the_latest_effective_on_the_day(
    session: Session, world: World, centre: User, second: User
) -> None:
    first = record(session, centre, second, "100000.00", date(2026, 4, 1))
    raised = record(session, centre, second, "200000.00", date(2026, 6, 1))
    record(session, centre, second, "300000.00", date(2026, 7, 1))  # announced ahead
    corrected = record(session, centre, second, "250000.00", date(2026, 6, 1))  # same day

    def in_force(day: date) -> int | None:
        found = advance.funds_in_force(session, actor=centre, on=day).get(PAIR)
        return found.amount_fen if found is not None else None

    assert in_force(date(2026, 3, 31)) is None
    assert in_force(date(2026, 4, 1)) == first.amount_fen == 10_000_000
    assert in_force(date(2026, 5, 31)) == 10_000_000
    assert in_force(date(2026, 6, 1)) == corrected.amount_fen == 25_000_000  # the later record
    assert in_force(date(2026, 6, 30)) == 25_000_000
    assert in_force(date(2027, 1, 1)) == 30_000_000
    history = advance.fund_history(
        session, actor=centre, insured_region="110000", treatment_region="460200"
    )
    assert [h.amount_fen for h in history] == [30_000_000, 25_000_000, 20_000_000, 10_000_000]
    assert raised in history  # nothing is overwritten
    assert session.scalar(select(func.count(AdvanceFund.id))) == 4
    assert {(h.recorded_by, h.approved_by) for h in history} == {(centre.id, second.id)}


# --- four eyes ---------------------------------------------------------------------------


def test_recording_waits_for_a_second_user_of_the_same_centre(
    session: Session, world: World, make_user: MakeUser, centre: User, second: User
) -> None:
    asked = advance.request_advance_fund(
        session,
        actor=centre,
        treatment_region="460200",
        amount=Decimal("1200000.00"),
        effective_from=date(2026, 6, 1),
        note="2026年第二季度预付金",
    )
    assert (asked.kind, asked.state) == ("clearing.advance_fund", "pending")
    assert session.scalar(select(func.count(AdvanceFund.id))) == 0  # nothing recorded yet

    with pytest.raises(Forbidden) as same:
        approvals.approve(session, actor=centre, approval_id=asked.id)
    assert same.value.code == "approval.same_user"
    baoding = make_user("agency", agency_id=world.baoding_center.id).user
    sanya = make_user("agency", agency_id=world.sanya_agency.id).user
    street = make_user("street_office", agency_id=world.street_office.id).user
    for other in (baoding, sanya, street):
        with pytest.raises(NotFound) as hidden:  # not theirs to decide: not even seen
            approvals.approve(session, actor=other, approval_id=asked.id)
        assert hidden.value.code == "approval.not_found"
    assert session.scalar(select(func.count(AdvanceFund.id))) == 0

    approvals.approve(session, actor=second, approval_id=asked.id)
    row = session.scalars(select(AdvanceFund)).one()
    assert (row.insured_region, row.treatment_region) == PAIR
    assert (row.amount_fen, row.effective_from) == (120_000_000, date(2026, 6, 1))
    assert (row.recorded_by, row.approved_by, row.approval_id) == (centre.id, second.id, asked.id)
    assert row.note == "2026年第二季度预付金"


def test_only_the_paying_centre_records_and_never_a_negative_amount(
    session: Session, world: World, make_user: MakeUser, centre: User
) -> None:
    baoding = make_user("agency", agency_id=world.baoding_center.id).user
    sanya = make_user("agency", agency_id=world.sanya_agency.id).user

    def ask(actor: User, amount: str = "1000.00", **more: str) -> None:
        advance.request_advance_fund(
            session,
            actor=actor,
            treatment_region=more.pop("treatment_region", "460200"),
            amount=Decimal(amount),
            **more,  # type: ignore[arg-type]
        )

    with pytest.raises(Forbidden) as other_centre:
        ask(baoding, insured_region="110000")
    assert other_centre.value.code == "clearing.advance_not_debtor"
    with pytest.raises(Forbidden) as creditor:
        ask(sanya)  # the treatment region receives the fund, it never records it
    assert creditor.value.code == "clearing.advance_not_debtor"
    refused = {
        "-0.01": "clearing.advance_negative",
        "-1000.00": "clearing.advance_negative",
        "10.001": "clearing.advance_fen",
        "100000000000.01": "clearing.advance_too_large",
    }
    for amount, code in refused.items():
        with pytest.raises(ValidationFailed) as bad:
            ask(centre, amount)
        assert bad.value.code == code, amount
    for region, code in (
        ("110000", "clearing.advance_same_region"),
        ("999999", "clearing.advance_region"),
    ):
        with pytest.raises(ValidationFailed) as bad:
            ask(centre, treatment_region=region)
        assert bad.value.code == code
    assert approvals.list_approvals(session, actor=centre) == []  # nothing was asked

    # an admin names the paying region; the ask then waits like any other
    admin = make_user("admin").user
    with pytest.raises(ValidationFailed):
        ask(admin)
    advance.request_advance_fund(
        session,
        actor=admin,
        insured_region="130600",
        treatment_region="460200",
        amount=Decimal(0),
    )
    assert session.scalar(select(func.count(AdvanceFund.id))) == 0


def test_the_table_refuses_a_negative_amount_and_one_person_alone(
    session: Session, world: World, centre: User, second: User
) -> None:
    done = record(session, centre, second, "10.00", date(2026, 6, 1))
    for bad in (
        {"amount_fen": -1, "approved_by": second.id},
        {"amount_fen": 100, "approved_by": centre.id},  # asked and approved by one user
    ):
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(
                AdvanceFund(
                    insured_region="110000",
                    treatment_region="460200",
                    effective_from=date(2026, 6, 2),
                    recorded_by=centre.id,
                    approval_id=done.approval_id + 1000,
                    recorded_at=datetime.now(UTC),
                    **bad,
                )
            )
            session.flush()


# --- the suggested amount ----------------------------------------------------------------


def test_the_suggested_amount_is_two_months_of_fund_payments(
    session: Session, world: World, rules: None, centre: User, make_user: MakeUser
) -> None:
    """Twice the monthly average of April and May (the last complete months on 10 June):
    their funds' payments, a reversal counting against them; March is not counted."""
    a, b, c, d = people(session, 4)
    settle(session, a, world.hospital, "AF-mar", at=datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    settle(session, b, world.hospital, "AF-apr", at=APRIL)
    settle(session, c, world.hospital, "AF-may", at=MAY)
    reversed_ = settle(session, d, world.hospital, "AF-may-2", at=MAY)
    reverse_settlement(
        session, settlement_id=reversed_.id, reason="wrong patient", actor="test", now=MAY
    )
    settle(session, a, world.other_hospital, "AF-bd", at=MAY)  # another pair
    session.commit()

    expected = session.scalar(
        select(func.sum(SettlementRecord.fund_pay_total_fen)).where(
            SettlementRecord.treatment_region == "460200",
            SettlementRecord.year_month.in_(("2026-04", "2026-05")),
        )
    )
    assert expected == 2 * STAY_FUNDS_FEN  # April's and May's stays; the reversed one nets 0
    found = advance.suggested_amount(
        session, actor=centre, insured_region="110000", treatment_region="460200", on=JUNE_DAY
    )
    assert found.months == ("2026-04", "2026-05")
    assert (found.fund_fen, found.monthly_average_fen) == (expected, expected // 2)
    assert found.amount_fen == 2 * (expected // 2)
    assert usage_of(session, centre).suggestion == found

    on_may_10 = advance.suggested_amount(
        session, actor=centre, insured_region="110000", treatment_region="460200",
        on=date(2026, 5, 10),
    )  # fmt: skip
    assert on_may_10.months == ("2026-03", "2026-04")
    assert on_may_10.amount_fen == 2 * STAY_FUNDS_FEN

    # the treatment agency sees the suggestion of what is owed to it; Baoding none of it
    sanya = make_user("agency", agency_id=world.sanya_agency.id).user
    assert (
        advance.suggested_amount(
            session, actor=sanya, insured_region="110000", treatment_region="460200", on=JUNE_DAY
        )
        == found
    )
    baoding = make_user("agency", agency_id=world.baoding_center.id).user
    with pytest.raises(NotFound):
        advance.suggested_amount(
            session, actor=baoding, insured_region="110000", treatment_region="460200"
        )


def test_each_party_sees_its_own_pairs(
    session: Session, world: World, rules: None, centre: User, second: User, make_user: MakeUser
) -> None:
    (person,) = people(session, 1)
    settle(session, person, world.hospital, "AF-s", at=MAY)
    record(session, centre, second, "5000.00", date(2026, 5, 1))
    sanya = make_user("agency", agency_id=world.sanya_agency.id).user
    baoding = make_user("agency", agency_id=world.baoding_center.id).user
    assert usage_of(session, sanya).amount_fen == 500_000  # the fund it holds
    assert [u for u in advance.usage(session, actor=baoding, on=JUNE_DAY)] == []
    with pytest.raises(NotFound):
        advance.fund_history(
            session, actor=baoding, insured_region="110000", treatment_region="460200"
        )
    hospital = make_user("hospital").user
    with pytest.raises(Forbidden):
        advance.usage(session, actor=hospital)
    assert advance.recording_region(session, actor=centre) == "110000"
    assert advance.recording_region(session, actor=sanya) is None
    assert advance.treatment_regions(session, actor=centre) == ["460200"]
    assert advance.treatment_regions(session, actor=sanya) == []


# --- the demo ----------------------------------------------------------------------------


def test_the_demo_history_leaves_beijing_warned_and_baoding_normal(
    session: Session, tmp_path: Path
) -> None:
    """The demo records both funds through the services (two reviewers each), sized from
    its own history: Beijing's is in warning, Baoding's normal; Beijing's history keeps the
    earlier, suggested amount."""
    demo = load_demo(session, upload_dir=tmp_path, today=date(2026, 6, 20))
    assert not [n for n in demo.notes if "advance" in n], demo.notes
    levels = {}
    for key, region in (("agency", "110000"), ("agency_bd", "130600")):
        (seen,) = advance.usage(session, actor=demo.users[key], on=date(2026, 6, 20))
        assert (seen.insured_region, seen.treatment_region) == (region, "460200")
        assert seen.amount_fen is not None and seen.amount_fen >= seen.suggestion.amount_fen > 0
        levels[region] = seen.level
    assert levels == {"110000": "warning", "130600": "ok"}
    rows = session.scalars(select(AdvanceFund).order_by(AdvanceFund.id)).all()
    by_user = {(r.insured_region, r.recorded_by, r.approved_by) for r in rows}
    users = demo.users
    assert by_user == {
        ("110000", users["agency"].id, users["agency_2"].id),
        ("130600", users["agency_bd"].id, users["agency_bd_2"].id),
    }
    assert [r.insured_region for r in rows].count("110000") == 2
