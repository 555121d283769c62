"""The filing journeys of the seeds, end to end over HTTP (domain.md journeys 1-3).

The clock is the one thing faked: ``get_today`` is overridden so that a filing can be
followed across months (approval, lock period, cancellation, expiry, renewal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.audit.models import AuditEntry
from yibao.filings import service
from yibao.filings.routes import get_today
from yibao.registry.models import Institution

PDF = b"%PDF-1.4\n% test document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class Clock:
    today: date


@dataclass
class Hospitals:
    sanya_l3: Institution
    sanya_l2: Institution
    sanya_specialised: Institution
    beijing_l3: Institution
    beijing_l1: Institution


@pytest.fixture
def clock(app: Any) -> Clock:
    c = Clock(date(2026, 3, 1))
    app.dependency_overrides[get_today] = lambda: c.today
    return c


@pytest.fixture
def hospitals(session: Session, world: Any) -> Hospitals:
    def add(code: str, name: str, region: str, level: int, specialty: str) -> Institution:
        h = Institution(
            code=code,
            name=name,
            region_code=region,
            kind="hospital",
            level=level,
            specialty=specialty,
            designated=True,
            networked=True,
        )
        session.add(h)
        return h

    result = Hospitals(
        sanya_l3=world.hospital,
        sanya_l2=add("HT460200002", "三亚市中医院", "460200", 2, "general"),
        sanya_specialised=add("HT460200003", "三亚市眼科医院", "460200", 3, "specialised"),
        beijing_l3=add("HT110000001", "北京某三甲医院", "110000", 3, "general"),
        beijing_l1=add("HT110000002", "北京某社区卫生服务中心", "110000", 1, "general"),
    )
    session.commit()
    return result


def upload(client: TestClient, headers: dict[str, str], filing_id: int, doc_type: str) -> Any:
    response = client.post(
        f"/api/v1/filings/{filing_id}/documents",
        headers=headers,
        data={"doc_type": doc_type},
        files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    return response.json()


def stamp_all(client: TestClient, make_user: Any, filing_id: int, *hospitals: Institution) -> None:
    """Seed 000 (Beijing resettlement): each chosen hospital's office stamps the form."""
    for hospital in hospitals:
        office = make_user("hospital", institution_id=hospital.id).headers
        ok(post(client, office, f"/{filing_id}/hospital-stamp"))


def post(client: TestClient, headers: dict[str, str], path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1/filings{path}", headers=headers, json=body)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def audit_actions(session: Session, filing_id: int) -> list[str]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "filing", AuditEntry.entity_id == str(filing_id))
        .order_by(AuditEntry.id)
    )
    return [row.action for row in rows]


