"""The registry over HTTP: enrolment, scoping, masking, accounts, family, the audit log."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from tests.conftest import MakeUser, World
from yibao.identity import make_identity_number

V1 = "/api/v1"


def test_enrol_a_person_and_follow_them_through_the_registry(
    client: TestClient, make_user: MakeUser, world: World
) -> None:
    admin, agency, desk = make_user("admin"), make_user("agency"), make_user("street_office")
    number = make_identity_number("110105", date(1962, 10, 1), 57)

    # A wrong check character is refused, and the number is not echoed back.
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = client.post(
        f"{V1}/persons",
        headers=desk.headers,
        json={
            "identity_number": bad,
            "name": "孙退休",
            "scheme": "employee",
            "person_type": "retired",
            "insured_region": "110000",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "identity.check_digit"
    assert bad not in response.text

    # The street office enrols; it sees the number masked.
    response = client.post(
        f"{V1}/persons",
        headers=desk.headers,
        json={
            "identity_number": number,
            "name": "孙退休",
            "scheme": "employee",
            "person_type": "retired",
            "insured_region": "110000",
            "card_number": "BJ7777",
        },
    )
    assert response.status_code == 201, response.text
    person = response.json()
    pid = person["id"]
    assert person["identity_number"] == f"110105********{number[-4:]}"
    assert person["identity_masked"] is True
    assert (person["sex"], person["birth_date"]) == ("M", "1962-10-01")

    # Enrolling the same number again conflicts.
    again = client.post(
        f"{V1}/persons",
        headers=desk.headers,
        json={
            "identity_number": number,
            "name": "x",
            "scheme": "employee",
            "person_type": "retired",
            "insured_region": "110000",
        },
    )
    assert again.status_code == 409
    assert again.json()["code"] == "person.exists"

    # The agency reviewer of the region sees it in full; listings are always masked.
    full = client.get(f"{V1}/persons/{pid}", headers=agency.headers).json()
    assert full["identity_number"] == number
    listing = client.get(f"{V1}/persons", headers=agency.headers, params={"name": "孙退休"})
    assert [p["identity_number"] for p in listing.json()] == [f"110105********{number[-4:]}"]

    # Baoding's agency does not see a Beijing person at all.
    baoding = make_user("agency", agency_id=world.baoding_center.id)
    assert client.get(f"{V1}/persons/{pid}", headers=baoding.headers).status_code == 403
    assert pid not in [p["id"] for p in client.get(f"{V1}/persons", headers=baoding.headers).json()]

    # The admin gives the person a login; they see themselves in full, nobody else.
    created = client.post(
        f"{V1}/users",
        headers=admin.headers,
        json={"name": "孙退休", "role": "insured", "person_id": pid},
    )
    assert created.status_code == 201
    own = {"Authorization": f"Bearer {created.json()['token']}"}
    assert client.get(f"{V1}/persons/{pid}", headers=own).json()["identity_number"] == number
    other = client.get(f"{V1}/persons/{world.retiree.id}", headers=own)
    assert other.status_code == 403
    assert other.json()["code"] == "person.out_of_scope"
    assert [p["id"] for p in client.get(f"{V1}/persons", headers=own).json()] == [pid]

    # Account: +500.00, -200.50 -> 299.50, each approved by a second reviewer of the
    # centre (four eyes); the first user cannot approve their own request, and nothing
    # moves before the approval. Paying 300.00 more is refused.
    second = make_user("agency")

    def balance() -> str:
        return str(client.get(f"{V1}/persons/{pid}/account", headers=own).json()["balance"])

    for amount, kind in (("500.00", "contribution"), ("-200.50", "adjustment")):
        held = balance()
        asked = client.post(
            f"{V1}/persons/{pid}/account/movements",
            headers=agency.headers,
            json={"amount": amount, "kind": kind, "ref": f"test {kind}"},
        )
        assert asked.status_code == 202, asked.text
        assert asked.json()["state"] == "pending"
        assert balance() == held
        approval = asked.json()["id"]
        own_approval = client.post(f"{V1}/approvals/{approval}/approve", headers=agency.headers)
        assert own_approval.status_code == 403
        assert own_approval.json()["code"] == "approval.same_user"
        elsewhere = client.post(f"{V1}/approvals/{approval}/approve", headers=baoding.headers)
        assert elsewhere.status_code == 404
        approved = client.post(f"{V1}/approvals/{approval}/approve", headers=second.headers)
        assert approved.status_code == 200, approved.text
        assert approved.json()["state"] == "approved"
        again = client.post(f"{V1}/approvals/{approval}/approve", headers=second.headers)
        assert again.status_code == 409
    refused = client.post(
        f"{V1}/persons/{pid}/account/movements",
        headers=agency.headers,
        json={"amount": "-300.00", "kind": "withdrawal"},
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "account.insufficient"
    account = client.get(f"{V1}/persons/{pid}/account", headers=own).json()
    assert account["balance"] == "299.50"
    assert [(m["amount"], m["balance_after"]) for m in account["movements"]] == [
        ("500.00", "500.00"),
        ("-200.50", "299.50"),
    ]

    # Family: the street office links the retiree as spouse, both ways.
    linked = client.post(
        f"{V1}/persons/{pid}/family",
        headers=desk.headers,
        json={"relative_id": world.retiree.id, "relation": "spouse"},
    )
    assert linked.status_code == 201
    back = client.get(f"{V1}/persons/{world.retiree.id}/family", headers=desk.headers).json()
    assert [(f["relative_id"], f["relation"]) for f in back] == [(pid, "spouse")]

    # A hospital finds the person by card, masked, but cannot browse the registry.
    hospital = make_user("hospital")
    found = client.post(
        f"{V1}/persons/lookup", headers=hospital.headers, json={"card_number": "BJ7777"}
    )
    assert found.status_code == 200
    assert found.json()["identity_masked"] is True
    assert client.get(f"{V1}/persons", headers=hospital.headers).status_code == 403
    assert client.get(f"{V1}/persons/{pid}", headers=hospital.headers).status_code == 403

    # The audit log holds each change, with who, before and after, numbers masked.
    log = client.get(
        f"{V1}/audit",
        headers=admin.headers,
        params={"entity": "person", "entity_id": str(pid)},
    ).json()
    actions = [e["action"] for e in log]
    assert actions == ["family.linked", "person.registered"]
    registered = log[-1]
    assert registered["actor_role"] == "street_office"
    assert registered["actor_user_id"] == desk.user.id
    assert registered["after"]["identity_number"] == f"110105********{number[-4:]}"
    assert number not in str(log)
    moves = client.get(
        f"{V1}/audit",
        headers=admin.headers,
        params={"entity": "account", "entity_id": str(pid)},
    ).json()
    assert [(m["before"]["balance"], m["after"]["balance"]) for m in reversed(moves)] == [
        ("0.00", "500.00"),
        ("500.00", "299.50"),
    ]
    assert client.get(f"{V1}/audit", headers=agency.headers).status_code == 403


def test_unit_enrols_only_its_own_staff(
    client: TestClient, make_user: MakeUser, world: World
) -> None:
    unit = make_user("unit")
    body = {
        "identity_number": make_identity_number("110108", date(1999, 9, 9), 18),
        "name": "新员工",
        "scheme": "employee",
        "person_type": "in_service",
        "insured_region": "110000",
    }
    other = client.post(
        f"{V1}/persons", headers=unit.headers, json={**body, "unit_id": world.other_unit.id}
    )
    assert other.status_code == 403
    ok = client.post(f"{V1}/persons", headers=unit.headers, json={**body, "unit_id": world.unit.id})
    assert ok.status_code == 201
    staff = client.get(f"{V1}/persons", headers=unit.headers).json()
    assert sorted(p["id"] for p in staff) == sorted([world.worker.id, ok.json()["id"]])


def test_invalid_request_is_problem_json(client: TestClient, make_user: MakeUser) -> None:
    admin = make_user("admin")
    response = client.post(f"{V1}/regions", headers=admin.headers, json={"code": "12"})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "request.invalid"
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "code"), ("body", "name")}


def test_agency_manages_institutions_of_its_region_only(
    client: TestClient, make_user: MakeUser, world: World
) -> None:
    agency = make_user("agency")
    sanya = client.patch(
        f"{V1}/institutions/{world.hospital.id}", headers=agency.headers, json={"networked": False}
    )
    assert sanya.status_code == 403
    beijing = client.patch(
        f"{V1}/institutions/{world.beijing_hospital.id}",
        headers=agency.headers,
        json={"networked": False},
    )
    assert beijing.status_code == 200 and beijing.json()["networked"] is False
    networked = client.get(
        f"{V1}/institutions",
        headers=agency.headers,
        params={"province": "460000", "networked": "true", "kind": "hospital"},
    ).json()
    assert [i["code"] for i in networked] == ["H460200001"]
