"""Direct settlement at the hospital window over HTTP: registration, fee details,
pre-settlement, settlement, reversal, exclusions, recovery and the person's view.

Figures are hand-computed from ``test_settle_kit.POLICY`` (see the test docstrings).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.registry.models import Account, AccountMovement, Institution, Person
from yibao.settlements import routes as settlement_routes
from yibao.settlements.models import SettlementRecord, YearAccumulator

API = "/api/v1"
DAY = "2026-05-10"


@pytest.fixture
def patient(session: Session, world: World) -> Person:
    """A Beijing retiree (insured 110000) with 1,500.00 on the personal account."""
    load_rules(session)
    person = add_person(
        session,
        name="钱退休",
        region="110000",
        born=date(1956, 4, 2),
        sequence=41,
        person_type="retired",
        balance_fen=150_000,
        card_number="BJ-T-0041",
    )
    session.commit()
    return person


@pytest.fixture
def hospital(make_user: MakeUser) -> AuthUser:
    return make_user("hospital")


@pytest.fixture
def fixed_now(app: Any) -> datetime:
    now = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)
    app.dependency_overrides[settlement_routes.get_now] = lambda: now
    return now


def admit(
    client: TestClient,
    hospital: AuthUser,
    person: Person,
    *,
    deposit: str = "3000.00",
    lines: list[dict[str, str]] | None = None,
    **extra: Any,
) -> int:
    body = {
        "identity_number": person.identity_number,
        "setting": "inpatient",
        "started_on": "2026-05-01",
        "deposit": deposit,
        **extra,
    }
    response = client.post(f"{API}/encounters", json=body, headers=hospital.headers)
    assert response.status_code == 201, response.text
    encounter_id: int = response.json()["id"]
    response = client.post(
        f"{API}/encounters/{encounter_id}/fees",
        json={"lines": lines if lines is not None else STAY},
        headers=hospital.headers,
    )
    assert response.status_code == 201, response.text
    return encounter_id


def settle(client: TestClient, hospital: AuthUser, encounter_id: int, key: str, **body: Any) -> Any:
    return client.post(
        f"{API}/encounters/{encounter_id}/settle",
        json={"on": DAY, **body},
        headers={**hospital.headers, "Idempotency-Key": key},
    )


def balance(session: Session, person: Person) -> int:
    session.expire_all()
    account = session.get(Account, person.id)
    assert account is not None
    return account.balance_fen


def year_row(session: Session, person: Person) -> YearAccumulator | None:
    session.expire_all()
    return session.get(YearAccumulator, (person.id, 2026))


def test_first_admission_settles_as_computed_by_hand(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser, fixed_now: datetime
) -> None:
    """Unfiled at a level-3 Sanya hospital: in scope 1000 + 900 + 100 = 2000; deductible
    1000; pool (80% − 20 points) × 1000 = 600; supplementary 50% × 1400 = 700; burden
    2360 − 1300 = 1060, all from the account (1500); deposit 3000 refunded in full."""
    encounter_id = admit(client, hospital, patient)
    response = settle(client, hospital, encounter_id, "k-1", msg_id="MSG-1")
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["offsite_status"] == "unfiled"
    assert out["amounts"]["total"] == "2360.00"
    assert out["amounts"]["deductible"] == "1000.00"
    assert out["amounts"]["pool_fund_pay"] == "600.00"
    assert out["amounts"]["supplementary_pay"] == "700.00"
    assert out["amounts"]["account_pay"] == "1060.00"
    assert out["amounts"]["cash_pay"] == "0.00"
    assert out["deposit_refund"] == "3000.00"
    assert [line["line_id"] for line in out["lines"]] == ["L1", "L2", "L3", "L4"]
    assert out["lines"][3]["over_limit_self_pay"] == "60.00"
    # explained in Chinese by default, the agency's own words
    assert any("起付线" in sentence for sentence in out["explanation"])

    assert balance(session, patient) == 150_000 - 106_000
    row = year_row(session, patient)
    assert row is not None
    assert (row.inpatient_in_scope_cum_fen, row.inpatient_deductible_met_fen) == (200_000, 100_000)
    assert (row.inpatient_pool_paid_cum_fen, row.inpatient_admissions) == (60_000, 1)
    assert json.loads(row.supplementary) == {"big": {"base_cum": 140_000, "paid_cum": 70_000}}
    movement = (
        session.execute(
            select(AccountMovement)
            .where(AccountMovement.person_id == patient.id)
            .order_by(AccountMovement.id.desc())
        )
        .scalars()
        .first()
    )
    assert movement is not None and movement.amount_fen == -106_000
    assert movement.balance_after_fen == 44_000

    encounter = client.get(f"{API}/encounters/{encounter_id}", headers=hospital.headers).json()
    assert encounter["state"] == "settled" and encounter["settlement_id"] == out["id"]


def test_pre_settlement_changes_nothing(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser
) -> None:
    encounter_id = admit(client, hospital, patient, deposit="500.00")
    response = client.post(
        f"{API}/encounters/{encounter_id}/pre-settle", json={"on": DAY}, headers=hospital.headers
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["fund_pay_total"] == "1300.00" and out["account_pay"] == "1060.00"
    assert out["deposit_refund"] == "500.00" and out["cash_due"] == "0.00"
    assert balance(session, patient) == 150_000
    assert year_row(session, patient) is None or year_row(session, patient).version == 0  # type: ignore[union-attr]
    count = session.scalar(select(func.count()).select_from(SettlementRecord))
    assert count == 0
    state = client.get(f"{API}/encounters/{encounter_id}", headers=hospital.headers).json()
    assert state["state"] == "open"


def test_reversal_restores_exactly_this_claims_share_and_allows_settling_again(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser, fixed_now: datetime
) -> None:
    """A (first admission) then B (second: deductible 500, pool 900, supplementary capped at
    300, account 440 left, cash 720). Reversing A leaves exactly B's contributions and gives
    A's 1060 back to the account; A then settles again as a second admission."""
    first = admit(client, hospital, patient)
    a = settle(client, hospital, first, "k-a").json()
    second = admit(client, hospital, patient)  # one admission at a time: A is discharged
    b = settle(client, hospital, second, "k-b").json()
    assert b["amounts"]["deductible"] == "500.00" and b["amounts"]["pool_fund_pay"] == "900.00"
    assert b["amounts"]["supplementary_pay"] == "300.00"
    assert b["amounts"]["account_pay"] == "440.00" and b["amounts"]["cash_pay"] == "720.00"
    assert b["deposit_refund"] == "2280.00"
    assert balance(session, patient) == 0

    response = client.post(
        f"{API}/settlements/{a['id']}/reverse",
        json={"reason": "wrong admission"},
        headers={**hospital.headers, "Idempotency-Key": "k-rev-a"},
    )
    assert response.status_code == 201, response.text
    reversal = response.json()
    assert reversal["kind"] == "reversal" and reversal["reverses_id"] == a["id"]
    assert reversal["amounts"]["fund_pay_total"] == "-1300.00"
    assert reversal["lines"][0]["amount"] == "-1000.00"

    assert balance(session, patient) == 106_000
    row = year_row(session, patient)
    assert row is not None
    assert row.inpatient_in_scope_cum_fen == 200_000
    assert row.inpatient_deductible_met_fen == 50_000
    assert row.inpatient_pool_paid_cum_fen == 90_000
    assert row.inpatient_admissions == 1
    assert json.loads(row.supplementary) == {"big": {"base_cum": 110_000, "paid_cum": 30_000}}

    again = client.post(
        f"{API}/settlements/{a['id']}/reverse",
        json={"reason": "twice"},
        headers={**hospital.headers, "Idempotency-Key": "k-rev-a-2"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "state.invalid_transition"

    resettled = settle(client, hospital, first, "k-a-again")
    assert resettled.status_code == 201, resettled.text
    assert resettled.json()["amounts"]["deductible"] == "500.00"


def test_fee_lines_refuse_repeated_ids_and_can_be_withdrawn_before_settlement(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser
) -> None:
    encounter_id = admit(client, hospital, patient)
    repeated = client.post(
        f"{API}/encounters/{encounter_id}/fees",
        json={"lines": [{"line_id": "L2", "code": "X001", "quantity": "1", "unit_price": "1"}]},
        headers=hospital.headers,
    )
    assert repeated.status_code == 422
    assert repeated.json()["code"] == "fees.duplicate_line_id"
    assert repeated.json()["line_ids"] == ["L2"]
    within = client.post(
        f"{API}/encounters/{encounter_id}/fees",
        json={
            "lines": [
                {"line_id": "L9", "code": "X001", "quantity": "1", "unit_price": "1"},
                {"line_id": "L9", "code": "X001", "quantity": "1", "unit_price": "1"},
            ]
        },
        headers=hospital.headers,
    )
    assert within.status_code == 422
    unknown = client.post(
        f"{API}/encounters/{encounter_id}/fees",
        json={"lines": [{"line_id": "L10", "code": "NOPE", "quantity": "1", "unit_price": "1"}]},
        headers=hospital.headers,
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "catalog.unknown_code"

    withdrawn = client.delete(f"{API}/encounters/{encounter_id}/fees/L3", headers=hospital.headers)
    assert withdrawn.status_code == 200
    out = settle(client, hospital, encounter_id, "k-w").json()
    assert out["amounts"]["total"] == "2160.00"
    assert out["amounts"]["full_self_pay"] == "0.00"
    late = client.delete(f"{API}/encounters/{encounter_id}/fees/L1", headers=hospital.headers)
    assert late.status_code == 409
    assert late.json()["allowed"] == ["reverse"]


def test_retry_with_the_same_key_replays_and_a_different_request_conflicts(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser
) -> None:
    encounter_id = admit(client, hospital, patient)
    first = settle(client, hospital, encounter_id, "same-key", msg_id="M-1")
    retry = settle(client, hospital, encounter_id, "same-key", msg_id="M-1")
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert balance(session, patient) == 150_000 - 106_000
    count = session.scalar(select(func.count()).select_from(SettlementRecord))
    assert count == 1

    other = settle(client, hospital, encounter_id, "same-key", msg_id="M-2")
    assert other.status_code == 409 and other.json()["code"] == "idempotency.key_reused"
    missing = client.post(
        f"{API}/encounters/{encounter_id}/settle", json={"on": DAY}, headers=hospital.headers
    )
    assert missing.status_code == 422 and missing.json()["code"] == "idempotency.key_required"


def test_hospital_reverses_by_its_original_message_id(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser
) -> None:
    encounter_id = admit(client, hospital, patient)
    settle(client, hospital, encounter_id, "k-msg", msg_id="HOSP-0001")
    # The response was lost; the hospital reverses what it sent under HOSP-0001 (2601).
    response = client.post(
        f"{API}/settlements/reverse-by-message",
        json={"original_msg_id": "HOSP-0001", "msg_id": "HOSP-0002"},
        headers={**hospital.headers, "Idempotency-Key": "k-2601"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "reversal"
    assert balance(session, patient) == 150_000
    row = year_row(session, patient)
    assert (
        row is not None and row.inpatient_admissions == 0 and row.inpatient_pool_paid_cum_fen == 0
    )
    unknown = client.post(
        f"{API}/settlements/reverse-by-message",
        json={"original_msg_id": "NEVER-SENT"},
        headers={**hospital.headers, "Idempotency-Key": "k-2601-x"},
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "settlement.message_not_found"
    reused = settle(client, hospital, encounter_id, "k-msg-2", msg_id="HOSP-0001")
    assert reused.status_code == 422 and reused.json()["code"] == "settlement.duplicate_msg_id"


@pytest.mark.parametrize("liability", ["work_injury", "third_party", "public_health", "abroad"])
def test_excluded_liabilities_are_not_paid_by_the_fund(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser, liability: str
) -> None:
    encounter_id = admit(client, hospital, patient, liability=liability)
    out = settle(client, hospital, encounter_id, f"k-{liability}").json()
    assert out["amounts"]["fund_pay_total"] == "0.00"
    assert out["amounts"]["full_self_pay"] == "2360.00"
    assert out["amounts"]["account_pay"] == "1500.00"
    assert out["amounts"]["cash_pay"] == "860.00"
    row = year_row(session, patient)
    assert row is not None and row.inpatient_pool_paid_cum_fen == 0


def test_unresolved_third_party_is_paid_in_advance_and_recovered_by_the_agency(
    client: TestClient,
    session: Session,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
) -> None:
    encounter_id = admit(client, hospital, patient, liability="third_party_unresolved")
    out = settle(client, hospital, encounter_id, "k-tp").json()
    assert out["amounts"]["fund_pay_total"] == "1300.00"
    assert out["amounts"]["recoverable"] == "1300.00"

    agency = make_user("agency")
    cases = client.get(f"{API}/recovery/cases", headers=agency.headers).json()
    assert len(cases) == 1 and cases[0]["amount"] == "1300.00" and cases[0]["state"] == "open"
    assert cases[0]["settlement_id"] == out["id"]
    too_much = client.post(
        f"{API}/recovery/cases/{cases[0]['id']}/close",
        json={"recovered": "1300.01"},
        headers={**agency.headers, "Idempotency-Key": "k-close-0"},
    )
    assert too_much.status_code == 422
    closed = client.post(
        f"{API}/recovery/cases/{cases[0]['id']}/close",
        json={"recovered": "1000.00", "note": "insurer of the driver paid"},
        headers={**agency.headers, "Idempotency-Key": "k-close"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed" and closed.json()["outstanding"] == "300.00"
    assert client.get(f"{API}/recovery/cases?state=open", headers=agency.headers).json() == []
    hospital_view = client.get(f"{API}/recovery/cases", headers=hospital.headers)
    assert hospital_view.status_code == 403


def test_the_insured_person_sees_own_settlements_explained(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
) -> None:
    encounter_id = admit(client, hospital, patient)
    out = settle(client, hospital, encounter_id, "k-view").json()
    me = make_user("insured", person_id=patient.id)
    listed = client.get(f"{API}/settlements", headers=me.headers).json()
    assert [row["id"] for row in listed] == [out["id"]]
    detail = client.get(f"{API}/settlements/{out['id']}?lang=en", headers=me.headers).json()
    assert detail["amounts"]["fund_pay_total"] == "1300.00"
    text = "\n".join(detail["explanation"])
    assert "unfiled" in text and "X003" in text and "not eligible" in text
    assert detail["lines"][2]["full_self_pay"] == "200.00"

    someone_else = make_user("insured", person_id=world.worker.id)
    assert client.get(f"{API}/settlements", headers=someone_else.headers).json() == []
    hidden = client.get(f"{API}/settlements/{out['id']}", headers=someone_else.headers)
    assert hidden.status_code == 404


def test_clearing_totals_per_region_pair_and_month(
    client: TestClient,
    session: Session,
    patient: Person,
    hospital: AuthUser,
    fixed_now: datetime,
    make_user: MakeUser,
) -> None:
    first = admit(client, hospital, patient)
    a = settle(client, hospital, first, "k-c1").json()
    second = admit(client, hospital, patient)
    settle(client, hospital, second, "k-c2")
    client.post(
        f"{API}/settlements/{a['id']}/reverse",
        json={},
        headers={**hospital.headers, "Idempotency-Key": "k-c3"},
    )
    agency = make_user("agency")
    totals = client.get(
        f"{API}/settlements/totals?year_month=2026-05", headers=agency.headers
    ).json()
    assert len(totals) == 1
    row = totals[0]
    assert (row["insured_region"], row["treatment_region"]) == ("110000", "460200")
    assert (row["settlements"], row["reversals"]) == (2, 1)
    # A + B − A = B: pool 900, supplementary 300, account 440.
    assert row["pool_fund_pay"] == "900.00" and row["supplementary_pay"] == "300.00"
    assert row["account_pay"] == "440.00" and row["fund_pay_total"] == "1200.00"


def test_local_and_networked_rules(
    client: TestClient, session: Session, world: World, patient: Person, make_user: MakeUser
) -> None:
    """A non-networked hospital cannot settle an off-site patient directly; at home the
    patient is local (no reduction: 80% × 1000 = 800)."""
    not_networked = Institution(
        code="H460200T09",
        name="三亚未联网医院",
        region_code="460200",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=False,
    )
    home = Institution(
        code="H110000T01",
        name="北京某医院",
        region_code="110000",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=False,
    )
    session.add_all([not_networked, home])
    session.commit()
    off = make_user("hospital", institution_id=not_networked.id)
    encounter_id = admit(client, off, patient)
    refused = settle(client, off, encounter_id, "k-nn")
    assert refused.status_code == 422 and refused.json()["code"] == "settlement.not_networked"
    # the patient pays in full there; the admission is closed without a settlement
    cancelled = client.post(
        f"{API}/encounters/{encounter_id}/cancel",
        json={"reason": "paid in full: not networked"},
        headers=off.headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    local = make_user("hospital", institution_id=home.id)
    encounter_id = admit(client, local, patient)
    out = settle(client, local, encounter_id, "k-local").json()
    assert out["offsite_status"] == "local"
    assert out["amounts"]["pool_fund_pay"] == "800.00"


def test_only_the_own_hospital_acts_on_an_encounter(
    client: TestClient,
    world: World,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
    users: dict[str, AuthUser],
) -> None:
    encounter_id = admit(client, hospital, patient)
    other = make_user("hospital", institution_id=world.other_hospital.id)
    assert settle(client, other, encounter_id, "k-other").status_code == 404
    insured = users["insured"]
    assert settle(client, insured, encounter_id, "k-ins").status_code == 403


def test_fee_lines_read_back_as_plain_decimals(
    client: TestClient, patient: Person, hospital: AuthUser
) -> None:
    lines = [{"line_id": "Q1", "code": "X001", "quantity": "10", "unit_price": "65.10"}]
    encounter_id = admit(client, hospital, patient, lines=lines)
    body = client.get(f"{API}/encounters/{encounter_id}", headers=hospital.headers).json()
    (line,) = body["fee_lines"]
    assert (line["quantity"], line["unit_price"]) == ("10", "65.1")  # never "1E+1"


def test_the_receipt_invoice_number_is_kept_and_a_claim_for_it_is_flagged(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser
) -> None:
    from yibao.claim_checks import service as claim_checks
    from yibao.reimbursements.schemas import InvoiceIn, LineIn, PayoutIn, ReimbursementCreate
    from yibao.reimbursements.service import submit_claim
    from yibao.users.service import create_user

    encounter_id = admit(client, hospital, patient)
    response = settle(client, hospital, encounter_id, "k-invoice", invoice_no="FP 2026-0001")
    assert response.status_code == 201, response.text
    assert response.json()["invoice_no"] == "FP20260001"  # stored normalised

    insured = create_user(session, name="p", role="insured", person_id=patient.id).user
    claim = submit_claim(
        session,
        actor=insured,
        data=ReimbursementCreate(
            person_id=patient.id,
            case_type="card_not_carried",
            setting="outpatient",
            institution_id=hospital.user.institution_id or 0,
            treatment_date=date(2026, 6, 1),
            total=Decimal("20.00"),
            diagnoses=["J06.9"],
            invoices=[InvoiceIn(number="fp-2026-0001", amount=Decimal("20.00"))],
            lines=[LineIn(code="X001", quantity=Decimal(1), unit_price=Decimal("20.00"))],
            payout=PayoutIn(method="bank_account", account_number="62220000"),
        ),
    )
    codes = {
        f.code
        for f in claim_checks.findings_for(
            session, subject_kind="reimbursement", subject_id=claim.id
        )
    }
    assert "audit.duplicate_invoice" in codes
