"""Fixtures of the FHIR face's tests: a fixed day, a patient with rules, Claims to send.

The figures of :data:`tests.integration.test_settle_kit.STAY` are hand-computed there:
total 2,360.00 = 1,000.00 (X001, A) + 1,000.00 (X002, B, 10% self-paid first) + 200.00
(X003, C) + 160.00 (M001, ceiling 50.00 a unit).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.fhir import codes
from yibao.filings.models import Filing
from yibao.registry.models import Person
from yibao.settlements import routes as settlement_routes

FHIR = "/fhir/R4"
TODAY = date(2026, 5, 12)
NOW = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)
JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def fixed_day(app: Any) -> date:
    app.dependency_overrides[settlement_routes.get_today] = lambda: TODAY
    app.dependency_overrides[settlement_routes.get_now] = lambda: NOW
    return TODAY


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


def fhir_headers(user: AuthUser, **extra: str) -> dict[str, str]:
    return {**user.headers, **JSON, **extra}


def claim_resource(
    person: Person,
    world: World,
    *,
    use: str = "claim",
    items: list[dict[str, str]] | None = None,
    identifier: str | None = None,
    by_card: bool = False,
    provider: dict[str, Any] | None = None,
    deposit: str | None = "3000.00",
) -> dict[str, Any]:
    lines = items if items is not None else STAY
    patient = (
        {"identifier": {"system": codes.INSURANCE_CARD, "value": person.card_number}}
        if by_card
        else {"identifier": {"system": codes.RESIDENT_ID, "value": person.identity_number}}
    )
    body: dict[str, Any] = {
        "resourceType": "Claim",
        "status": "active",
        "type": {"coding": [{"system": codes.HL7_CLAIM_TYPE, "code": "institutional"}]},
        "subType": {"coding": [{"system": codes.SETTING, "code": "inpatient"}]},
        "use": use,
        "patient": patient,
        "billablePeriod": {"start": "2026-05-01", "end": "2026-05-10"},
        "created": "2026-05-10T10:00:00+08:00",
        "insurer": {"display": "北京市医保中心"},
        "provider": provider
        or {"identifier": {"system": codes.INSTITUTION, "value": world.hospital.code}},
        "priority": {"coding": [{"system": codes.HL7_PROCESS_PRIORITY, "code": "normal"}]},
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{person.id}"}}
        ],
        "item": [
            {
                "sequence": index,
                "productOrService": {"coding": [{"system": codes.CATALOG, "code": line["code"]}]},
                # JSON numbers, as FHIR wants them (short decimals: exact in JSON text)
                "quantity": {"value": float(line["quantity"])},
                "unitPrice": {"value": float(line["unit_price"]), "currency": "CNY"},
            }
            for index, line in enumerate(lines, start=1)
        ],
    }
    if deposit is not None:
        body["extension"] = [
            {"url": codes.EXT_DEPOSIT, "valueMoney": {"value": float(deposit), "currency": "CNY"}}
        ]
    if identifier is not None:
        body["identifier"] = [{"system": "urn:oid:1.2.3.4", "value": identifier}]
    return body


def add_filing(
    session: Session,
    person: Person,
    *,
    category: str = "resettled_retiree",
    dest: str = "460000",
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
) -> Filing:
    """An approved filing of ``person`` (insured in Beijing) to ``dest``."""
    row = Filing(
        person_id=person.id,
        insured_region="110000",
        category=category,
        state="approved",
        destination=dest,
        submitted_via="person",
        valid_from=start,
        valid_to=end,
    )
    session.add(row)
    session.commit()
    return row


def post(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(f"{FHIR}{path}", content=json.dumps(body), headers=headers)


def figure(adjudications: list[dict[str, Any]], code: str) -> str:
    """The amount of the adjudication whose category is the settlement figure ``code``,
    as the text of the JSON number (read with :func:`exact`)."""
    for adj in adjudications:
        if any(c["code"] == code for c in adj["category"]["coding"]):
            return str(adj["amount"]["value"])
    raise AssertionError(f"no adjudication {code}")


def reason(adjudications: list[dict[str, Any]], code: str) -> str:
    for adj in adjudications:
        if any(c["code"] == code for c in adj["category"]["coding"]):
            return str(adj["reason"]["text"])
    raise AssertionError(f"no adjudication {code}")


def exact(response: Any) -> Any:
    """A response's JSON with its numbers as ``Decimal`` (the text as sent, never a float)."""
    return json.loads(response.text, parse_float=Decimal)
