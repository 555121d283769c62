"""A settlement over HTTP reads as people write numbers, in Chinese unless English is asked.

Quantities and money are plain decimals in every answer (``40``, ``0.5``, ``100``,
``1234.50``; never ``4E+1``). The explanation is said in Chinese by default and in English
with ``?lang=en`` or ``Accept-Language: en``, with the same figures either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import load_rules
from yibao.registry.models import Person

API = "/api/v1"
# 40 × 10.00 + 0.5 × 30.00 + 100 × 1.50 (class A, B and C lines)
LINES = [
    {"line_id": "L1", "code": "X001", "quantity": "40", "unit_price": "10.00"},
    {"line_id": "L2", "code": "X002", "quantity": "0.5", "unit_price": "30.00"},
    {"line_id": "L3", "code": "X003", "quantity": "1E+2", "unit_price": "1.50"},
]
EXPONENT = re.compile(r"^-?\d+(\.\d+)?[eE][+-]?\d+$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@pytest.fixture
def hospital(make_user: MakeUser) -> AuthUser:
    return make_user("hospital")


@pytest.fixture
def patient(session: Session, world: World) -> Person:
    load_rules(session)
    person = add_person(
        session,
        name="孙明细",
        region="110000",
        born=date(1960, 2, 3),
        sequence=51,
        person_type="retired",
        balance_fen=0,
    )
    session.commit()
    return person


@pytest.fixture
def settled(client: TestClient, hospital: AuthUser, patient: Person) -> Iterator[dict[str, Any]]:
    """The answers on the way: the fee upload, the pre-settlement and the settlement."""
    body = {
        "identity_number": patient.identity_number,
        "setting": "inpatient",
        "started_on": "2026-05-01",
        "deposit": "1000",
    }
    encounter = client.post(f"{API}/encounters", json=body, headers=hospital.headers)
    assert encounter.status_code == 201, encounter.text
    encounter_id = encounter.json()["id"]
    fees = client.post(
        f"{API}/encounters/{encounter_id}/fees", json={"lines": LINES}, headers=hospital.headers
    )
    assert fees.status_code == 201, fees.text
    pre = client.post(
        f"{API}/encounters/{encounter_id}/pre-settle",
        json={"on": "2026-05-10"},
        headers=hospital.headers,
    )
    assert pre.status_code == 200, pre.text
    done = client.post(
        f"{API}/encounters/{encounter_id}/settle",
        json={"on": "2026-05-10"},
        headers={**hospital.headers, "Idempotency-Key": "readable-1"},
    )
    assert done.status_code == 201, done.text
    yield {
        "encounter": client.get(f"{API}/encounters/{encounter_id}", headers=hospital.headers),
        "pre-settle": pre,
        "settle": done,
        "settlement": client.get(
            f"{API}/settlements/{done.json()['id']}", headers=hospital.headers
        ),
    }


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_quantities_and_money_are_plain_decimals_in_every_answer(
    settled: dict[str, Any],
) -> None:
    for name, response in settled.items():
        assert response.status_code in (200, 201), (name, response.text)
        exponents = [s for s in strings(response.json()) if EXPONENT.match(s)]
        assert exponents == [], name
    settlement = settled["settlement"].json()
    assert [line["quantity"] for line in settlement["lines"]] == ["40", "0.5", "100"]
    assert settlement["amounts"]["total"] == "565.00"
    assert [line["amount"] for line in settlement["lines"]] == ["400.00", "15.00", "150.00"]


def _figures(lines: list[str]) -> list[str]:
    return sorted(n.replace(",", "") for line in lines for n in NUMBER.findall(line))


def test_the_explanation_is_chinese_unless_english_is_asked(
    client: TestClient, hospital: AuthUser, settled: dict[str, Any]
) -> None:
    url = f"{API}/settlements/{settled['settle'].json()['id']}"
    chinese = client.get(url, headers=hospital.headers).json()["explanation"]
    english = client.get(f"{url}?lang=en", headers=hospital.headers).json()["explanation"]
    asked = client.get(url, headers={**hospital.headers, "Accept-Language": "en-US,en;q=0.9"})
    assert any(line.startswith("起付线 ") for line in chinese)
    assert any(line.startswith("deductible due ") for line in english)
    assert asked.json()["explanation"] == english
    assert _figures(chinese) == _figures(english)
    assert settled["settle"].json()["explanation"] == chinese
