"""Pharmacy sales over HTTP: catalog drugs only, buying for others, family sharing.

Basket (Sanya pharmacy, the Beijing patient is unfiled there, −20 points): X001 2 × 30 = 60
(class A) and X002 100 (class B, 10% pre-self-pay) are sold; the class C drug, the service
and the unknown code are refused one by one. In scope 60 + 90 = 150; the outpatient
deductible takes 100; the pool pays (50% − 20 points) × 50 = 15; the burden 160 − 15 = 145
is paid from the account.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import load_rules
from yibao.identity import make_identity_number
from yibao.registry.models import Account, AccountMovement, FamilyLink, Person

API = "/api/v1"
BASKET = [
    {"line_id": "P1", "code": "X001", "quantity": "2", "unit_price": "30.00"},
    {"line_id": "P2", "code": "X002", "quantity": "1", "unit_price": "100.00"},
    {"line_id": "P3", "code": "X003", "quantity": "1", "unit_price": "50.00"},
    {"line_id": "P4", "code": "S001", "quantity": "1", "unit_price": "20.00"},
    {"line_id": "P5", "code": "NOPE", "quantity": "1", "unit_price": "9.00"},
]


@pytest.fixture
def people(session: Session, world: World) -> dict[str, Person]:
    load_rules(session)
    holder = add_person(
        session,
        name="孙持卡",
        region="110000",
        born=date(1960, 2, 3),
        sequence=51,
        person_type="retired",
        balance_fen=150_000,
        card_number="BJ-P-0051",
    )
    spouse = add_person(
        session,
        name="周配偶",
        region="110000",
        born=date(1962, 8, 9),
        sequence=52,
        person_type="in_service",
    )
    stranger = add_person(
        session,
        name="吴路人",
        region="110000",
        born=date(1970, 1, 1),
        sequence=53,
        person_type="in_service",
    )
    session.add(FamilyLink(person_id=holder.id, relative_id=spouse.id, relation="spouse"))
    session.commit()
    return {"holder": holder, "spouse": spouse, "stranger": stranger}


@pytest.fixture
def pharmacy(make_user: MakeUser, world: World) -> AuthUser:
    return make_user("hospital", institution_id=world.pharmacy.id)


def sell(client: TestClient, pharmacy: AuthUser, key: str, **body: Any) -> Any:
    payload = {"card_number": "BJ-P-0051", "on": "2026-06-01", "lines": BASKET, **body}
    return client.post(
        f"{API}/pharmacy/sales", json=payload, headers={**pharmacy.headers, "Idempotency-Key": key}
    )


def balance(session: Session, person: Person) -> int:
    session.expire_all()
    account = session.get(Account, person.id)
    assert account is not None
    return account.balance_fen


def test_only_catalog_drugs_are_sold_and_each_refusal_has_its_reason(
    client: TestClient, session: Session, people: dict[str, Person], pharmacy: AuthUser
) -> None:
    response = sell(client, pharmacy, "s-1")
    assert response.status_code == 201, response.text
    out = response.json()
    refused = {r["line_id"]: r["reason"] for r in out["refused"]}
    assert set(refused) == {"P3", "P4", "P5"}
    assert "class C" in refused["P3"]
    assert "not a drug" in refused["P4"]
    assert "not in the catalog" in refused["P5"]
    amounts = out["settlement"]["amounts"]
    assert amounts["total"] == "160.00" and amounts["pool_fund_pay"] == "15.00"
    assert amounts["account_pay"] == "145.00" and amounts["cash_pay"] == "0.00"
    assert [line["line_id"] for line in out["settlement"]["lines"]] == ["P1", "P2"]
    assert balance(session, people["holder"]) == 150_000 - 14_500


def test_nothing_sellable_is_refused_with_every_reason(
    client: TestClient, people: dict[str, Person], pharmacy: AuthUser
) -> None:
    response = sell(client, pharmacy, "s-2", lines=BASKET[2:])
    assert response.status_code == 422
    assert response.json()["code"] == "pharmacy.nothing_sellable"
    assert [r["line_id"] for r in response.json()["refused"]] == ["P3", "P4", "P5"]


def test_the_account_pays_for_a_spouse_when_the_policy_shares_it(
    client: TestClient, session: Session, people: dict[str, Person], pharmacy: AuthUser
) -> None:
    spouse = people["spouse"]
    out = sell(client, pharmacy, "s-3", patient_identity_number=spouse.identity_number).json()
    assert out["patient_person_id"] == spouse.id
    assert out["account_person_id"] == people["holder"].id
    assert out["buyer_identity_masked"] and "*" in out["buyer_identity_masked"]
    assert out["settlement"]["amounts"]["account_pay"] == "145.00"
    assert balance(session, people["holder"]) == 150_000 - 14_500
    movement = session.execute(
        select(AccountMovement).where(AccountMovement.person_id == people["holder"].id)
    ).scalar_one()
    assert movement.beneficiary_id == spouse.id


def test_buying_for_another_needs_their_identity_record_and_strangers_pay_cash(
    client: TestClient, session: Session, people: dict[str, Person], pharmacy: AuthUser
) -> None:
    unknown = make_identity_number("110000", date(1990, 1, 1), 99)
    response = sell(client, pharmacy, "s-4", patient_identity_number=unknown)
    assert response.status_code == 422
    assert response.json()["code"] == "pharmacy.patient_unknown"

    stranger = people["stranger"]
    out = sell(client, pharmacy, "s-5", patient_identity_number=stranger.identity_number).json()
    assert out["account_person_id"] is None
    assert out["settlement"]["amounts"]["account_pay"] == "0.00"
    assert out["settlement"]["amounts"]["cash_pay"] == "145.00"
    assert balance(session, people["holder"]) == 150_000


def test_a_reversed_sale_gives_the_account_back_once(
    client: TestClient,
    session: Session,
    people: dict[str, Person],
    pharmacy: AuthUser,
    make_user: MakeUser,
    world: World,
) -> None:
    sale = sell(client, pharmacy, "s-6").json()
    back = client.post(
        f"{API}/pharmacy/sales/{sale['id']}/reverse",
        json={"reason": "returned unopened"},
        headers={**pharmacy.headers, "Idempotency-Key": "s-6-back"},
    )
    assert back.status_code == 201, back.text
    assert back.json()["state"] == "reversed"
    assert balance(session, people["holder"]) == 150_000
    twice = client.post(
        f"{API}/pharmacy/sales/{sale['id']}/reverse",
        json={"reason": "again"},
        headers={**pharmacy.headers, "Idempotency-Key": "s-6-back-2"},
    )
    assert twice.status_code == 409
    hospital = make_user("hospital", institution_id=world.hospital.id)
    assert sell(client, hospital, "s-7").status_code == 422
