"""Issue journeys at the hospital window: a mistake can be undone, a hospital finds its
encounters, and dates and amounts nobody would accept are refused with the field named."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import load_rules
from tests.integration.test_settle_window import API, STAY, admit, settle
from tests.unit import enginekit as kit
from yibao.encounters.limits import (
    MAX_ENCOUNTER_TOTAL,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
)
from yibao.encounters.schemas import FeeLineCreate
from yibao.engine import settle as engine_settle
from yibao.engine.models import ClaimLine
from yibao.money import round2
from yibao.registry.models import Person


@pytest.fixture
def patient(session: Session, world: World) -> Person:
    load_rules(session)
    person = add_person(
        session,
        name="孙住院",
        region="110000",
        born=date(1958, 2, 3),
        sequence=43,
        person_type="retired",
        balance_fen=0,
    )
    session.commit()
    return person


@pytest.fixture
def hospital(make_user: MakeUser) -> AuthUser:
    return make_user("hospital")


def register(client: TestClient, who: AuthUser, person: Person, **body: Any) -> Any:
    return client.post(
        f"{API}/encounters",
        json={"identity_number": person.identity_number, "setting": "inpatient", **body},
        headers=who.headers,
    )


def test_an_encounter_registered_by_mistake_can_be_cancelled(
    client: TestClient, patient: Person, hospital: AuthUser, make_user: MakeUser, world: World
) -> None:
    encounter_id = admit(client, hospital, patient)
    url = f"{API}/encounters/{encounter_id}/cancel"
    other = make_user("hospital", institution_id=world.other_hospital.id)
    assert client.post(url, json={"reason": "x"}, headers=other.headers).status_code == 404
    assert client.post(url, json={"reason": ""}, headers=hospital.headers).status_code == 422
    cancelled = client.post(url, json={"reason": "wrong patient"}, headers=hospital.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    # a cancelled encounter takes no fees and settles nothing; the patient can be admitted
    fees = client.post(
        f"{API}/encounters/{encounter_id}/fees", json={"lines": STAY}, headers=hospital.headers
    )
    assert fees.status_code == 409
    assert "cannot upload_fees: the encounter is cancelled" in fees.json()["detail"]
    assert settle(client, hospital, encounter_id, "k-x").status_code == 409
    settled = admit(client, hospital, patient)
    assert settle(client, hospital, settled, "k-1").status_code == 201
    refused = client.post(
        f"{API}/encounters/{settled}/cancel", json={"reason": "late"}, headers=hospital.headers
    )
    assert refused.status_code == 409  # a standing settlement is reversed first


def test_a_hospital_lists_and_filters_its_encounters(
    client: TestClient,
    session: Session,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
    world: World,
) -> None:
    first = admit(client, hospital, patient, started_on="2026-05-01")
    settle(client, hospital, first, "k-l1")
    second = admit(client, hospital, patient, started_on="2026-05-20")
    visit = client.post(
        f"{API}/encounters",
        json={
            "identity_number": patient.identity_number,
            "setting": "outpatient",
            "started_on": "2026-06-02",
        },
        headers=hospital.headers,
    ).json()["id"]
    other = make_user("hospital", institution_id=world.other_hospital.id)
    mine = client.get(f"{API}/encounters", headers=hospital.headers).json()
    assert [e["id"] for e in mine] == [visit, second, first]  # newest first
    assert client.get(f"{API}/encounters", headers=other.headers).json() == []

    def ids(**query: Any) -> list[int]:
        got = client.get(f"{API}/encounters", params=query, headers=hospital.headers)
        assert got.status_code == 200, got.text
        return [e["id"] for e in got.json()]

    assert ids(state="settled") == [first]
    assert ids(setting="outpatient") == [visit]
    assert ids(started_from="2026-05-10", started_to="2026-05-31") == [second]
    assert ids(person_id=patient.id, limit=1, offset=1) == [second]
    assert client.get(f"{API}/encounters?state=lost", headers=hospital.headers).status_code == 422


def test_dates_in_the_future_are_refused(
    client: TestClient, patient: Person, hospital: AuthUser
) -> None:
    future = register(client, hospital, patient, started_on="2030-01-01")
    assert future.status_code == 422
    assert future.json()["code"] == "encounter.date_future"
    assert "started_on" in future.json()["detail"]
    encounter_id = admit(client, hospital, patient)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    for action in ("pre-settle", "settle"):
        response = client.post(
            f"{API}/encounters/{encounter_id}/{action}",
            json={"on": tomorrow},
            headers={**hospital.headers, "Idempotency-Key": f"k-{action}"},
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "settlement.date_future"


def test_one_open_inpatient_admission_per_person(
    client: TestClient, patient: Person, hospital: AuthUser, make_user: MakeUser, world: World
) -> None:
    first = admit(client, hospital, patient)
    elsewhere = make_user("hospital", institution_id=world.beijing_hospital.id)
    again = register(client, elsewhere, patient, started_on="2026-05-03")
    assert again.status_code == 409
    assert again.json()["code"] == "encounter.already_admitted"
    assert f"encounter {first}" in again.json()["detail"]
    # an outpatient visit meanwhile is fine
    visit = register(client, elsewhere, patient, setting="outpatient", started_on="2026-05-03")
    assert visit.status_code == 201


def test_amounts_nobody_would_accept_are_refused_naming_the_field(
    client: TestClient, patient: Person, hospital: AuthUser
) -> None:
    encounter_id = register(client, hospital, patient, started_on="2026-05-01").json()["id"]
    url = f"{API}/encounters/{encounter_id}/fees"

    def upload(quantity: str, price: str, line_id: str = "1") -> Any:
        line = {"line_id": line_id, "code": "X001", "quantity": quantity, "unit_price": price}
        return client.post(url, json={"lines": [line]}, headers=hospital.headers)

    huge = upload("99999999999999", "99999999999999")
    assert huge.status_code == 422
    assert "quantity" in huge.text and "unit_price" in huge.text
    line = upload("10000", "1000")  # 10,000,000.00 for one line
    assert line.status_code == 422 and line.json()["code"] == "fees.too_large"
    assert "lines[0] (line 1)" in line.json()["detail"]
    for n in range(4):  # 4 × 5,000,000.00 = 20,000,000.00: the encounter's limit
        assert upload("5000", "1000", line_id=f"ok{n}").status_code == 201
    over = upload("1", "0.01", line_id="over")
    assert over.status_code == 422 and over.json()["code"] == "fees.encounter_too_large"
    # every accepted amount settles without an error
    pre = client.post(
        f"{API}/encounters/{encounter_id}/pre-settle",
        json={"on": "2026-05-10"},
        headers=hospital.headers,
    )
    assert pre.status_code == 200, pre.text
    assert pre.json()["total"] == f"{MAX_ENCOUNTER_TOTAL:.2f}"


CATALOG = kit.catalog(
    kit.item("A"),
    kit.item("B", "B", self_pay_ratio=Decimal("0.1"), price_ceiling=Decimal("800.00")),
    kit.item("C", "C"),
)
quantities = st.decimals(min_value=0, max_value=MAX_QUANTITY, places=4)
prices = st.decimals(min_value=0, max_value=MAX_UNIT_PRICE, places=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), quantities, prices), min_size=1, max_size=40
    ),
    setting=st.sampled_from(["inpatient", "outpatient"]),
)
def test_the_engine_never_raises_on_amounts_the_schemas_accept(
    lines: list[tuple[str, Decimal, Decimal]], setting: str
) -> None:
    """Every quantity and price the fee-line schema accepts, up to its limits, settles
    without an error, and the money adds up (the 500s of 99,999,999,999,999 × ...)."""
    accepted = [
        FeeLineCreate(line_id=str(i), code=code, quantity=q, unit_price=p)
        for i, (code, q, p) in enumerate(lines)
    ]
    claim = kit.claim(
        *(ClaimLine(code=x.code, quantity=x.quantity, unit_price=x.unit_price) for x in accepted),
        setting=setting,
    )
    result = engine_settle(claim, policies=[kit.policy()], catalog=CATALOG)
    assert result.status == "settled"
    assert result.fund_pay_total + result.account_pay + result.cash_pay == result.total
    assert result.total == sum((round2(q * p) for _, q, p in lines), Decimal("0.00"))
