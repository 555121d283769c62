"""Issue 9: the filing journeys as people live them, end to end over HTTP.

Each test is one journey that failed on the demo data: going home within the lock period
(seed 001), undoing a mistaken draft, categories that must fit the person (seed 001's five
kinds of long-term filers), seed 000's hospital stamp and a hospital checking a presented
certificate, one list of what is still missing after a return, and ``allowed_actions``
naming only routes the caller may call. The clock is the one thing faked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import add_person
from tests.e2e.test_filing_journeys import audit_actions, ok, post, upload
from yibao.audit.models import AuditEntry
from yibao.filings import service
from yibao.filings.routes import get_today
from yibao.registry.models import Institution

API = "/api/v1/filings"
RETIREE_DOCUMENTS = ("identity_copy", "residence_proof", "retirement_certificate")


@dataclass
class Clock:
    today: date


@pytest.fixture
def clock(app: Any) -> Clock:
    c = Clock(date(2026, 3, 1))
    app.dependency_overrides[get_today] = lambda: c.today
    return c


@dataclass
class Sanya:
    l3: Institution  # the world's Sanya hospital (level 3, general)
    l2: Institution
    eye: Institution  # level 3, specialised: never chosen below


@pytest.fixture
def sanya(session: Session, world: Any) -> Sanya:
    def add(code: str, name: str, level: int, specialty: str) -> Institution:
        h = Institution(
            code=code,
            name=name,
            region_code="460200",
            kind="hospital",
            level=level,
            specialty=specialty,
            designated=True,
            networked=True,
        )
        session.add(h)
        return h

    result = Sanya(
        l3=world.hospital,
        l2=add("HJ460200002", "三亚市中医院", 2, "general"),
        eye=add("HJ460200003", "三亚市眼科医院", 3, "specialised"),
    )
    session.commit()
    return result


def hospital_user(make_user: Any, hospital: Institution) -> dict[str, str]:
    headers: dict[str, str] = make_user("hospital", institution_id=hospital.id).headers
    return headers


def get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    return client.get(f"{API}{path}", headers=headers, params=params or None)


def resettle(
    client: TestClient, users: Any, make_user: Any, world: Any, sanya: Sanya
) -> dict[str, Any]:
    """Wang (王退休) resettles in Sanya on 2026-03-01: the street office files, both chosen
    hospitals stamp the form, the centre approves. Locked until 2026-08-31."""
    office, agency = users["street_office"].headers, users["agency"].headers
    body = {
        "person_id": world.retiree.id,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [sanya.l3.id, sanya.l2.id],
    }
    fid = ok(post(client, office, "", body), 201)["id"]
    for kind in RETIREE_DOCUMENTS:
        upload(client, office, fid, kind)
    for hospital in (sanya.l3, sanya.l2):
        ok(post(client, hospital_user(make_user, hospital), f"/{fid}/hospital-stamp"))
    ok(post(client, office, f"/{fid}/submit"))
    approved = ok(post(client, agency, f"/{fid}/approve"))
    assert approved["locked_until"] == "2026-08-31"
    return dict(approved)


# --- 1. going home within the lock period --------------------------------------------------


@pytest.mark.parametrize("who", ["insured", "street_office", "agency", "admin"])
def test_a_filer_can_go_home_within_the_lock(
    who: str,
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    make_user: Any,
    sanya: Sanya,
    clock: Clock,
) -> None:
    """Seed 001: the person cancels at the agency and the card works locally from the next
    day; seed 000's one-year rule forbids changes, not going home."""
    filing = resettle(client, users, make_user, world, sanya)
    fid = filing["id"]
    clock.today = date(2026, 5, 10)  # D, inside the lock
    person = users["insured"].headers
    offered = ok(get(client, person, f"/{fid}"))["allowed_actions"]
    assert offered == ["cancel"]  # no change inside the lock, no expire (no such route)

    locked = post(client, person, f"/{fid}/change", {"hospital_ids": [sanya.l3.id]})
    assert locked.status_code == 409 and locked.json()["code"] == "filing.locked"

    cancelled = ok(post(client, users[who].headers, f"/{fid}/cancel", {"reason": "going home"}))
    assert cancelled["state"] == "cancelled"
    assert (cancelled["cancelled_on"], cancelled["valid_to"]) == ("2026-05-10", "2026-05-10")
    assert cancelled["local_use_from"] == "2026-05-11"
    assert cancelled["allowed_actions"] == []
    cert = ok(get(client, person, f"/{fid}/certificate"))
    assert (cert["state"], cert["cancelled_on"], cert["local_use_from"]) == (
        "cancelled",
        "2026-05-10",
        "2026-05-11",
    )
    # The filing still covers the day it was cancelled, not the next one.
    assert service.filing_info_for(
        session, person_id=world.retiree.id, on=date(2026, 5, 10), treatment_region="460200"
    )
    assert (
        service.filing_info_for(
            session, person_id=world.retiree.id, on=date(2026, 5, 11), treatment_region="460200"
        )
        is None
    )
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "filing.cancel", AuditEntry.entity_id == str(fid)
        )
    ).one()
    assert entry.after is not None and entry.after["reason"] == "going home"


