"""``Claim/$submit``: pre-settlement and settlement through the window's services, every
figure of the settlement as an adjudication with its reason, exactly once.

Hand-computed (see tests/integration/test_settle_kit.py): the stay totals 2,360.00; full
self-pay 200.00 (X003, class C), over the ceiling 60.00 (M001: 2 × (80 − 50)), self-paid
first 100.00 (X002: 10% of 1,000), in scope 2,000.00 (1,000 + 900 + 100). Unfiled at the
level-3 Sanya hospital: deductible 1,000.00; pool (80% − 20 points) × 1,000 = 600.00;
supplementary 50% × (2,000 − 600) = 700.00; funds 1,300.00; burden 2,360 − 1,300 =
1,060.00, all from the account (1,500.00 before), cash 0.00.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.fhir.conftest import (
    FHIR,
    JSON,
    add_filing,
    claim_resource,
    exact,
    fhir_headers,
    figure,
    post,
    reason,
)
from yibao.encounters.models import Encounter
from yibao.registry.models import Account, Person
from yibao.settlements.models import SettlementRecord

UNFILED = {
    "total": "2360.00",
    "full_self_pay": "200.00",
    "over_limit_self_pay": "60.00",
    "pre_self_pay": "100.00",
    "in_scope": "2000.00",
    "deductible": "1000.00",
    "pool_fund_pay": "600.00",
    "supplementary_pay": "700.00",
    "assistance_pay": "0.00",
    "fund_pay_total": "1300.00",
    "personal_burden": "1060.00",
    "account_pay": "1060.00",
    "cash_pay": "0.00",
    "recoverable": "0.00",
}


def counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    account = session.get(Account, _person_id(session))
    assert account is not None
    return (
        session.scalar(select(func.count()).select_from(Encounter)) or 0,
        session.scalar(select(func.count()).select_from(SettlementRecord)) or 0,
        account.balance_fen,
    )


def _person_id(session: Session) -> int:
    found = session.scalar(select(Person.id).where(Person.name == "钱退休"))
    assert found is not None
    return found


def test_predetermination_pre_settles_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    fixed_day: Any,
) -> None:
    before = counts(session)
    response = post(
        client,
        "/Claim/$submit",
        claim_resource(patient, world, use="predetermination"),
        fhir_headers(hospital, **{"Accept-Language": "en"}),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    out = exact(response)
    assert out["resourceType"] == "ClaimResponse"
    assert out["use"] == "predetermination" and out["outcome"] == "complete"
    assert "id" not in out  # nothing was stored
    for name, value in UNFILED.items():
        assert figure(out["adjudication"], name) == value, name
        assert figure(out["total"], name) == value, name
    # each figure carries the engine's own sentence as its reason
    assert reason(out["adjudication"], "deductible") == (
        "deductible due 1000.00 (met before 0.00), met on this claim 1000.00"
    )
    assert "pool fund computed 600.00" in reason(out["adjudication"], "pool_fund_pay")
    assert "account 1060.00" in reason(out["adjudication"], "account_pay")
    # per item: X003 (sequence 3) is class C, fully self-paid, with its reason
    items = {item["itemSequence"]: item["adjudication"] for item in out["item"]}
    assert sorted(items) == [1, 2, 3, 4]
    assert figure(items[3], "full_self_pay") == "200.00"
    assert figure(items[3], "in_scope") == "0.00"
    assert "not eligible" in reason(items[3], "full_self_pay")
    assert figure(items[4], "over_limit_self_pay") == "60.00"  # 2 × (80 − 50)
    assert figure(items[2], "pre_self_pay") == "100.00"  # 10% of 1,000
    assert counts(session) == before


def test_claim_settles_once_and_the_retry_gets_the_first_answer(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    fixed_day: Any,
) -> None:
    encounters, settlements, balance = counts(session)
    body = claim_resource(patient, world, identifier="HIS-CLAIM-1")
    first = post(client, "/Claim/$submit", body, fhir_headers(hospital))
    assert first.status_code == 200, first.text
    out = exact(first)
    assert out["use"] == "claim" and out["outcome"] == "complete"
    for name, value in UNFILED.items():
        assert figure(out["adjudication"], name) == value, name
    stored = session.get(SettlementRecord, int(out["id"]))
    assert stored is not None and stored.msg_id == "HIS-CLAIM-1"
    assert stored.fund_pay_total_fen == 130_000 and stored.deposit_refund_fen == 300_000
    assert counts(session) == (encounters + 1, settlements + 1, balance - 106_000)
    # the same Claim again (no header: keyed by its identifier), spaced and ordered
    # differently and asked in English: the first answer, nothing new
    again = client.post(
        f"{FHIR}/Claim/$submit",
        content=json.dumps(body, indent=2, sort_keys=True),
        headers=fhir_headers(hospital, **{"Accept-Language": "en"}),
    )
    assert again.status_code == 200
    assert again.text == first.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(session) == (encounters + 1, settlements + 1, balance - 106_000)
    # another Claim under the same identifier is refused and changes nothing
    other = claim_resource(
        patient,
        world,
        identifier="HIS-CLAIM-1",
        items=[{"line_id": "L1", "code": "X001", "quantity": "1", "unit_price": "10.00"}],
    )
    refused = post(client, "/Claim/$submit", other, fhir_headers(hospital))
    assert refused.status_code == 409
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "idempotency.key_reused"
    assert counts(session) == (encounters + 1, settlements + 1, balance - 106_000)


def test_the_eob_of_a_filed_patient_shows_the_long_term_figures(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    fixed_day: Any,
) -> None:
    """Resettled to Hainan (460000) for 2026: long_term, no reduction: pool 80% × 1,000 =
    800.00; supplementary 50% × (2,000 − 800) = 600.00; funds 1,400.00; burden 960.00."""
    add_filing(session, patient)
    response = post(
        client,
        "/Claim/$submit",
        claim_resource(patient, world, by_card=True),
        fhir_headers(hospital, **{"Idempotency-Key": "eob-1"}),
    )
    assert response.status_code == 200, response.text
    settlement_id = response.json()["id"]
    eob = client.get(f"{FHIR}/ExplanationOfBenefit/{settlement_id}", headers=hospital.headers)
    assert eob.status_code == 200, eob.text
    out = exact(eob)
    assert out["status"] == "active"
    assert figure(out["adjudication"], "pool_fund_pay") == "800.00"
    assert figure(out["adjudication"], "supplementary_pay") == "600.00"
    assert figure(out["adjudication"], "fund_pay_total") == "1400.00"
    assert figure(out["adjudication"], "personal_burden") == "960.00"
    status = [e for e in out["extension"] if e["url"].endswith("offsite-status")]
    assert status[0]["valueCoding"]["code"] == "long_term"
    items = out["item"]
    assert [i["productOrService"]["coding"][0]["code"] for i in items] == [
        "X001",
        "X002",
        "X003",
        "M001",
    ]
    assert str(items[3]["quantity"]["value"]) == "2"
    assert str(items[3]["unitPrice"]["value"]) == "80"
    assert figure(items[3]["adjudication"], "over_limit_self_pay") == "60.00"
    deposit = next(e for e in out["extension"] if e["url"].endswith("deposit"))
    values = {e["url"]: str(e["valueMoney"]["value"]) for e in deposit["extension"]}
    assert values == {"deposit": "3000.00", "deposit_refund": "3000.00", "cash_due": "0.00"}


def test_a_claim_needs_a_key_or_an_identifier(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    fixed_day: Any,
) -> None:
    before = counts(session)
    response = post(
        client, "/Claim/$submit", claim_resource(patient, world), fhir_headers(hospital)
    )
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "idempotency.key_required"
    assert counts(session) == before


def test_a_rejected_claim_is_an_error_outcome_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    hospital: AuthUser,
    fixed_day: Any,
    patient: Person,
) -> None:
    """赵保定 is insured in Baoding, where no policy is loaded: the engine rejects."""
    person = world.baoding_person
    before = counts(session)
    pre = post(
        client,
        "/Claim/$submit",
        claim_resource(person, world, use="predetermination"),
        fhir_headers(hospital),
    )
    assert pre.status_code == 200, pre.text
    assert pre.json()["outcome"] == "error"
    assert pre.json()["disposition"].startswith("rejected: ")
    assert "adjudication" not in pre.json()
    settle = post(
        client,
        "/Claim/$submit",
        claim_resource(person, world, identifier="R-1"),
        fhir_headers(hospital),
    )
    assert settle.status_code == 422
    assert settle.json()["issue"][0]["details"]["coding"][0]["code"] == "settlement.rejected"
    assert counts(session) == before


def _code(response: Any) -> str:
    return str(response.json()["issue"][0]["details"]["coding"][0]["code"])


def test_bad_claims_are_refused_with_an_operation_outcome(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
    fixed_day: Any,
) -> None:
    before = counts(session)
    good = claim_resource(patient, world, identifier="B-1")
    # no token
    response = client.post(f"{FHIR}/Claim/$submit", json=good, headers=JSON)
    assert response.status_code == 401 and response.json()["resourceType"] == "OperationOutcome"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    # not a Claim
    broken = {k: v for k, v in good.items() if k != "patient"}
    response = post(client, "/Claim/$submit", broken, fhir_headers(hospital))
    assert response.status_code == 400 and _code(response) == "fhir.invalid_resource"
    assert "patient" in response.json()["issue"][0]["diagnostics"]
    # not JSON at all
    response = client.post(f"{FHIR}/Claim/$submit", content=b"{", headers=fhir_headers(hospital))
    assert response.status_code == 400
    # another media type
    response = client.post(
        f"{FHIR}/Claim/$submit",
        content=b"<Claim/>",
        headers={**hospital.headers, "Content-Type": "application/fhir+xml"},
    )
    assert response.status_code == 415
    # XML asked for
    response = post(
        client, "/Claim/$submit", good, fhir_headers(hospital, Accept="application/fhir+xml")
    )
    assert response.status_code == 406
    # for another hospital
    other = claim_resource(
        patient,
        world,
        identifier="B-2",
        provider={
            "identifier": {
                "system": "urn:yibao:fhir:NamingSystem:institution",
                "value": world.other_hospital.code,
            }
        },
    )
    response = post(client, "/Claim/$submit", other, fhir_headers(hospital))
    assert response.status_code == 403 and _code(response) == "fhir.other_institution"
    # a pharmacy user
    pharmacy = make_user("hospital", institution_id=world.pharmacy.id)
    mine = claim_resource(
        patient,
        world,
        identifier="B-3",
        provider={"reference": f"Organization/{world.pharmacy.id}"},
    )
    response = post(client, "/Claim/$submit", mine, fhir_headers(pharmacy))
    assert response.status_code == 403 and _code(response) == "hospital.required"
    # an insured person
    insured = make_user("insured", person_id=patient.id)
    response = post(client, "/Claim/$submit", good, fhir_headers(insured))
    assert response.status_code == 403 and _code(response) == "auth.no_institution"
    # an unknown catalog code
    unknown = claim_resource(
        patient,
        world,
        identifier="B-4",
        items=[{"line_id": "L1", "code": "NOPE", "quantity": "1", "unit_price": "1.00"}],
    )
    response = post(client, "/Claim/$submit", unknown, fhir_headers(hospital))
    assert response.status_code == 422 and _code(response) == "catalog.unknown_code"
    # an identity number that cannot be one
    bad_id = claim_resource(patient, world, identifier="B-5")
    bad_id["patient"]["identifier"]["value"] = "110000195604020419"
    response = post(client, "/Claim/$submit", bad_id, fhir_headers(hospital))
    assert response.status_code == 422 and _code(response) == "identity.check_digit"
    # preauthorization is not supported
    pre_auth = claim_resource(patient, world, use="preauthorization", identifier="B-6")
    response = post(client, "/Claim/$submit", pre_auth, fhir_headers(hospital))
    assert response.status_code == 422 and _code(response) == "fhir.claim_use"
    # no setting
    no_setting = claim_resource(patient, world, identifier="B-7")
    del no_setting["subType"]
    no_setting["type"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "oral"}]
    }
    response = post(client, "/Claim/$submit", no_setting, fhir_headers(hospital))
    assert response.status_code == 422 and _code(response) == "fhir.claim"
    assert counts(session) == before
