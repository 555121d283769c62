"""Clearing over stored settlements: per pair and fund, frozen statements, late reversals,
and statements that add up to exactly the settlements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_reimburse_kit import STAY, load_rules
from yibao.approvals import service as approvals
from yibao.auth.models import User
from yibao.clearing import service as clearing
from yibao.engine import Claim, ClaimLine
from yibao.registry.models import Institution, Person
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import record_settlement, reverse_settlement

MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


def claim(
    person: Person, hospital: Institution, ref: str, day: date, lines: list[dict[str, str]]
) -> Claim:
    return Claim(
        claim_id=ref,
        date=day,
        setting="inpatient",
        person=person_info(person),
        institution=institution_info(hospital),
        lines=tuple(
            ClaimLine(line["code"], Decimal(line["quantity"]), Decimal(line["unit_price"]))
            for line in lines
        ),
    )


def settle(
    session: Session,
    person: Person,
    hospital: Institution,
    ref: str,
    *,
    at: datetime,
    lines: list[dict[str, str]] | None = None,
) -> SettlementRecord:
    row, _ = record_settlement(
        session,
        claim=claim(person, hospital, ref, at.date(), lines or STAY),
        person_id=person.id,
        institution_id=hospital.id,
        account_person_id=person.id,
        msg_id=ref,
        now=at,
    )
    return row


@pytest.fixture
def admin(make_user: MakeUser) -> User:
    return make_user("admin").user


@pytest.fixture
def retirees(session: Session, world: World) -> list[Person]:
    load_rules(session, regions=("460200", "110000", "130600"))
    people = [
        add_person(
            session,
            name=f"清算{i}",
            region="110000",
            born=date(1955, 1, 1 + i),
            sequence=71 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        for i in range(3)
    ]
    session.commit()
    return people


def test_statements_per_pair_add_up_to_the_settlements(
    session: Session, world: World, retirees: list[Person], admin: User
) -> None:
    """Two Sanya stays and one Baoding stay (Beijing insured) in May, plus a local one that
    is not cleared. Unfiled stays: pool 60% × 1000 = 600, supplementary 50% × 1400 = 700,
    account 300 (its whole balance) each."""
    a, b, c = retirees
    settle(session, a, world.hospital, "SY-1", at=MAY)
    settle(session, b, world.hospital, "SY-2", at=MAY)
    settle(session, c, world.other_hospital, "BD-1", at=MAY)
    local = session.scalars(
        select(Institution).where(
            Institution.region_code == "110000", Institution.kind == "hospital"
        )
    ).first()
    assert local is not None
    settle(session, a, local, "BJ-1", at=MAY)  # local care is not cleared between regions

    rows = clearing.build_month(session, actor=admin, month="2026-05", now=JUNE)
    by_pair = {(r.insured_region, r.treatment_region): r for r in rows}
    assert set(by_pair) == {("110000", "460200"), ("110000", "130600")}
    sanya = by_pair[("110000", "460200")]
    assert (sanya.settlements, sanya.reversals, sanya.state) == (2, 0, "draft")
    assert sanya.total_fen == 472_000
    assert sanya.pool_fen == 120_000
    assert sanya.supplementary_fen == 140_000
    assert sanya.account_fen == 60_000
    assert sanya.cash_fen == 472_000 - 120_000 - 140_000 - 60_000

    stored = session.execute(
        select(
            func.sum(SettlementRecord.total_fen),
            func.sum(SettlementRecord.pool_fund_pay_fen),
            func.sum(SettlementRecord.supplementary_pay_fen),
            func.sum(SettlementRecord.assistance_pay_fen),
            func.sum(SettlementRecord.account_pay_fen),
            func.sum(SettlementRecord.cash_pay_fen),
        ).where(SettlementRecord.insured_region != SettlementRecord.treatment_region)
    ).one()
    sums = tuple(
        sum(getattr(r, f) for r in rows)
        for f in (
            "total_fen",
            "pool_fen",
            "supplementary_fen",
            "assistance_fen",
            "account_fen",
            "cash_fen",
        )
    )
    assert sums == tuple(int(v) for v in stored)


def test_confirmed_statement_is_frozen_and_a_late_reversal_goes_to_next_month(
    session: Session, world: World, retirees: list[Person], admin: User, make_user: MakeUser
) -> None:
    second_admin = make_user("admin").user
    a, b, _ = retirees
    first = settle(session, a, world.hospital, "SY-1", at=MAY)
    settle(session, b, world.hospital, "SY-2", at=MAY)
    # May cannot be confirmed while it lasts; from June on, a second person approves.
    with pytest.raises(Exception) as open_month:
        clearing.build_month(session, actor=admin, month="2026-05", confirm=True, now=MAY)
    assert getattr(open_month.value, "code", "") == "clearing.month_open"
    [may] = clearing.build_month(session, actor=admin, month="2026-05", confirm=True, now=JUNE)
    assert may.state == "draft"
    [asked] = approvals.list_approvals(session, actor=admin)
    with pytest.raises(Exception) as same:
        approvals.approve(session, actor=admin, approval_id=asked.id, now=JUNE)
    assert getattr(same.value, "code", "") == "approval.same_user"
    approvals.approve(session, actor=second_admin, approval_id=asked.id, now=JUNE)
    assert may.state == "confirmed"
    frozen = (may.settlements, may.pool_fen, may.account_fen)

    # a reversal recorded in May after the confirmation: late for May
    reverse_settlement(session, settlement_id=first.id, reason="wrong patient", now=MAY)
    [again] = clearing.build_month(session, actor=admin, month="2026-05", now=JUNE)
    assert again.id == may.id
    assert (again.settlements, again.pool_fen, again.account_fen) == frozen
    [june] = clearing.build_month(session, actor=admin, month="2026-06", now=JUNE)
    assert (june.settlements, june.reversals, june.late_entries) == (0, 1, 1)
    assert june.pool_fen == -first.pool_fund_pay_fen
    assert june.account_fen == -first.account_pay_fen
    # May (frozen) and June together: exactly the one settlement left standing
    assert may.pool_fen + june.pool_fen == 60_000

    with pytest.raises(Exception) as caught:
        clearing.confirm_statement(session, actor=admin, statement_id=may.id)
    assert getattr(caught.value, "code", "") == "state.invalid_transition"


def test_reimbursements_and_other_regions_stay_out_and_agencies_see_their_pairs(
    session: Session, world: World, retirees: list[Person], make_user: MakeUser
) -> None:
    a, _, c = retirees
    settle(session, a, world.hospital, "SY-1", at=MAY)
    settle(session, c, world.other_hospital, "BD-1", at=MAY)
    record_settlement(
        session,
        claim=claim(a, world.hospital, "R-1", date(2026, 5, 2), STAY[:1]),
        person_id=a.id,
        source="reimbursement",
        institution_id=world.hospital.id,
        now=MAY,
    )
    sanya_agency = make_user("agency", agency_id=world.sanya_agency.id, region_code="460200")
    rows = clearing.build_month(session, actor=sanya_agency.user, month="2026-05", now=JUNE)
    # the reimbursement is not cleared; the creditor gets only the statements owed to it
    assert [(r.insured_region, r.treatment_region, r.settlements) for r in rows] == [
        ("110000", "460200", 1)
    ]
    baoding = make_user("agency", agency_id=world.baoding_center.id)
    owed = clearing.build_month(session, actor=baoding.user, month="2026-05", now=JUNE)
    assert [(r.insured_region, r.treatment_region) for r in owed] == []
    seen = clearing.list_statements(session, actor=sanya_agency.user, month="2026-05")
    assert [(s.insured_region, s.treatment_region) for s in seen] == [("110000", "460200")]
    insured = make_user("insured")
    with pytest.raises(Exception) as caught:
        clearing.build_month(session, actor=insured.user, month="2026-05")
    assert getattr(caught.value, "code", "") == "clearing.forbidden"


def test_clearing_api_and_cli_progress(
    client: object, session: Session, world: World, retirees: list[Person], make_user: MakeUser
) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    settle(session, retirees[0], world.hospital, "SY-1", at=MAY)
    session.commit()
    admin = make_user("admin")
    response = client.post("/api/v1/clearing/months/2026-05", headers=admin.headers)
    assert response.status_code == 200, response.text
    [statement] = response.json()
    assert statement["pool"] == "600.00"
    assert statement["amount_due"] == "1600.00"  # 600 pool + 700 supplementary + 300 account
    response = client.post(
        f"/api/v1/clearing/statements/{statement['id']}/confirm", headers=admin.headers
    )
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "pending"
    second = make_user("admin")
    approved = client.post(
        f"/api/v1/approvals/{response.json()['id']}/approve", headers=second.headers
    )
    assert approved.status_code == 200, approved.text
    frozen = client.get(f"/api/v1/clearing/statements/{statement['id']}", headers=admin.headers)
    assert frozen.json()["state"] == "confirmed"
    again = client.post(
        f"/api/v1/clearing/statements/{statement['id']}/confirm", headers=admin.headers
    )
    assert again.status_code == 409
    hospital = make_user("hospital")
    assert client.get("/api/v1/clearing/statements", headers=hospital.headers).status_code == 403


def test_a_confirmation_asked_before_a_rebuild_is_refused_clearly(
    session: Session, world: World, retirees: list[Person], admin: User, make_user: MakeUser
) -> None:
    """Building the month again (after a late settlement) replaces its drafts: the request
    made for the old figures cannot confirm figures nobody asked about; it answers a clear
    409 and can be rejected. (SQLite may give the new draft the old id.)"""
    settle(session, retirees[0], world.hospital, "SY-1", at=MAY)
    [draft] = clearing.build_month(session, actor=admin, month="2026-05", now=JUNE)
    asked = clearing.confirm_statement(session, actor=admin, statement_id=draft.id, now=JUNE)
    settle(session, retirees[1], world.hospital, "SY-2", at=MAY)
    [rebuilt] = clearing.build_month(session, actor=admin, month="2026-05", now=JUNE)
    assert rebuilt.settlements == 2
    second = make_user("admin").user
    with pytest.raises(Exception) as stale:
        approvals.approve(session, actor=second, approval_id=asked.id, now=JUNE)
    assert getattr(stale.value, "code", "") == "clearing.statement_rebuilt"
    rejected = approvals.reject(
        session, actor=second, approval_id=asked.id, reason="rebuilt", now=JUNE
    )
    assert rejected.state == "rejected" and rebuilt.state == "draft"