def test_resettled_retiree_to_sanya_approved_with_certificate_then_renewed(
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    make_user: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    """Seed 000: through the street office, three hospitals chosen, one-year approval."""
    office, agency = users["street_office"].headers, users["agency"].headers
    body = {
        "person_id": world.retiree.id,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [
            hospitals.sanya_l3.id,
            hospitals.sanya_l2.id,
            hospitals.sanya_specialised.id,
        ],
    }
    filing = ok(post(client, office, "", body), 201)
    assert filing["state"] == "draft" and filing["submitted_via"] == "street_office"
    assert [h["code"] for h in filing["hospitals"]] == ["H460200001", "HT460200002", "HT460200003"]
    assert filing["documents_still_missing"] == [
        "identity_copy",
        "residence_proof",
        "retirement_certificate",
    ]
    fid = filing["id"]

    # Submitting without documents is refused and says what is missing.
    refused = post(client, office, f"/{fid}/submit")
    assert refused.status_code == 422
    assert refused.json()["code"] == "filing.documents_missing"
    assert refused.json()["missing"] == [
        "identity_copy",
        "residence_proof",
        "retirement_certificate",
    ]

    for kind in ("identity_copy", "residence_proof", "retirement_certificate"):
        upload(client, office, fid, kind)
    chosen = (hospitals.sanya_l3, hospitals.sanya_l2, hospitals.sanya_specialised)
    stamp_all(client, make_user, fid, *chosen)
    assert ok(post(client, office, f"/{fid}/submit"))["state"] == "submitted"

    queue = ok(client.get("/api/v1/filings/queue", headers=agency))
    assert [f["id"] for f in queue] == [fid]
    approved = ok(post(client, agency, f"/{fid}/approve"))
    assert approved["state"] == "approved"
    assert approved["number"] == "BA110000-2026-000001"
    assert (approved["valid_from"], approved["valid_to"]) == ("2026-03-01", "2027-02-28")
    assert approved["locked_until"] == "2026-08-31"
    assert ok(client.get("/api/v1/filings/queue", headers=agency)) == []

    cert = ok(client.get(f"/api/v1/filings/{fid}/certificate", headers=users["insured"].headers))
    assert cert["filing_number"] == "BA110000-2026-000001"
    assert cert["category_name"] == "异地安置退休人员"
    assert cert["person"]["name"] == "王退休"
    assert cert["person"]["identity_number_masked"].count("*") == 8
    assert cert["destination"] == {"code": "460200", "name": "三亚市"}
    assert cert["valid_to"] == "2027-02-28"
    assert [h["name"] for h in cert["hospitals"]] == [
        "三亚市人民医院",
        "三亚市中医院",
        "三亚市眼科医院",
    ]
    pdf = client.get(f"/api/v1/filings/{fid}/certificate.pdf", headers=users["insured"].headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 800

    # What the settlement engine sees: long-term, Sanya, the validity; not at other places.
    info = service.filing_info_for(
        session, person_id=world.retiree.id, on=date(2026, 7, 1), treatment_region="460200"
    )
    assert info is not None and info.type == "resettled_retiree" and info.is_long_term
    assert info.valid_to == date(2027, 2, 28)
    assert (
        service.filing_info_for(
            session, person_id=world.retiree.id, on=date(2026, 7, 1), treatment_region="130600"
        )
        is None
    )
    assert audit_actions(session, fid) == [
        "filing.created",
        "filing.document_uploaded",
        "filing.document_uploaded",
        "filing.document_uploaded",
        "filing.hospital_stamped",
        "filing.hospital_stamped",
        "filing.hospital_stamped",
        "filing.submit",
        "filing.approve",
    ]

    # Before expiry there is nothing to renew; after it, a new draft is reviewed again.
    clock.today = date(2027, 2, 28)
    early = post(client, office, f"/{fid}/renew")
    assert early.status_code == 409 and early.json()["code"] == "filing.not_expired"
    clock.today = date(2027, 3, 1)
    renewal = ok(post(client, office, f"/{fid}/renew"), 201)
    assert renewal["state"] == "draft" and renewal["renews_filing_id"] == fid
    assert renewal["documents_still_missing"] == []
    assert ok(client.get(f"/api/v1/filings/{fid}", headers=office))["state"] == "expired"
    # The renewal is a new form: the chosen hospitals stamp it again.
    assert renewal["hospitals_to_stamp"] == [h.id for h in chosen]
    stamp_all(client, make_user, renewal["id"], *chosen)
    ok(post(client, office, f"/{renewal['id']}/submit"))
    renewed = ok(post(client, agency, f"/{renewal['id']}/approve"))
    assert renewed["number"] == "BA110000-2027-000001"
    assert (renewed["valid_from"], renewed["valid_to"]) == ("2027-03-01", "2028-02-29")


def test_referral_stamped_by_the_issuing_hospital(
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    make_user: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    """Seed 001/003: a county-level hospital issues the referral, its window stamps it."""
    unit = users["unit"].headers
    issuing = make_user("hospital", institution_id=hospitals.beijing_l3.id).headers
    other = users["hospital"].headers  # the Sanya hospital: not the issuer
    body = {
        "person_id": world.worker.id,
        "category": "referral",
        "destination": "460000",
        "referral_hospital_id": hospitals.beijing_l1.id,
    }
    low = post(client, unit, "", body)
    assert low.status_code == 422 and low.json()["code"] == "filing.referral_invalid"
    assert "below level 2" in low.json()["detail"]

    body["referral_hospital_id"] = hospitals.beijing_l3.id
    filing = ok(post(client, unit, "", body), 201)
    fid = filing["id"]
    assert filing["referral_stamp"] == "unstamped" and filing["submitted_via"] == "unit"
    upload(client, unit, fid, "identity_copy")
    upload(client, unit, fid, "referral_certificate")
    unstamped = post(client, unit, f"/{fid}/submit")
    assert unstamped.status_code == 422
    assert unstamped.json()["code"] == "filing.referral_unstamped"

    # The issuing hospital sees the filing and stamps it; another hospital may not.
    assert [f["id"] for f in ok(client.get("/api/v1/filings", headers=issuing))] == [fid]
    assert post(client, other, f"/{fid}/referral-stamp").status_code == 403
    stamped = ok(post(client, issuing, f"/{fid}/referral-stamp"))
    assert stamped["referral_stamp"] == "stamped" and stamped["referral_stamped_at"]
    twice = post(client, issuing, f"/{fid}/referral-stamp")
    assert twice.status_code == 409 and twice.json()["allowed"] == []

    ok(post(client, unit, f"/{fid}/submit"))
    approved = ok(post(client, users["agency"].headers, f"/{fid}/approve"))
    assert (approved["valid_from"], approved["valid_to"]) == ("2026-03-01", "2026-08-31")
    # No hospital choice for a temporary filing: every networked hospital of Hainan.
    assert approved["hospitals_chosen"] is False
    assert {h["code"] for h in approved["hospitals"]} == {
        "H460200001",
        "HT460200002",
        "HT460200003",
    }
    info = service.filing_info_for(
        session, person_id=world.worker.id, on=date(2026, 4, 2), treatment_region="460200"
    )
    assert info is not None and info.type == "referral" and not info.is_long_term
    assert "filing.referral_stamped" in audit_actions(session, fid)


def test_emergency_filed_after_the_hotline_approval(
    client: TestClient,
    session: Session,
    world: Any,
    make_user: Any,
    users: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    """Seed 004: admitted in Sanya as an emergency, the hotline agreed, filed afterwards."""
    person = make_user("insured", person_id=world.spouse.id).headers
    clock.today = date(2026, 5, 20)
    body = {
        "person_id": world.spouse.id,
        "category": "emergency",
        "destination": "460200",
        "hotline": {"reference": "12393-20260510-0042", "called_at": "2026-05-10T22:05:00+08:00"},
        "treatment_start": "2026-05-10",
        "treatment_end": "2026-05-18",
    }
    no_call = post(client, person, "", {**body, "hotline": None})
    assert no_call.status_code == 422 and no_call.json()["code"] == "filing.emergency_invalid"

    filing = ok(post(client, person, "", body), 201)
    fid = filing["id"]
    assert filing["hotline_reference"] == "12393-20260510-0042"
    assert filing["submitted_via"] == "person"
    upload(client, person, fid, "identity_copy")
    upload(client, person, fid, "emergency_record")
    ok(post(client, person, f"/{fid}/submit"))
    approved = ok(post(client, users["agency"].headers, f"/{fid}/approve"))
    # Retroactive: valid from the first treatment day, six months, covering the stay.
    assert (approved["valid_from"], approved["valid_to"]) == ("2026-05-10", "2026-11-09")
    cert = ok(client.get(f"/api/v1/filings/{fid}/certificate", headers=person))
    assert cert["hotline"]["reference"] == "12393-20260510-0042"
    assert cert["treatment"] == {"start": "2026-05-10", "end": "2026-05-18"}
    for day in (date(2026, 5, 10), date(2026, 5, 18)):
        info = service.filing_info_for(
            session, person_id=world.spouse.id, on=day, treatment_region="460200"
        )
        assert info is not None and info.type == "emergency"
    assert (
        service.filing_info_for(
            session, person_id=world.spouse.id, on=date(2026, 5, 9), treatment_region="460200"
        )
        is None
    )


def test_returned_for_a_missing_document_completed_and_approved(
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    unit, agency = users["unit"].headers, users["agency"].headers
    body = {
        "person_id": world.worker.id,
        "category": "posted_worker",
        "destination": "460200",
        "hospital_ids": [hospitals.sanya_l3.id, hospitals.sanya_l2.id],
    }
    fid = ok(post(client, unit, "", body), 201)["id"]
    upload(client, unit, fid, "identity_copy")
    upload(client, unit, fid, "employment_proof")
    ok(post(client, unit, f"/{fid}/submit"))

    returned = ok(
        post(
            client,
            agency,
            f"/{fid}/return",
            {"missing_documents": ["application_form"], "note": "the signed form is missing"},
        )
    )
    assert returned["state"] == "returned"
    assert returned["missing_documents"] == ["application_form"]
    assert returned["documents_still_missing"] == ["application_form"]
    # /submit resubmits, offered once what the return asked for is there
    assert returned["allowed_actions"] == ["withdraw"]
    assert [d["doc_type"] for d in returned["documents"]] == ["identity_copy", "employment_proof"]

    # Approving a returned filing is an illegal move: 409 with the moves allowed.
    illegal = post(client, agency, f"/{fid}/approve")
    assert illegal.status_code == 409
    assert illegal.headers["content-type"].startswith("application/problem+json")
    assert illegal.json()["code"] == "state.invalid_transition"
    assert illegal.json()["allowed"] == ["resubmit", "withdraw"]
    # Resubmitting without the listed document is refused.
    early = post(client, unit, f"/{fid}/submit")
    assert early.status_code == 422 and early.json()["missing"] == ["application_form"]

    upload(client, unit, fid, "application_form")
    completed = ok(client.get(f"/api/v1/filings/{fid}", headers=unit))
    assert completed["allowed_actions"] == ["submit", "withdraw"]
    assert ok(post(client, unit, f"/{fid}/submit"))["state"] == "resubmitted"
    assert [f["id"] for f in ok(client.get("/api/v1/filings/queue", headers=agency))] == [fid]
    approved = ok(post(client, agency, f"/{fid}/approve"))
    assert approved["state"] == "approved" and approved["missing_documents"] == []
    assert approved["return_requested_documents"] is None
    assert len(approved["documents"]) == 3
    assert audit_actions(session, fid)[-4:] == [
        "filing.return",
        "filing.document_uploaded",
        "filing.resubmit",
        "filing.approve",
    ]


def test_cancellation_then_local_use_the_next_day(
    client: TestClient,
    session: Session,
    world: Any,
    make_user: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    """Seed 001 (Baoding suspends the card at home while filed): cancel, home again tomorrow."""
    person = make_user("insured", person_id=world.baoding_person.id).headers
    reviewer = make_user("agency", agency_id=world.baoding_center.id).headers
    clock.today = date(2026, 1, 5)
    body = {
        "person_id": world.baoding_person.id,
        "category": "long_term_resident",
        "destination": "110000",
    }
    fid = ok(post(client, person, "", body), 201)["id"]
    upload(client, person, fid, "identity_copy")
    upload(client, person, fid, "commitment_letter")
    # Baoding does not take a commitment letter for the residence proof.
    refused = post(client, person, f"/{fid}/submit")
    assert refused.status_code == 422 and refused.json()["missing"] == ["residence_proof"]
    upload(client, person, fid, "residence_proof")
    ok(post(client, person, f"/{fid}/submit"))
    approved = ok(post(client, reviewer, f"/{fid}/approve"))
    assert approved["number"] == "BA130600-2026-000001"
    assert approved["locked_until"] == "2026-07-04"
    beijing = {"HT110000001", "HT110000002", world.beijing_hospital.code}
    assert {h["code"] for h in approved["hospitals"]} == beijing

    def local_use(day: str) -> Any:
        return ok(
            client.get(
                "/api/v1/filings/local-use",
                headers=person,
                params={"person_id": world.baoding_person.id, "on": day},
            )
        )

    assert local_use("2026-01-04")["local_use_suspended"] is False
    assert local_use("2026-03-01")["local_use_suspended"] is True

    clock.today = date(2026, 8, 10)
    cancelled = ok(post(client, person, f"/{fid}/cancel", {"reason": "moved back home"}))
    assert cancelled["state"] == "cancelled"
    assert (cancelled["cancelled_on"], cancelled["valid_to"]) == ("2026-08-10", "2026-08-10")
    assert local_use("2026-08-10")["local_use_suspended"] is True
    next_day = local_use("2026-08-11")
    assert next_day["local_use_suspended"] is False and next_day["long_term_filing"] is False
    assert (
        service.filing_info_for(
            session,
            person_id=world.baoding_person.id,
            on=date(2026, 8, 11),
            treatment_region="110000",
        )
        is None
    )
    again = post(client, person, f"/{fid}/cancel", {})
    assert again.status_code == 409 and again.json()["allowed"] == []


def test_change_refused_inside_the_lock_period(
    client: TestClient,
    world: Any,
    users: Any,
    make_user: Any,
    hospitals: Hospitals,
    clock: Clock,
) -> None:
    office, agency = users["street_office"].headers, users["agency"].headers
    body = {
        "person_id": world.retiree.id,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [hospitals.sanya_l3.id, hospitals.sanya_l2.id],
    }
    fid = ok(post(client, office, "", body), 201)["id"]
    for kind in ("identity_copy", "commitment_letter", "retirement_certificate"):
        upload(client, office, fid, kind)  # Beijing takes the commitment letter
    stamp_all(client, make_user, fid, hospitals.sanya_l3, hospitals.sanya_l2)
    ok(post(client, office, f"/{fid}/submit"))
    ok(post(client, agency, f"/{fid}/approve"))

    clock.today = date(2026, 5, 1)
    change = {"hospital_ids": [hospitals.sanya_l3.id, hospitals.sanya_specialised.id]}
    locked = post(client, office, f"/{fid}/change", {"hospital_ids": [hospitals.sanya_l3.id]})
    assert locked.status_code == 409
    assert locked.json()["code"] == "filing.locked"
    assert locked.json()["locked_until"] == "2026-08-31"
    # The lock limits changes only: cancelling stays open (see test_filing_journeys_issue9).
    offered = ok(client.get(f"/api/v1/filings/{fid}", headers=office))["allowed_actions"]
    assert "change" not in offered and "cancel" in offered

    clock.today = date(2026, 9, 1)
    # After the lock, a change still follows seed 000's composition rule ...
    bad = post(client, office, f"/{fid}/change", change)
    assert bad.status_code == 422 and bad.json()["code"] == "filing.hospital_choice_invalid"
    # ... and a valid one goes through and is audited.
    changed = ok(post(client, office, f"/{fid}/change", {"hospital_ids": [hospitals.sanya_l3.id]}))
    assert [h["code"] for h in changed["hospitals"]] == ["H460200001"]
    assert changed["state"] == "approved" and changed["valid_to"] == "2027-02-28"