def test_a_filer_can_go_home_within_the_lock_where_the_card_is_suspended(
    client: TestClient, world: Any, make_user: Any, clock: Clock
) -> None:
    """Baoding (seed 001) suspends the card at home while filed: cancelled on D inside the
    lock, it works at home again on D+1."""
    person = make_user("insured", person_id=world.baoding_person.id).headers
    reviewer = make_user("agency", agency_id=world.baoding_center.id).headers
    clock.today = date(2026, 1, 5)
    body = {"person_id": world.baoding_person.id, "category": "long_term_resident"}
    fid = ok(post(client, person, "", {**body, "destination": "110000"}), 201)["id"]
    for kind in ("identity_copy", "residence_proof"):
        upload(client, person, fid, kind)
    ok(post(client, person, f"/{fid}/submit"))
    assert ok(post(client, reviewer, f"/{fid}/approve"))["locked_until"] == "2026-07-04"

    def suspended(day: str) -> bool:
        params = {"person_id": world.baoding_person.id, "on": day}
        answer = ok(client.get(f"{API}/local-use", headers=person, params=params))
        return bool(answer["local_use_suspended"])

    clock.today = date(2026, 3, 10)
    assert suspended("2026-03-10")
    assert ok(post(client, person, f"/{fid}/cancel"))["local_use_from"] == "2026-03-11"
    assert suspended("2026-03-10") and not suspended("2026-03-11")


def test_the_centre_corrects_within_the_lock_with_a_reason(
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    make_user: Any,
    sanya: Sanya,
    clock: Clock,
) -> None:
    filing = resettle(client, users, make_user, world, sanya)
    fid = filing["id"]
    clock.today = date(2026, 4, 1)
    agency, person = users["agency"].headers, users["insured"].headers
    assert ok(get(client, agency, f"/{fid}"))["allowed_actions"] == ["correct", "cancel"]
    fix = {"hospital_ids": [sanya.l3.id], "reason": "the second hospital was a typing error"}
    # The person cannot use a correction to get round the lock.
    assert post(client, person, f"/{fid}/correct", fix).status_code == 403
    no_reason = post(client, agency, f"/{fid}/correct", {**fix, "reason": "  "})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "filing.reason_required"
    corrected = ok(post(client, agency, f"/{fid}/correct", fix))
    assert [h["id"] for h in corrected["hospitals"]] == [sanya.l3.id]
    assert corrected["state"] == "approved" and corrected["valid_to"] == "2027-02-28"
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "filing.correct", AuditEntry.entity_id == str(fid)
        )
    ).one()
    assert entry.after is not None
    assert entry.after["reason"] == "the second hospital was a typing error"
    assert entry.after["changed"] == {"hospital_ids": [sanya.l3.id]}


# --- 2. undoing a mistake --------------------------------------------------------------------


