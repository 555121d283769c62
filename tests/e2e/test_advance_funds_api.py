"""The advance fund (预付金) over the API: ``GET /clearing/advance-funds`` (the usage per pair,
its level and the suggestion) and ``POST /clearing/advance-funds`` (202: a second user of
the same centre approves)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from yibao.clearing.models import AdvanceFund

API = "/api/v1"
MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def stays(session: Session, world: World) -> None:
    """Two Beijing retirees' stays in Sanya in May 2026: 3,200.00 advanced by Sanya."""
    load_rules(session, regions=("460200", "110000", "130600"))
    for i in range(2):
        person = add_person(
            session,
            name=f"预付接口{i}",
            region="110000",
            born=date(1953, 3, 1 + i),
            sequence=151 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        settle(session, person, world.hospital, f"AFAPI-{i}", at=MAY)
    session.commit()


def pairs(client: TestClient, user: AuthUser, **params: str) -> dict[str, dict[str, object]]:
    response = client.get(f"{API}/clearing/advance-funds", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return {f"{r['insured_region']}->{r['treatment_region']}": r for r in response.json()}


def test_record_approve_and_read_the_usage(
    client: TestClient, world: World, make_user: MakeUser, stays: None, session: Session
) -> None:
    clerk = make_user("agency", agency_id=world.center.id)
    reviewer = make_user("agency", agency_id=world.center.id)
    before = pairs(client, clerk, on="2026-06-10")["110000->460200"]
    assert before["amount"] is None and before["level"] == "no_advance"
    assert before["in_use"] == "3200.00" and before["entries"] == 2
    assert before["suggested"] == "2600.00"  # 2 × the April–May average: May's funds
    assert before["suggested_months"] == ["2026-04", "2026-05"]
    assert (before["warning_percent"], before["serious_percent"]) == (70, 90)

    asked = client.post(
        f"{API}/clearing/advance-funds",
        json={"treatment_region": "460200", "amount": "4000.00", "effective_from": "2026-06-01"},
        headers=clerk.headers,
    )
    assert asked.status_code == 202, asked.text
    approval = asked.json()
    assert (approval["kind"], approval["state"]) == ("clearing.advance_fund", "pending")
    assert approval["request"]["amount_fen"] == 400_000
    assert pairs(client, clerk, on="2026-06-10")["110000->460200"]["amount"] is None

    same = client.post(f"{API}/approvals/{approval['id']}/approve", headers=clerk.headers)
    assert same.status_code == 403 and same.json()["code"] == "approval.same_user"
    done = client.post(f"{API}/approvals/{approval['id']}/approve", headers=reviewer.headers)
    assert done.status_code == 200, done.text
    assert done.json()["result"]["amount"] == "4000.00"

    after = pairs(client, clerk, on="2026-06-10")["110000->460200"]
    assert after["amount"] == "4000.00" and after["effective_from"] == "2026-06-01"
    assert (after["usage_percent"], after["level"]) == ("80.0", "warning")
    # the day before it took effect, there was none
    assert pairs(client, clerk, on="2026-05-31")["110000->460200"]["level"] == "no_advance"
    # the treatment agency holds the fund and sees the same figures
    sanya = make_user("agency", agency_id=world.sanya_agency.id)
    assert pairs(client, sanya, on="2026-06-10")["110000->460200"] == after


def test_what_is_refused(
    client: TestClient, world: World, make_user: MakeUser, session: Session
) -> None:
    clerk = make_user("agency", agency_id=world.center.id)
    sanya = make_user("agency", agency_id=world.sanya_agency.id)
    baoding = make_user("agency", agency_id=world.baoding_center.id)
    body = {"treatment_region": "460200", "amount": "1000.00"}

    def post(user: AuthUser, **change: str) -> tuple[int, str]:
        response = client.post(
            f"{API}/clearing/advance-funds", json={**body, **change}, headers=user.headers
        )
        return response.status_code, response.json().get("code", "")

    assert post(clerk, amount="-1.00") == (422, "clearing.advance_negative")
    assert post(clerk, treatment_region="110000") == (422, "clearing.advance_same_region")
    assert post(clerk, amount="12,00")[0] == 422  # not a number of yuan
    assert post(sanya) == (403, "clearing.advance_not_debtor")
    assert post(baoding, insured_region="110000") == (403, "clearing.advance_not_debtor")
    hospital = make_user("hospital")
    assert post(hospital)[0] == 403
    assert client.get(f"{API}/clearing/advance-funds", headers=hospital.headers).status_code == 403
    assert client.get(f"{API}/clearing/advance-funds").status_code == 401
    assert session.scalar(select(func.count(AdvanceFund.id))) == 0
