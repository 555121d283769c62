"""Who sees what through the FHIR face: every resource read (and searched) as each tenant.

The FHIR routes are outside ``/api/v1`` and its OpenAPI document, so
``tests/e2e/test_tenant_matrix.py`` does not reach them: this file is their matrix. Two
hospitals (Sanya, which treated the patient, and Baoding), the patient, another insured
person, the patient's centre (Beijing), the treatment region's agency (Sanya), the centre
of another region (Baoding), a unit and an admin; the services decide every answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.fhir.conftest import (
    FHIR,
    add_filing,
    claim_resource,
    exact,
    fhir_headers,
    post,
)
from yibao.clearing import service as clearing
from yibao.clearing.models import ClearingStatement
from yibao.fhir import codes
from yibao.registry.models import Person


@pytest.fixture
def tenants(make_user: MakeUser, world: World, patient: Person) -> dict[str, AuthUser]:
    return {
        "hospital": make_user("hospital"),
        "other_hospital": make_user("hospital", institution_id=world.other_hospital.id),
        "patient": make_user("insured", person_id=patient.id),
        "other_person": make_user("insured", person_id=world.worker.id),
        "center": make_user("agency", agency_id=world.center.id),
        "sanya_agency": make_user("agency", agency_id=world.sanya_agency.id),
        "baoding_center": make_user("agency", agency_id=world.baoding_center.id),
        "unit": make_user("unit", unit_id=world.unit.id),
        "admin": make_user("admin"),
    }


@pytest.fixture
def settled(
    client: TestClient,
    world: World,
    patient: Person,
    tenants: dict[str, AuthUser],
    fixed_day: Any,
) -> int:
    """The Sanya hospital settles the patient's stay through Claim/$submit."""
    response = post(
        client,
        "/Claim/$submit",
        claim_resource(patient, world, identifier="ACC-1"),
        fhir_headers(tenants["hospital"]),
    )
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def status(client: TestClient, path: str, who: AuthUser) -> int:
    response = client.get(f"{FHIR}{path}", headers=who.headers)
    assert response.headers["content-type"].startswith("application/fhir+json"), response.text
    if response.status_code != 200:
        assert response.json()["resourceType"] == "OperationOutcome"
    return response.status_code


# who → (Patient/Coverage read, EOB read); 403: the person is outside the caller's scope
# (registry), 404: a settlement that is not the caller's does not exist for them.
READS = {
    "hospital": (200, 200),
    "other_hospital": (403, 404),
    "patient": (200, 200),
    "other_person": (403, 404),
    "center": (200, 200),
    "sanya_agency": (403, 200),
    "baoding_center": (403, 404),
    "unit": (403, 404),
    "admin": (200, 200),
}


def test_reads_across_tenants(
    client: TestClient, patient: Person, tenants: dict[str, AuthUser], settled: int
) -> None:
    for who, (person_status, eob_status) in READS.items():
        user = tenants[who]
        assert status(client, f"/Patient/{patient.id}", user) == person_status, who
        assert status(client, f"/Coverage/{patient.id}", user) == person_status, who
        assert status(client, f"/ExplanationOfBenefit/{settled}", user) == eob_status, who
    assert status(client, "/Patient/999999", tenants["admin"]) == 404
    assert status(client, "/ExplanationOfBenefit/999999", tenants["admin"]) == 404
    assert status(client, "/Patient/abc", tenants["admin"]) == 404


def test_the_identity_number_is_masked_as_the_registry_decides(
    client: TestClient, patient: Person, tenants: dict[str, AuthUser], settled: int
) -> None:
    for who, full in (("patient", True), ("center", True), ("admin", True), ("hospital", False)):
        out = client.get(f"{FHIR}/Patient/{patient.id}", headers=tenants[who].headers).json()
        value = next(i["value"] for i in out["identifier"] if i["system"] == codes.RESIDENT_ID)
        assert (value == patient.identity_number) is full, who
        assert ("*" in value) is not full, who
        labels = [c["code"] for c in out.get("meta", {}).get("security", [])]
        assert (labels == ["MASKED"]) is not full, who


def test_patient_search_stays_in_scope(
    client: TestClient, patient: Person, world: World, tenants: dict[str, AuthUser]
) -> None:
    def ids(who: str, query: str) -> list[str]:
        response = client.get(f"{FHIR}/Patient?{query}", headers=tenants[who].headers)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["type"] == "searchset"
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    by_id = f"identifier={codes.RESIDENT_ID}|{patient.identity_number}"
    # a hospital holding the patient's document finds anyone (masked), as /persons/lookup
    assert ids("hospital", by_id) == [str(patient.id)]
    assert ids("other_hospital", by_id) == [str(patient.id)]
    # others find only the persons they may see
    assert ids("patient", by_id) == [str(patient.id)]
    assert ids("other_person", by_id) == []
    assert ids("baoding_center", by_id) == []
    assert ids("center", f"identifier={codes.INSURANCE_CARD}|{patient.card_number}") == [
        str(patient.id)
    ]
    # a name search lists the caller's own scope only
    assert ids("patient", "name=钱") == [str(patient.id)]
    assert ids("other_person", "") == [str(world.worker.id)]
    assert ids("hospital", "name=钱") == []
    assert ids("baoding_center", "") == [str(world.baoding_person.id)]
    # an identity number that cannot be one, an unknown parameter: 400
    response = client.get(
        f"{FHIR}/Patient?identifier={codes.RESIDENT_ID}|110000195604020419",
        headers=tenants["center"].headers,
    )
    assert response.status_code == 400
    assert "check character" in response.json()["issue"][0]["diagnostics"]
    response = client.get(f"{FHIR}/Patient?birthdate=1956", headers=tenants["center"].headers)
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "fhir.unknown_parameter"