def test_a_draft_can_be_withdrawn_and_no_longer_blocks(
    client: TestClient, session: Session, world: Any, users: Any, clock: Clock
) -> None:
    person = users["insured"].headers
    body = {"person_id": world.retiree.id, "category": "other_temporary", "destination": "130600"}
    mistake = ok(post(client, person, "", body), 201)
    assert mistake["allowed_actions"] == ["withdraw"]  # submit once the documents are there
    fixed = {**body, "destination": "460200"}
    blocked = post(client, person, "", fixed)
    assert blocked.status_code == 409 and blocked.json()["code"] == "filing.duplicate"

    withdrawn = ok(post(client, person, f"/{mistake['id']}/withdraw", {"reason": "wrong city"}))
    assert (withdrawn["state"], withdrawn["withdrawn_on"]) == ("withdrawn", "2026-03-01")
    assert withdrawn["allowed_actions"] == []
    again = post(client, person, f"/{mistake['id']}/withdraw")
    assert again.status_code == 409 and again.json()["allowed"] == []
    late = client.post(
        f"{API}/{mistake['id']}/documents",
        headers=person,
        data={"doc_type": "identity_copy"},
        files={"file": ("a.pdf", b"%PDF-1.4\n", "application/pdf")},
    )
    assert late.status_code == 409 and late.json()["code"] == "filing.closed"

    correct = ok(post(client, person, "", fixed), 201)
    assert correct["state"] == "draft"
    # The history stays: the withdrawn filing is listed and audited.
    listed = ok(client.get(API, headers=person))
    assert {f["id"]: f["state"] for f in listed} == {
        mistake["id"]: "withdrawn",
        correct["id"]: "draft",
    }
    assert audit_actions(session, mistake["id"]) == ["filing.created", "filing.withdraw"]


def test_a_withdrawn_draft_makes_no_one_a_patient(
    client: TestClient, world: Any, users: Any, make_user: Any, sanya: Sanya, clock: Clock
) -> None:
    """A hospital named in a draft sees the person; once the draft is withdrawn as a
    mistake, it no longer does (the filing itself stays in its history)."""
    office = users["street_office"].headers
    body = {
        "person_id": world.retiree.id,
        "category": "long_term_resident",
        "destination": "460200",
        "hospital_ids": [sanya.l2.id],
    }
    fid = ok(post(client, office, "", body), 201)["id"]
    named = hospital_user(make_user, sanya.l2)
    person = f"/api/v1/persons/{world.retiree.id}"
    assert client.get(person, headers=named).status_code == 200
    ok(post(client, office, f"/{fid}/withdraw"))
    assert client.get(person, headers=named).status_code in (403, 404)


# --- 3. categories that fit --------------------------------------------------------------


def test_a_category_must_fit_the_person(
    client: TestClient, session: Session, world: Any, users: Any, sanya: Sanya, clock: Clock
) -> None:
    """Seed 001's long-term filers: each category is for some persons only (policy data)."""
    admin = users["admin"].headers
    child = add_person(
        session, name="张小雨", region="110000", born=date(2015, 1, 10), sequence=64,
        scheme="resident", person_type="minor",
    )  # fmt: skip
    mother = add_person(
        session, name="陈妈妈", region="110000", born=date(1994, 2, 3), sequence=66,
        scheme="resident", person_type="adult",
    )  # fmt: skip
    session.commit()

    def apply(person_id: int, category: str, **extra: Any) -> Any:
        body = {"person_id": person_id, "category": category, "destination": "460200"}
        return post(client, admin, "", {**body, **extra})

    chosen = {"hospital_ids": [sanya.l3.id]}
    in_service = apply(world.worker.id, "resettled_retiree", **chosen)
    assert in_service.status_code == 422
    assert in_service.json()["code"] == "filing.category_unfit"
    assert (
        in_service.json()["detail"]
        == "resettled_retiree is for retired persons; this person is in_service"
    )
    eleven = apply(child.id, "posted_worker", **chosen)
    assert eleven.status_code == 422 and eleven.json()["code"] == "filing.category_unfit"
    assert "this person is 11" in eleven.json()["detail"]
    assert "this person is minor" in eleven.json()["detail"]
    man = apply(world.retiree.id, "resident_mother_postnatal", **chosen)
    assert man.status_code == 422
    assert man.json()["problems"] == [
        "resident_mother_postnatal is for the resident scheme;"
        " this person is insured in the employee scheme",
        "resident_mother_postnatal is for women; this person is a man",
    ]

    minor = ok(apply(child.id, "minor_with_parents", **chosen), 201)
    assert minor["category_name"] == "未成年人随父母异地居住"
    assert minor["documents_still_missing"] == ["identity_copy", "residence_proof"]
    postnatal = ok(apply(mother.id, "resident_mother_postnatal", **chosen), 201)
    assert postnatal["category_name"] == "城乡居民产后随配偶或父母异地居住的女性"
    posted = ok(apply(world.worker.id, "posted_worker", **chosen), 201)
    assert posted["category_name"] == "常驻异地工作人员"


