"""Filing applications on the pages (备案申请): the insured person applies, the street office
files for someone, each follows the review; and the designated institutions' search.
Every step goes through the filings service with the signed-in user as the actor."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.web.conftest import MakeWebUser, SignIn, WebUser, csrf_of, post_form
from tests.web.test_pages import text_of
from yibao.documents.models import Document
from yibao.filings.models import Filing

API = "/api/v1"
PDF = b"%PDF-1.4\n% test document\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    filings = session.scalar(select(func.count()).select_from(Filing)) or 0
    documents = session.scalar(select(func.count()).select_from(Document)) or 0
    return filings, documents


def apply(
    client: TestClient,
    base: str,
    data: dict[str, str | list[str]],
    files: list[tuple[str, str]] = (),  # type: ignore[assignment]
    *,
    form_page: str | None = None,
) -> Response:
    """Post the application form (with its token) and the named files (kind, name)."""
    token = csrf_of(client.get(form_page or f"{base}/filings/new").text)
    multipart = [("file", (name, PDF, "application/pdf")) for _kind, name in files]
    body: dict[str, str | list[str]] = {
        **data,
        "csrf_token": token,
        "file_kind": [kind for kind, _ in files],
    }
    return client.post(
        f"{base}/filings/new", data=body, files=multipart or None, follow_redirects=False
    )


def filing_id_of(response: Response) -> int:
    assert response.status_code == 303, response.text
    found = re.search(r"/filings/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


@pytest.fixture
def retiree(make_web_user: MakeWebUser) -> WebUser:
    """王退休, the world's Beijing retiree."""
    return make_web_user("insured", "wang")


def resettlement(world: World, **extra: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "destination": "460200",
        "category": "resettled_retiree",
        "hospital_ids": [str(world.hospital.id)],
        "phone": "13800138000",
        "address": "三亚市吉阳区示范路 1 号",
        "action": "draft",
        **extra,
    }


def test_the_person_sees_only_the_categories_that_fit(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World
) -> None:
    sign_in(retiree.login)
    assert "您还没有异地就医备案" in text_of(client.get("/me/filings").text)
    page = client.get("/me/filings/new", params={"destination": "460200"})
    assert page.status_code == 200
    words = text_of(page.text)
    assert "北京市" in words and "职工医保" in words  # insured place and scheme, shown
    fitting = re.findall(r'name="category" value="([a-z_]+)"', page.text)
    assert "resettled_retiree" in fitting and "long_term_resident" in fitting
    assert "posted_worker" not in fitting  # a retiree is not posted by a unit
    assert "不符合条件的备案类别" in words
    chosen = client.get(
        "/me/filings/new", params={"destination": "460200", "category": "resettled_retiree"}
    )
    assert world.hospital.name in chosen.text and 'name="hospital_ids"' in chosen.text
    assert "个人承诺书" in text_of(chosen.text)


def test_a_draft_with_a_commitment_is_saved_then_withdrawn(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World, session: Session
) -> None:
    sign_in(retiree.login)
    before = counts(session)
    saved = apply(
        client,
        "/me",
        resettlement(world, commitment="yes", signer=world.retiree.name),
        [("identity_copy", "id.pdf"), ("retirement_certificate", "retired.pdf")],
    )
    filing_id = filing_id_of(saved)
    after = counts(session)
    assert after == (before[0] + 1, before[1] + 4)  # form, commitment and the two uploads
    filing = session.get(Filing, filing_id)
    assert filing is not None and filing.state == "draft"
    assert filing.person_id == world.retiree.id and filing.submitted_via == "person"
    # the contact details are kept on the filing, not only in the stored form
    assert filing.contact_phone == "13800138000"
    assert filing.contact_address == "三亚市吉阳区示范路 1 号"

    detail = client.get(f"/me/filings/{filing_id}")
    words = text_of(detail.text)
    assert detail.status_code == 200
    assert "草稿" in words and "个人承诺书" in words and "所需材料已齐全" in words
    assert "13800138000" in words and "三亚市吉阳区示范路 1 号" in words
    assert "尚未盖章" in words  # seed 000: the chosen hospital stamps the form
    assert world.retiree.identity_number not in detail.text
    assert "/print/filings/" not in detail.text  # no certificate before the approval
    doc = session.scalars(select(Document).where(Document.filing_id == filing_id)).first()
    assert doc is not None
    download = client.get(f"/me/filings/{filing_id}/documents/{doc.id}")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")

    # it cannot be submitted before the hospital stamps it: the service says so
    refused = post_form(client, f"/me/filings/{filing_id}", f"/me/filings/{filing_id}/submit")
    assert refused.status_code == 422
    assert "filing.hospital_stamps_missing" in refused.text

    withdrawn = post_form(client, f"/me/filings/{filing_id}", f"/me/filings/{filing_id}/withdraw")
    assert withdrawn.status_code == 303
    session.expire_all()
    assert session.get(Filing, filing_id).state == "withdrawn"  # type: ignore[union-attr]
    assert "已撤回" in text_of(client.get(f"/me/filings/{filing_id}").text)
    assert f"/me/filings/{filing_id}" in client.get("/me/filings").text