def test_coverage_shows_the_filing_in_force(
    client: TestClient,
    session: Session,
    patient: Person,
    tenants: dict[str, AuthUser],
    fixed_day: Any,
    settled: int,
) -> None:
    add_filing(session, patient)
    for who, covers in (("patient", None), ("center", None), ("hospital", True)):
        out = client.get(f"{FHIR}/Coverage/{patient.id}", headers=tenants[who].headers).json()
        assert out["payor"][0]["identifier"]["value"] == "110000"
        assert out["type"]["coding"][0]["code"] == "employee"
        [filing] = [e for e in out["extension"] if e["url"] == codes.EXT_FILING]
        parts = {p["url"]: p for p in filing["extension"]}
        assert parts["category"]["valueCoding"]["code"] == "resettled_retiree"
        assert parts["destination"]["valueIdentifier"]["value"] == "460000"
        assert parts["validity"]["valuePeriod"] == {"start": "2026-01-01", "end": "2026-12-31"}
        assert parts.get("coversInstitution", {}).get("valueBoolean") == covers, who
    # the Baoding hospital cannot see the patient's coverage at all
    assert status(client, f"/Coverage/{patient.id}", tenants["other_hospital"]) == 403
    search = client.get(
        f"{FHIR}/Coverage?beneficiary=Patient/{patient.id}", headers=tenants["other_person"].headers
    ).json()
    assert search.get("entry", []) == []
    search = client.get(
        f"{FHIR}/Coverage?patient={patient.id}", headers=tenants["patient"].headers
    ).json()
    assert [e["resource"]["id"] for e in search["entry"]] == [str(patient.id)]


def test_eob_search_lists_the_callers_settlements(
    client: TestClient, tenants: dict[str, AuthUser], settled: int
) -> None:
    for who, expected in (
        ("hospital", [str(settled)]),
        ("other_hospital", []),
        ("patient", [str(settled)]),
        ("sanya_agency", [str(settled)]),
        ("baoding_center", []),
    ):
        bundle = client.get(f"{FHIR}/ExplanationOfBenefit", headers=tenants[who].headers).json()
        assert [e["resource"]["id"] for e in bundle.get("entry", [])] == expected, who


def test_payment_reconciliation_of_a_confirmed_statement(
    client: TestClient, session: Session, tenants: dict[str, AuthUser], settled: int
) -> None:
    """The stay's figures in the May statement Beijing → Sanya: pool 600.00,
    supplementary 700.00, assistance 0.00, account 1,060.00; due 2,360.00 (the funds'
    1,300.00 and the account's 1,060.00; the cash share 0.00 is the persons')."""
    [row] = clearing.build_month(session, actor=tenants["admin"].user, month="2026-05")
    session.commit()
    # a draft is no reconciliation yet
    assert status(client, f"/PaymentReconciliation/{row.id}", tenants["center"]) == 404
    row = session.get(ClearingStatement, row.id)
    assert row is not None
    row.state, row.confirmed_at = "confirmed", datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    session.commit()
    for who, expected in (
        ("center", 200),
        ("sanya_agency", 200),
        ("admin", 200),
        ("baoding_center", 404),
        ("hospital", 404),
        ("patient", 404),
    ):
        assert status(client, f"/PaymentReconciliation/{row.id}", tenants[who]) == expected, who
    out = exact(
        client.get(f"{FHIR}/PaymentReconciliation/{row.id}", headers=tenants["center"].headers)
    )
    assert str(out["paymentAmount"]["value"]) == "2360.00"
    details = {d["type"]["coding"][0]["code"]: str(d["amount"]["value"]) for d in out["detail"]}
    assert details == {
        "pool": "600.00",
        "supplementary": "700.00",
        "assistance": "0.00",
        "account": "1060.00",
    }
    assert out["period"] == {"start": "2026-05-01", "end": "2026-05-31"}
    assert out["paymentDate"] == "2026-06-02"  # 09:00 in China
    bundle = client.get(f"{FHIR}/PaymentReconciliation", headers=tenants["sanya_agency"].headers)
    assert [e["resource"]["id"] for e in bundle.json()["entry"]] == [str(row.id)]
    # a hospital takes no part in clearing
    response = client.get(f"{FHIR}/PaymentReconciliation", headers=tenants["hospital"].headers)
    assert response.status_code == 403