def test_a_new_long_term_category_is_long_term_for_settlement(
    client: TestClient, session: Session, world: Any, users: Any, sanya: Sanya, clock: Clock
) -> None:
    child = add_person(
        session, name="张小雨", region="110000", born=date(2015, 1, 10), sequence=64,
        scheme="resident", person_type="minor",
    )  # fmt: skip
    session.commit()
    office, agency = users["street_office"].headers, users["agency"].headers
    body = {
        "person_id": child.id,
        "category": "minor_with_parents",
        "destination": "460200",
        "hospital_ids": [sanya.l3.id],
    }
    fid = ok(post(client, office, "", body), 201)["id"]
    for kind in ("identity_copy", "residence_proof"):
        upload(client, office, fid, kind)
    ok(post(client, office, f"/{fid}/submit"))
    approved = ok(post(client, agency, f"/{fid}/approve"))
    assert approved["locked_until"] == "2026-08-31"
    info = service.filing_info_for(
        session, person_id=child.id, on=date(2026, 6, 1), treatment_region="460200"
    )
    assert info is not None and info.type == "minor_with_parents" and info.is_long_term


# --- 4. seed 000's hospital stamp --------------------------------------------------------


def test_resettlement_needs_the_chosen_hospitals_stamp(
    client: TestClient,
    session: Session,
    world: Any,
    users: Any,
    make_user: Any,
    sanya: Sanya,
    clock: Clock,
) -> None:
    office, agency = users["street_office"].headers, users["agency"].headers
    body = {
        "person_id": world.retiree.id,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [sanya.l3.id, sanya.l2.id],
    }
    draft = ok(post(client, office, "", body), 201)
    fid = draft["id"]
    assert draft["hospital_stamps_required"] is True
    assert draft["hospitals_to_stamp"] == [sanya.l3.id, sanya.l2.id]
    for kind in RETIREE_DOCUMENTS:
        upload(client, office, fid, kind)
    refused = post(client, office, f"/{fid}/submit")
    assert refused.status_code == 422
    assert refused.json()["code"] == "filing.hospital_stamps_missing"
    assert [h["id"] for h in refused.json()["hospitals"]] == [sanya.l3.id, sanya.l2.id]

    first, second = hospital_user(make_user, sanya.l3), hospital_user(make_user, sanya.l2)
    # A chosen hospital sees the filing that names it, and is offered its stamp.
    seen = ok(get(client, second, f"/{fid}"))
    assert seen["allowed_actions"] == ["hospital-stamp"]
    assert fid in [f["id"] for f in ok(client.get(API, headers=second))]
    # Another hospital neither sees nor stamps it; the applicants do not stamp.
    stranger = hospital_user(make_user, sanya.eye)
    assert post(client, stranger, f"/{fid}/hospital-stamp").status_code == 404
    assert post(client, office, f"/{fid}/hospital-stamp").status_code == 403

    stamped = ok(post(client, first, f"/{fid}/hospital-stamp"))
    assert stamped["hospitals_to_stamp"] == [sanya.l2.id]
    assert [h["stamped_at"] is not None for h in stamped["hospitals"]] == [True, False]
    twice = post(client, first, f"/{fid}/hospital-stamp")
    assert twice.status_code == 409 and twice.json()["allowed"] == []
    still = post(client, office, f"/{fid}/submit")
    assert still.status_code == 422 and [h["id"] for h in still.json()["hospitals"]] == [
        sanya.l2.id
    ]
    ok(post(client, second, f"/{fid}/hospital-stamp"))
    ok(post(client, office, f"/{fid}/submit"))
    assert ok(post(client, agency, f"/{fid}/approve"))["state"] == "approved"
    assert audit_actions(session, fid).count("filing.hospital_stamped") == 2

    # A posted worker's filing in Beijing is no resettlement: no stamp asked for.
    worker = {
        "person_id": world.worker.id,
        "category": "posted_worker",
        "destination": "460200",
        "hospital_ids": [sanya.l3.id],
    }
    posted = ok(post(client, users["unit"].headers, "", worker), 201)
    assert posted["hospital_stamps_required"] is False and posted["hospitals_to_stamp"] == []
    needless = post(client, first, f"/{posted['id']}/hospital-stamp")
    assert needless.status_code == 422 and needless.json()["code"] == "filing.stamp_not_required"