def test_no_category_and_a_wrong_hospital_are_refused_writing_nothing(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World, session: Session
) -> None:
    sign_in(retiree.login)
    before = counts(session)
    no_category = apply(
        client, "/me", resettlement(world, category=""), [("identity_copy", "id.pdf")]
    )
    assert no_category.status_code == 422
    assert "请选择备案类别" in text_of(no_category.text)
    assert counts(session) == before

    pharmacy = apply(
        client,
        "/me",
        resettlement(world, hospital_ids=[str(world.pharmacy.id)]),
        [("identity_copy", "id.pdf")],
    )
    assert pharmacy.status_code == 422
    assert "filing.hospital_choice_invalid" in pharmacy.text
    assert counts(session) == before

    bad_phone = apply(client, "/me", resettlement(world, phone="call me"))
    assert bad_phone.status_code == 422 and "filing.contact_invalid" in bad_phone.text
    assert counts(session) == before

    not_a_number = apply(client, "/me", resettlement(world, hospital_ids=["x"]))
    assert not_a_number.status_code == 422
    assert "请从列表中选择定点医院" in text_of(not_a_number.text)
    assert counts(session) == before


def test_the_hospital_choice_is_checked_as_the_person_picks(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World, session: Session
) -> None:
    sign_in(retiree.login)
    before = counts(session)
    query = {"category": "resettled_retiree", "destination": "460200"}
    wrong = client.get(
        "/me/filings/hospital-check",
        params={**query, "hospital_ids": [str(world.pharmacy.id), str(world.hospital.id)]},
        headers={"HX-Request": "true"},
    )
    assert wrong.status_code == 200
    assert "不符合规定" in text_of(wrong.text) and f"{world.pharmacy.name} 不是医院" in wrong.text
    assert "<html" not in wrong.text  # a fragment for htmx
    right = client.get(
        "/me/filings/hospital-check",
        params={**query, "hospital_ids": [str(world.hospital.id)]},
        headers={"HX-Request": "true"},
    )
    assert "所选定点医院符合规定" in text_of(right.text)
    # without JavaScript: the form's "check" button answers the same, writing nothing
    checked = apply(
        client, "/me", resettlement(world, action="check", hospital_ids=[str(world.pharmacy.id)])
    )
    assert checked.status_code == 200 and "不符合规定" in text_of(checked.text)
    assert counts(session) == before


