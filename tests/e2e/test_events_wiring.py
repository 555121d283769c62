"""Reactions between concepts are wired in every face (yibao.wiring, docs/architecture.md).

Settlements announce ``SettlementRecorded`` / ``SettlementReversed`` and never import the
concepts that react; these tests make sure the reactions happen through the API (a reversal
still reverses the pharmacy sale, cancels the recovery case and reopens the encounter), and
that each face, imported alone in a fresh interpreter, has every handler subscribed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.registry.models import Person

API = "/api/v1"

EXPECTED = {
    "SettlementRecorded": ["yibao.recovery.handlers.open_case_for_advance"],
    "SettlementReversed": [
        "yibao.encounters.handlers.reopen_encounter",
        "yibao.pharmacy.handlers.reverse_sale",
        "yibao.recovery.handlers.cancel_case_on_reversal",
    ],
}
PATIENT_CHECKS = {
    "yibao.encounters.access._has_an_encounter",
    "yibao.filings.access",
    "yibao.pharmacy.access._bought_at_the_pharmacy",
}

PROBE = """
import json, sys
{face}
from yibao import events
from yibao.registry import access
from yibao.settlements.events import SettlementRecorded, SettlementReversed
name = lambda f: f"{{f.__module__}}.{{f.__qualname__}}"
print(json.dumps({{
    "SettlementRecorded": [name(f) for f in events.subscribers(SettlementRecorded)],
    "SettlementReversed": [name(f) for f in events.subscribers(SettlementReversed)],
    "checks": [name(f) for f in access._HOSPITAL_PATIENT_CHECKS],
}}))
"""


FACES = {
    "api": "import yibao.api.app",
    # the command line loads a command when it runs; one on the platform's services wires
    # every reaction first (yibao.cli.main.COMMANDS)
    "cli": "import yibao.cli.main; yibao.cli.main.load_command('settlements')",
    "demo": "import yibao.demo.cli",
}


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_face_subscribes_every_reaction(face: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(face=FACES[face])],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    wired = json.loads(out.stdout)
    assert {k: wired[k] for k in EXPECTED} == EXPECTED
    checks = wired["checks"]
    for expected in PATIENT_CHECKS:
        assert any(check.startswith(expected) for check in checks), (expected, checks)


@pytest.fixture
def patient(session: Session, world: World) -> Person:
    load_rules(session)
    person = add_person(
        session,
        name="郑追偿",
        region="110000",
        born=date(1958, 7, 1),
        sequence=61,
        person_type="retired",
        balance_fen=150_000,
        card_number="BJ-W-0061",
    )
    session.commit()
    return person


def _post(client: TestClient, user: AuthUser, path: str, key: str, body: object) -> object:
    response = client.post(
        f"{API}{path}", json=body, headers={**user.headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_reversing_a_recoverable_settlement_reopens_the_encounter_and_cancels_the_case(
    client: TestClient, patient: Person, make_user: MakeUser
) -> None:
    hospital = make_user("hospital")
    agency = make_user("agency")
    encounter = client.post(
        f"{API}/encounters",
        json={
            "identity_number": patient.identity_number,
            "setting": "inpatient",
            "started_on": "2026-05-01",
            "deposit": "3000.00",
            "liability": "third_party_unresolved",
        },
        headers=hospital.headers,
    ).json()
    _post(client, hospital, f"/encounters/{encounter['id']}/fees", "fees", {"lines": STAY})
    settled = _post(
        client, hospital, f"/encounters/{encounter['id']}/settle", "k-1", {"on": "2026-05-10"}
    )
    assert isinstance(settled, dict) and settled["amounts"]["recoverable"] == "1300.00"
    cases = client.get(f"{API}/recovery/cases", headers=agency.headers).json()
    assert [(c["settlement_id"], c["state"]) for c in cases] == [(settled["id"], "open")]

    _post(client, hospital, f"/settlements/{settled['id']}/reverse", "k-2", {"reason": "x"})

    cases = client.get(f"{API}/recovery/cases", headers=agency.headers).json()
    assert [(c["settlement_id"], c["state"]) for c in cases] == [(settled["id"], "cancelled")]
    again = client.get(f"{API}/encounters/{encounter['id']}", headers=hospital.headers).json()
    assert again["state"] == "open" and again["settlement_id"] is None


def test_reversing_a_pharmacy_settlement_reverses_the_sale(
    client: TestClient, patient: Person, make_user: MakeUser, world: World
) -> None:
    pharmacy = make_user("hospital", institution_id=world.pharmacy.id)
    sale = _post(
        client,
        pharmacy,
        "/pharmacy/sales",
        "s-1",
        {
            "card_number": "BJ-W-0061",
            "on": "2026-06-01",
            "lines": [{"line_id": "P1", "code": "X001", "quantity": "2", "unit_price": "30.00"}],
        },
    )
    assert isinstance(sale, dict) and sale["state"] == "settled"
    # The settlement's own reversal route, not the pharmacy's: the sale follows the fact.
    _post(client, pharmacy, f"/settlements/{sale['settlement']['id']}/reverse", "s-2", {})
    read = client.get(f"{API}/pharmacy/sales/{sale['id']}", headers=pharmacy.headers).json()
    assert read["state"] == "reversed"