# --- 5. checking a presented certificate -------------------------------------------------


def test_a_hospital_verifies_a_presented_certificate(
    client: TestClient,
    world: Any,
    users: Any,
    make_user: Any,
    sanya: Sanya,
    clock: Clock,
) -> None:
    filing = resettle(client, users, make_user, world, sanya)
    fid, person = filing["id"], users["insured"].headers
    cert = ok(get(client, person, f"/{fid}/certificate"))
    number, code = cert["filing_number"], cert["verification_code"]
    assert len(code) == 8 and code.isalnum()
    pdf = client.get(f"{API}/{fid}/certificate.pdf", headers=person)
    assert pdf.status_code == 200

    chosen, other = hospital_user(make_user, sanya.l3), hospital_user(make_user, sanya.eye)
    clock.today = date(2026, 6, 1)
    seen = ok(get(client, chosen, "/verify", number=number, code=code.lower()))
    assert seen["valid"] is True and seen["state"] == "approved"
    assert seen["person_name"] == "王*休"
    assert seen["identity_number_masked"].count("*") == 8
    assert (seen["destination"], seen["destination_name"]) == ("460200", "三亚市")
    assert (seen["valid_from"], seen["valid_to"]) == ("2026-03-01", "2027-02-28")
    assert seen["covers_your_hospital"] is True
    assert seen["category_name"] == "异地安置退休人员"
    elsewhere = ok(get(client, other, "/verify", number=number, code=code))
    assert elsewhere["valid"] is True and elsewhere["covers_your_hospital"] is False
    by_agency = ok(get(client, users["agency"].headers, "/verify", number=number, code=code))
    assert by_agency["valid"] is True and by_agency["covers_your_hospital"] is None

    forged = ok(get(client, chosen, "/verify", number=number, code="AAAAAAAA"))
    assert forged["valid"] is False and forged["person_name"] is None
    unknown = ok(get(client, chosen, "/verify", number="BA110000-2026-999999", code=code))
    assert unknown == {**forged, "reason": unknown["reason"]}
    assert get(client, person, "/verify", number=number, code=code).status_code == 403

    # Expired (before the daily job ran): not valid, home again the day after the last.
    clock.today = date(2027, 3, 1)
    expired = ok(get(client, chosen, "/verify", number=number, code=code))
    assert (expired["valid"], expired["state"], expired["local_use_from"]) == (
        False,
        "expired",
        "2027-03-01",
    )
    # Cancelled: not valid, with the day local use resumed.
    clock.today = date(2026, 7, 20)
    ok(post(client, person, f"/{fid}/cancel"))
    gone = ok(get(client, chosen, "/verify", number=number, code=code))
    assert (gone["valid"], gone["state"], gone["cancelled_on"], gone["local_use_from"]) == (
        False,
        "cancelled",
        "2026-07-20",
        "2026-07-21",
    )
    assert "2026-07-21" in gone["reason"]


# --- 6. one list of what is missing ------------------------------------------------------


