"""``CoverageEligibilityRequest/$submit`` and the ``CapabilityStatement``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.fhir.conftest import FHIR, add_filing, fhir_headers, post
from yibao.fhir import codes
from yibao.fhir.capability import route_table
from yibao.fhir.render import check
from yibao.fhir.routes import router
from yibao.registry.models import Person


def request_for(person: Person, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"identifier": {"system": codes.RESIDENT_ID, "value": person.identity_number}},
        "created": "2026-05-12T09:00:00+08:00",
        "insurer": {"display": "北京市医保中心"},
        **extra,
    }


def insurance(out: dict[str, Any]) -> dict[str, Any]:
    [entry] = out["insurance"]
    return dict(entry)


def ext(entry: dict[str, Any], url: str) -> dict[str, Any] | None:
    return next((e for e in entry.get("extension", []) if e["url"] == url), None)


def test_unfiled_then_filed_at_the_sanya_hospital(
    client: TestClient, session: Session, patient: Person, hospital: AuthUser, fixed_day: Any
) -> None:
    response = post(
        client, "/CoverageEligibilityRequest/$submit", request_for(patient), fhir_headers(hospital)
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["resourceType"] == "CoverageEligibilityResponse"
    assert out["servicedDate"] == "2026-05-12" and out["outcome"] == "complete"
    entry = insurance(out)
    assert entry["inforce"] is True  # networked: direct settlement, at the unfiled ratio
    assert ext(entry, codes.EXT_OFFSITE_STATUS)["valueCoding"]["code"] == "unfiled"  # type: ignore[index]
    assert ext(entry, codes.EXT_FILING) is None and "benefitPeriod" not in entry

    add_filing(session, patient)
    entry = insurance(
        post(
            client,
            "/CoverageEligibilityRequest/$submit",
            request_for(patient),
            fhir_headers(hospital),
        ).json()
    )
    assert ext(entry, codes.EXT_OFFSITE_STATUS)["valueCoding"]["code"] == "long_term"  # type: ignore[index]
    filing = ext(entry, codes.EXT_FILING)
    assert filing is not None
    parts = {p["url"]: p for p in filing["extension"]}
    assert parts["coversInstitution"]["valueBoolean"] is True
    assert entry["benefitPeriod"] == {"start": "2026-01-01", "end": "2026-12-31"}


def test_not_networked_other_institution_and_the_person_asking(
    client: TestClient,
    session: Session,
    world: World,
    patient: Person,
    hospital: AuthUser,
    make_user: MakeUser,
    fixed_day: Any,
) -> None:
    world.hospital.networked = False
    session.commit()
    out = post(
        client, "/CoverageEligibilityRequest/$submit", request_for(patient), fhir_headers(hospital)
    ).json()
    assert insurance(out)["inforce"] is False
    assert out["error"][0]["code"]["coding"][0]["code"] == "not_networked"
    # a hospital asks for itself only
    other = request_for(patient, facility={"reference": f"Organization/{world.other_hospital.id}"})
    response = post(client, "/CoverageEligibilityRequest/$submit", other, fhir_headers(hospital))
    assert response.status_code == 403
    # the person asks about the Beijing hospital at home: local, covered
    insured = make_user("insured", person_id=patient.id)
    at_home = request_for(
        patient, facility={"reference": f"Organization/{world.beijing_hospital.id}"}
    )
    at_home["patient"] = {"reference": f"Patient/{patient.id}"}
    out = post(client, "/CoverageEligibilityRequest/$submit", at_home, fhir_headers(insured)).json()
    assert insurance(out)["inforce"] is True
    assert ext(insurance(out), codes.EXT_OFFSITE_STATUS)["valueCoding"]["code"] == "local"  # type: ignore[index]
    # another insured person may not ask about the patient
    stranger = make_user("insured", person_id=world.worker.id)
    response = post(client, "/CoverageEligibilityRequest/$submit", at_home, fhir_headers(stranger))
    assert response.status_code == 403
    # no institution named by a person: 422
    response = post(
        client, "/CoverageEligibilityRequest/$submit", request_for(patient), fhir_headers(insured)
    )
    assert response.status_code == 422


def test_the_capability_statement_lists_exactly_the_routes(client: TestClient) -> None:
    response = client.get(f"{FHIR}/metadata")  # no token needed
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
    statement = response.json()
    check("CapabilityStatement", statement)
    assert statement["fhirVersion"] == "4.0.1"
    listed: set[tuple[str, str]] = set()
    for resource in statement["rest"][0]["resource"]:
        for interaction in resource.get("interaction", []):
            listed.add((resource["type"], interaction["code"]))
        for operation in resource.get("operation", []):
            listed.add((resource["type"], f"${operation['name']}"))
    served = {
        (entry["resource"], entry["interaction"] or f"${entry['operation']}")
        for entry in route_table(router.routes)
        if entry["resource"] != "CapabilityStatement"
    }
    assert listed == served
    assert listed == {
        ("Patient", "read"),
        ("Patient", "search-type"),
        ("Coverage", "read"),
        ("Coverage", "search-type"),
        ("CoverageEligibilityRequest", "$submit"),
        ("Claim", "$submit"),
        ("ExplanationOfBenefit", "read"),
        ("ExplanationOfBenefit", "search-type"),
        ("PaymentReconciliation", "read"),
        ("PaymentReconciliation", "search-type"),
    }
    # every route is outside the OpenAPI document
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/fhir")]
    # anything else under the base is an OperationOutcome
    response = client.get(f"{FHIR}/Observation")
    assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"
    response = client.delete(f"{FHIR}/Patient/1")
    assert response.status_code in (404, 405)
    assert response.json()["resourceType"] == "OperationOutcome"