def test_another_persons_filing_is_not_found(
    client: TestClient,
    sign_in: SignIn,
    retiree: WebUser,
    world: World,
    make_user: MakeUser,
) -> None:
    desk = make_user("street_office")
    made = client.post(
        f"{API}/filings",
        json={
            "person_id": world.worker.id,
            "category": "other_temporary",
            "destination": "460200",
        },
        headers=desk.headers,
    )
    assert made.status_code == 201, made.text
    other = made.json()["id"]
    sign_in(retiree.login)
    assert client.get(f"/me/filings/{other}").status_code == 404
    token = csrf_of(client.get("/me/filings/new").text)
    refused = client.post(
        f"/me/filings/{other}/withdraw", data={"csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 404
    assert f"/me/filings/{other}" not in client.get("/me/filings").text
    assert client.get("/office/filings").status_code == 403  # not a front desk


def test_a_post_without_the_form_token_is_refused(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World, session: Session
) -> None:
    sign_in(retiree.login)
    before = counts(session)
    body = {k: v for k, v in resettlement(world).items()}
    refused = client.post("/me/filings/new", data=body, follow_redirects=False)
    assert refused.status_code == 403
    assert counts(session) == before


def test_the_street_office_files_for_a_person_and_sees_it_approved(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
) -> None:
    desk = make_web_user("street_office", "desk")
    sign_in(desk.login)
    assert client.get("/office/filings").status_code == 200
    assert client.get("/me/filings").status_code == 403
    found = post_form(
        client,
        "/office/filings/new",
        "/office/filings/find",
        {"identity_number": world.worker.identity_number},
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/office/filings/new?person_id={world.worker.id}"
    form = client.get(found.headers["location"])
    assert world.worker.name in form.text
    assert world.worker.identity_number not in form.text  # masked for a front desk
    assert 'value="posted_worker"' in form.text  # the worker is posted by a unit
    wrong = post_form(
        client, "/office/filings/new", "/office/filings/find", {"identity_number": "12345"}
    )
    assert wrong.status_code == 422 and "identity.malformed" in wrong.text

    form_page = f"/office/filings/new?person_id={world.worker.id}"
    submitted = apply(
        client,
        "/office",
        {
            "person_id": str(world.worker.id),
            "destination": "460200",
            "category": "posted_worker",
            "hospital_ids": [str(world.hospital.id)],
            "phone": "13900139000",
            "address": "三亚市天涯区示范路 8 号",
            "action": "submit",
        },
        [("identity_copy", "id.pdf"), ("employment_proof", "posting.pdf")],
        form_page=form_page,
    )
    filing_id = filing_id_of(submitted)
    assert "not_submitted" not in submitted.headers["location"]
    filing = session.get(Filing, filing_id)
    assert filing is not None and filing.state == "submitted"
    assert filing.submitted_via == "street_office"
    assert f"/office/filings/{filing_id}" in client.get("/office/filings").text

    reviewer = make_user("agency")
    approved = client.post(f"{API}/filings/{filing_id}/approve", headers=reviewer.headers)
    assert approved.status_code == 200, approved.text
    detail = client.get(f"/office/filings/{filing_id}")
    words = text_of(detail.text)
    assert "已备案" in words and "BA110000-" in words
    assert f"/print/filings/{filing_id}/certificate" in detail.text
    assert f"/print/filings/{filing_id}/certificate.pdf" in detail.text

    # cancelling shows the day the card works at home again
    cancelled = post_form(
        client, f"/office/filings/{filing_id}", f"/office/filings/{filing_id}/cancel"
    )
    assert cancelled.status_code == 303
    after = text_of(client.get(f"/office/filings/{filing_id}").text)
    assert "已注销" in after and "起恢复在参保地使用医保卡" in after


def test_an_office_may_not_file_for_someone_it_does_not_serve(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World, session: Session
) -> None:
    desk = make_web_user("street_office", "desk")
    sign_in(desk.login)
    before = counts(session)
    refused = post_form(
        client,
        "/office/filings/new",
        "/office/filings/find",
        {"identity_number": world.baoding_person.identity_number},
    )
    assert refused.status_code == 404  # the registry does not show the office this person
    assert client.get(
        "/office/filings/new", params={"person_id": world.baoding_person.id}
    ).status_code in (403, 404)
    posted = apply(
        client,
        "/office",
        {
            "person_id": str(world.baoding_person.id),
            "destination": "460200",
            "category": "other_temporary",
            "phone": "13900139000",
            "address": "三亚",
        },
    )
    assert posted.status_code in (403, 404)
    assert counts(session) == before


def test_the_institutions_of_a_region_are_searched(
    client: TestClient, sign_in: SignIn, retiree: WebUser, world: World
) -> None:
    sign_in(retiree.login)
    page = client.get("/institutions", params={"region": "460200"})
    assert page.status_code == 200
    words = text_of(page.text)
    assert world.hospital.name in words and world.pharmacy.name in words
    assert world.other_hospital.name not in words  # Baoding
    assert "可直接结算" in words
    hospitals = client.get(
        "/institutions",
        params={"region": "460200", "kind": "hospital", "level": "3"},
        headers={"HX-Request": "true"},
    )
    assert world.hospital.name in hospitals.text and world.pharmacy.name not in hospitals.text
    assert "<html" not in hospitals.text
    by_name = client.get("/institutions", params={"region": "", "name": "保定"})
    assert world.other_hospital.name in by_name.text and world.hospital.name not in by_name.text
    assert client.get("/institutions", params={"level": "9"}).status_code == 400
    english = client.get("/institutions", params={"region": "460200", "lang": "en"})
    assert "Designated institutions" in english.text


def test_a_unit_files_for_its_own_staff_only(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World, session: Session
) -> None:
    clerk = make_web_user("unit", "hr", unit_id=world.unit.id)
    sign_in(clerk.login)
    data: dict[str, str | list[str]] = {
        "destination": "460200",
        "category": "other_temporary",
        "phone": "010-12345678",
        "address": "三亚市天涯区示范路 8 号",
        "action": "draft",
    }
    mine = apply(
        client,
        "/office",
        {**data, "person_id": str(world.worker.id)},
        [("identity_copy", "id.pdf")],
        form_page=f"/office/filings/new?person_id={world.worker.id}",
    )
    filing_id = filing_id_of(mine)
    filing = session.get(Filing, filing_id)
    assert filing is not None and filing.submitted_via == "unit"
    assert world.worker.name in client.get("/office/filings").text
    before = counts(session)
    other = apply(client, "/office", {**data, "person_id": str(world.spouse.id)})
    assert other.status_code == 403  # another unit's employee
    assert counts(session) == before