def test_documents_still_missing_agrees_after_a_return(
    client: TestClient, world: Any, make_user: Any, clock: Clock
) -> None:
    person = make_user("insured", person_id=world.baoding_person.id).headers
    reviewer = make_user("agency", agency_id=world.baoding_center.id).headers
    body = {
        "person_id": world.baoding_person.id,
        "category": "long_term_resident",
        "destination": "110000",
    }
    fid = ok(post(client, person, "", body), 201)["id"]
    for kind in ("identity_copy", "residence_proof"):
        upload(client, person, fid, kind)
    ok(post(client, person, f"/{fid}/submit"))
    ask = {"missing_documents": ["residence_proof"], "note": "the proof is unreadable"}
    returned = ok(post(client, reviewer, f"/{fid}/return", ask))

    def lists(filing: dict[str, Any]) -> tuple[Any, Any]:
        return filing["documents_still_missing"], filing["missing_documents"]

    assert lists(returned) == (["residence_proof"], ["residence_proof"])
    assert returned["return_requested_documents"] == ["residence_proof"]
    assert lists(ok(get(client, person, f"/{fid}"))) == (["residence_proof"], ["residence_proof"])
    early = post(client, person, f"/{fid}/submit")
    assert early.status_code == 422 and early.json()["missing"] == ["residence_proof"]

    upload(client, person, fid, "residence_proof")
    assert lists(ok(get(client, person, f"/{fid}"))) == ([], [])
    assert lists(ok(post(client, person, f"/{fid}/submit"))) == ([], [])
    approved = ok(post(client, reviewer, f"/{fid}/approve"))
    assert lists(approved) == ([], []) and approved["return_requested_documents"] is None


# --- 7. allowed actions are routes -------------------------------------------------------


def _action_routes(app: Any) -> set[str]:
    """``<action>`` of every ``POST /filings/{filing_id}/<action>`` the API declares."""
    prefix = f"{API}/{{filing_id}}/"
    return {
        path.removeprefix(prefix)
        for path, item in app.openapi()["paths"].items()
        if "post" in item and path.startswith(prefix) and "/" not in path.removeprefix(prefix)
    }


def test_allowed_actions_are_routes(
    app: Any,
    client: TestClient,
    world: Any,
    users: Any,
    make_user: Any,
    sanya: Sanya,
    clock: Clock,
) -> None:
    routes = _action_routes(app)
    seen: list[str] = []

    def offered(headers: dict[str, str], fid: int) -> list[str]:
        actions = list(ok(get(client, headers, f"/{fid}"))["allowed_actions"])
        seen.extend(actions)
        assert set(actions) <= routes, f"{actions} are not all routes ({sorted(routes)})"
        return actions

    office, agency, person = (users[k].headers for k in ("street_office", "agency", "insured"))
    chosen = hospital_user(make_user, sanya.l3)
    body = {
        "person_id": world.retiree.id,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [sanya.l3.id],
    }
    fid = ok(post(client, office, "", body), 201)["id"]
    assert offered(person, fid) == ["withdraw"]  # submit once documents and stamp are there
    assert offered(chosen, fid) == ["hospital-stamp"]
    for kind in RETIREE_DOCUMENTS:
        upload(client, office, fid, kind)
    assert offered(person, fid) == ["withdraw"]  # the chosen hospital's stamp still owed
    ok(post(client, chosen, f"/{fid}/hospital-stamp"))
    assert offered(chosen, fid) == []
    assert offered(person, fid) == ["submit", "withdraw"]
    ok(post(client, office, f"/{fid}/submit"))
    assert offered(agency, fid) == ["approve", "reject", "return", "withdraw"]
    assert offered(person, fid) == ["withdraw"]
    # Four eyes: the agency user who filed a filing is not offered its approval.
    own = ok(
        post(client, agency, "", {**body, "category": "other_temporary", "hospital_ids": None}),
        201,
    )
    upload(client, agency, own["id"], "identity_copy")
    ok(post(client, agency, f"/{own['id']}/submit"))
    assert offered(agency, own["id"]) == ["reject", "return", "withdraw"]

    ok(post(client, agency, f"/{fid}/return", {"missing_documents": ["residence_proof"]}))
    assert offered(person, fid) == ["withdraw"]  # the residence proof asked for is missing
    upload(client, office, fid, "residence_proof")
    assert offered(person, fid) == ["submit", "withdraw"]  # /submit resubmits
    ok(post(client, office, f"/{fid}/submit"))
    ok(post(client, agency, f"/{fid}/approve"))
    assert offered(person, fid) == ["cancel"]
    assert offered(agency, fid) == ["correct", "cancel"]
    assert offered(chosen, fid) == []
    clock.today = date(2026, 9, 1)
    assert offered(person, fid) == ["change", "cancel"]
    clock.today = date(2027, 3, 1)
    assert offered(person, fid) == ["renew"]  # expired (the daily job's move is no route)
    assert "expire" not in seen
