"""Manual reimbursement claims on the pages (零星报销): the person submits, uploads and
resubmits; the centre of the insured region reviews, returns, approves and pays — each
through the same services as ``/api/v1/reimbursements``, with the signed-in user as actor."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.integration.test_reimburse_kit import load_rules
from tests.web.conftest import PASSWORD, MakeWebUser, SignIn, WebUser, csrf_of, post_form
from tests.web.test_pages import text_of
from yibao.documents.models import Document
from yibao.reimbursements.models import ReimbursementClaim, ReimbursementLine

PDF = b"%PDF-1.4\n% a scanned document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EVERY_DOCUMENT_BUT_DIAGNOSIS = (
    "receipt",
    "expense_list",
    "prescription",
    "detailed_list",
    "hospital_grade_certificate",
    "inpatient_medical_record",
    "identity_copy",
)


@pytest.fixture
def person_user(session: Session, make_web_user: MakeWebUser) -> WebUser:
    """王退休 of Beijing, with the Beijing policy and the Sanya catalog loaded."""
    load_rules(session)
    session.commit()
    return make_web_user("insured", "wang")


@pytest.fixture
def reviewer(make_web_user: MakeWebUser, world: World) -> WebUser:
    return make_web_user("agency", "reviewer", agency_id=world.center.id)


def claim_form(world: World, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "case_type": "offsite_no_direct",
        "setting": "inpatient",
        "institution_id": str(world.hospital.id),
        "admitted_on": "2026-05-01",
        "treatment_date": "2026-05-10",
        "total": "2360.00",
        "diagnoses": "I21.0",
        "invoice_number": ["4602-0000-1111", ""],
        "invoice_amount": ["2360.00", ""],
        "line_code": ["X001", "X002", ""],
        "line_quantity": ["10", "1", ""],
        "line_unit_price": ["100.00", "1000.00", ""],
        "line_date": ["2026-05-02", "", ""],
        "payout_method": "passbook",
        "account_number": "6217000011112222",
    }
    form.update(overrides)
    return form


GOOD_CSV = "code,quantity,unit_price,service_date\nX003,1,200.00,2026-05-03\nM001,2,80,\n"


def submit_claim(
    client: TestClient, world: World, *, csv: str | bytes | None = GOOD_CSV, **overrides: Any
) -> Response:
    token = csrf_of(client.get("/me/claims/new").text)
    files = None
    if csv is not None:
        data = csv.encode() if isinstance(csv, str) else csv
        files = {"fee_file": ("lines.csv", data, "text/csv")}
    return client.post(
        "/me/claims/new",
        data={**claim_form(world, **overrides), "csrf_token": token},
        files=files,
        follow_redirects=False,
    )


def upload(client: TestClient, claim_id: int, doc_type: str, data: bytes = PDF) -> Response:
    token = csrf_of(client.get(f"/me/claims/{claim_id}").text)
    kind = "image/png" if data.startswith(b"\x89PNG") else "application/pdf"
    name = f"{doc_type}.png" if kind == "image/png" else f"{doc_type}.pdf"
    return client.post(
        f"/me/claims/{claim_id}/documents",
        data={"doc_type": doc_type, "csrf_token": token},
        files={"file": (name, data, kind)},
        follow_redirects=False,
    )


def second_client(app: Any, login: str) -> TestClient:
    other = TestClient(app)
    token = csrf_of(other.get("/login").text)
    signed = other.post(
        "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": token, "next": "/me"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return other


def claim_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ReimbursementClaim)) or 0


def test_a_claim_is_returned_for_the_diagnosis_certificate_completed_approved_and_paid(
    client: TestClient,
    app: Any,
    session: Session,
    sign_in: SignIn,
    person_user: WebUser,
    reviewer: WebUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    listing = client.get("/me/claims")
    assert listing.status_code == 200
    assert 'href="/me/claims/new"' in listing.text

    form = client.get("/me/claims/new")
    assert form.status_code == 200
    words = text_of(form.text)
    assert "疾病诊断证明" in words and "service_date" in words  # the documents, the CSV columns
    assert 'href="/me/claims/fee-lines-example.csv"' in form.text
    example = client.get("/me/claims/fee-lines-example.csv")
    assert example.status_code == 200
    assert example.text.startswith("code,quantity,unit_price,service_date")
    assert "attachment" in example.headers["content-disposition"]

    made = submit_claim(client, world)
    assert made.status_code == 303, text_of(made.text)
    page = made.headers["location"]
    claim_id = int(page.rsplit("/", 1)[1])
    session.expire_all()
    lines = session.scalars(
        select(ReimbursementLine).where(ReimbursementLine.claim_id == claim_id)
    ).all()
    assert [line.code for line in lines] == ["X001", "X002", "X003", "M001"]  # typed, then file

    shown = text_of(client.get(page).text)
    assert "已提交" in shown and "缺少" in shown and "疾病诊断证明" in shown
    for doc_type in EVERY_DOCUMENT_BUT_DIAGNOSIS:
        picture = PNG if doc_type == "receipt" else PDF
        assert upload(client, claim_id, doc_type, picture).status_code == 303

    desk = second_client(app, reviewer.login)
    queue = desk.get("/agency/claims")
    assert queue.status_code == 200
    assert f'href="/agency/claims/{claim_id}"' in queue.text
    assert world.retiree.name in text_of(queue.text)
    review = desk.get(f"/agency/claims/{claim_id}")
    assert review.status_code == 200
    docs = session.scalars(select(Document).where(Document.claim_id == claim_id)).all()
    receipt = next(d for d in docs if d.doc_type == "receipt")
    assert f'<img src="/agency/claims/{claim_id}/documents/{receipt.id}"' in review.text
    image = desk.get(f"/agency/claims/{claim_id}/documents/{receipt.id}")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline")
    assert image.headers["x-frame-options"] == "SAMEORIGIN"  # the review page frames PDFs
    assert image.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.content == PNG
    assert world.retiree.identity_number not in review.text  # masked

    returned = post_form(
        desk,
        f"/agency/claims/{claim_id}",
        f"/agency/claims/{claim_id}/return",
        {"missing": ["diagnosis_certificate"], "note": "请补交疾病诊断证明"},
    )
    assert returned.status_code == 303, text_of(returned.text)

    mine = text_of(client.get(page).text)
    assert "退回补正" in mine or "退回" in mine
    assert "疾病诊断证明" in mine and "请补交疾病诊断证明" in mine
    assert upload(client, claim_id, "diagnosis_certificate").status_code == 303
    assert post_form(client, page, f"{page}/resubmit").status_code == 303
    assert "已重新提交" in text_of(client.get(page).text)

    detail = f"/agency/claims/{claim_id}"
    assert post_form(desk, detail, f"{detail}/review").status_code == 303
    under = desk.get(detail)
    assert "审核中" in text_of(under.text)
    assert "起付线" in text_of(under.text)  # the engine's explanation of what it would pay
    approved = post_form(desk, detail, f"{detail}/approve")
    assert approved.status_code == 303, text_of(approved.text)
    paid = post_form(desk, detail, f"{detail}/pay", {"reference": "BANK-0001"})
    assert paid.status_code == 303, text_of(paid.text)

    session.expire_all()
    claim = session.get(ReimbursementClaim, claim_id)
    assert claim is not None and claim.state == "paid" and claim.payout_fen
    final = client.get(page)
    assert f'href="/print/claims/{claim_id}/decision"' in final.text
    assert f'href="/print/claims/{claim_id}/decision.pdf"' in final.text
    assert "已支付" in text_of(final.text) or "已付" in text_of(final.text)
    desk.close()


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("code,qty,price\nX001,1,2\n", "code,quantity,unit_price,service_date"),
        (
            "code,quantity,unit_price,service_date\nX001,1,2.00,\nX003,two,200.00,\n",
            "第 3 行",
        ),
        ("code,quantity,unit_price\nX001,1,abc\n", "unit_price"),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_a_bad_fee_lines_file_names_the_row_and_column_and_writes_nothing(
    client: TestClient,
    session: Session,
    sign_in: SignIn,
    person_user: WebUser,
    world: World,
    csv: str | bytes,
    expected: str,
) -> None:
    sign_in(person_user.login)
    refused = submit_claim(client, world, csv=csv)
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert expected in words, words
    assert claim_count(session) == 0
    assert 'value="4602-0000-1111"' in refused.text  # what was typed is kept


def test_the_non_numeric_quantity_names_the_line_and_its_column(
    client: TestClient, session: Session, sign_in: SignIn, person_user: WebUser, world: World
) -> None:
    sign_in(person_user.login)
    bad = "code,quantity,unit_price,service_date\nX001,1,2.00,\nX003,two,200.00,\n"
    words = text_of(submit_claim(client, world, csv=bad).text)
    assert "费用明细文件第 3 行" in words and "“quantity”" in words and "“two”" in words
    typed = submit_claim(client, world, csv=None, line_unit_price=["100.00", "x1", ""])
    assert typed.status_code == 422
    assert "第 2 条费用明细" in text_of(typed.text) and "“x1”" in text_of(typed.text)
    assert claim_count(session) == 0


def test_a_service_refusal_is_shown_on_the_form(
    client: TestClient, session: Session, sign_in: SignIn, person_user: WebUser, world: World
) -> None:
    sign_in(person_user.login)
    refused = submit_claim(client, world, diagnoses="heart")
    assert refused.status_code == 422
    assert "reimbursement.diagnosis_invalid" in refused.text
    assert claim_count(session) == 0


def test_another_persons_claim_and_document_do_not_exist(
    client: TestClient,
    app: Any,
    session: Session,
    sign_in: SignIn,
    person_user: WebUser,
    make_web_user: MakeWebUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    claim_id = int(submit_claim(client, world).headers["location"].rsplit("/", 1)[1])
    assert upload(client, claim_id, "receipt").status_code == 303
    doc = session.scalars(select(Document).where(Document.claim_id == claim_id)).one()

    make_web_user("insured", "li", person_id=world.worker.id)
    other = second_client(app, "li")
    assert other.get(f"/me/claims/{claim_id}").status_code == 404
    assert other.get(f"/me/claims/{claim_id}/documents/{doc.id}").status_code == 404
    assert f"/me/claims/{claim_id}" not in other.get("/me/claims").text
    refused = post_form(other, "/me/claims", f"/me/claims/{claim_id}/resubmit")
    assert refused.status_code == 404
    other.close()


def test_another_regions_agency_cannot_see_the_claim(
    client: TestClient,
    app: Any,
    sign_in: SignIn,
    person_user: WebUser,
    make_web_user: MakeWebUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    claim_id = int(submit_claim(client, world).headers["location"].rsplit("/", 1)[1])
    make_web_user("agency", "baoding", agency_id=world.baoding_center.id)
    baoding = second_client(app, "baoding")
    assert baoding.get(f"/agency/claims/{claim_id}").status_code == 404
    assert f"/agency/claims/{claim_id}" not in baoding.get("/agency/claims").text
    assert (
        post_form(baoding, "/agency/claims", f"/agency/claims/{claim_id}/review").status_code == 404
    )
    baoding.close()
    # and a person cannot open the review pages at all
    assert client.get(f"/agency/claims/{claim_id}").status_code == 403


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
    app: Any,
    session: Session,
    sign_in: SignIn,
    person_user: WebUser,
    reviewer: WebUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    form = claim_form(world)
    assert client.post("/me/claims/new", data=form, follow_redirects=False).status_code == 403
    assert claim_count(session) == 0
    claim_id = int(submit_claim(client, world).headers["location"].rsplit("/", 1)[1])
    desk = second_client(app, reviewer.login)
    refused = desk.post(
        f"/agency/claims/{claim_id}/return",
        data={"missing": ["diagnosis_certificate"]},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    session.expire_all()
    claim = session.get(ReimbursementClaim, claim_id)
    assert claim is not None and claim.state == "submitted"
    desk.close()


def test_the_queue_filters_by_case_and_finding_and_sorts_by_age(
    client: TestClient,
    app: Any,
    sign_in: SignIn,
    person_user: WebUser,
    reviewer: WebUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    first = int(submit_claim(client, world).headers["location"].rsplit("/", 1)[1])
    # a second claim whose stated total disagrees with its lines (a blocking finding)
    second = int(
        submit_claim(
            client,
            world,
            total="9999.00",
            invoice_number=["4602-0000-2222"],
            invoice_amount=["9999.00"],
        )
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    desk = second_client(app, reviewer.login)
    oldest = desk.get("/agency/claims").text
    assert oldest.index(f'/agency/claims/{first}"') < oldest.index(f'/agency/claims/{second}"')
    newest = desk.get("/agency/claims?sort=newest").text
    assert newest.index(f'/agency/claims/{second}"') < newest.index(f'/agency/claims/{first}"')
    flagged = desk.get("/agency/claims?finding=audit.total_mismatch").text
    assert f'/agency/claims/{second}"' in flagged and f'/agency/claims/{first}"' not in flagged
    outpatient = desk.get("/agency/claims?case=outpatient_paid_in_full").text
    assert f'/agency/claims/{first}"' not in outpatient
    partial = desk.get("/agency/claims", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<section class="panel" id="claim-queue"')
    desk.close()


def test_blocking_findings_need_an_override_by_a_second_reviewer(
    client: TestClient,
    app: Any,
    session: Session,
    sign_in: SignIn,
    person_user: WebUser,
    reviewer: WebUser,
    make_user: MakeUser,
    world: World,
) -> None:
    sign_in(person_user.login)
    claim_id = int(
        submit_claim(
            client,
            world,
            total="9999.00",
            invoice_amount=["9999.00", ""],
        )
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    for doc_type in (*EVERY_DOCUMENT_BUT_DIAGNOSIS, "diagnosis_certificate"):
        assert upload(client, claim_id, doc_type).status_code == 303
    desk = second_client(app, reviewer.login)
    detail = f"/agency/claims/{claim_id}"
    assert post_form(desk, detail, f"{detail}/review").status_code == 303
    page = desk.get(detail)
    assert "阻止审批" in text_of(page.text)  # the finding blocks the approval
    refused = post_form(desk, detail, f"{detail}/approve")
    assert refused.status_code == 409
    assert "reimbursement.blocking_findings" in refused.text

    asked = post_form(desk, detail, f"{detail}/override", {"reason": "发票金额含押金，已核实"})
    assert asked.status_code == 303
    pending = text_of(desk.get(asked.headers["location"]).text)
    assert "等待另一名审核人员复核" in pending
    still = post_form(desk, detail, f"{detail}/approve")
    assert still.status_code == 409

    second = make_user("agency", agency_id=world.center.id)
    approvals = client.get("/api/v1/approvals", headers=second.headers).json()
    approval_id = next(a["id"] for a in approvals if a["kind"] == "reimbursement.override_findings")
    decided = client.post(f"/api/v1/approvals/{approval_id}/approve", headers=second.headers)
    assert decided.status_code == 200, decided.text
    assert post_form(desk, detail, f"{detail}/approve").status_code == 303
    session.expire_all()
    claim = session.get(ReimbursementClaim, claim_id)
    assert claim is not None and claim.state == "approved"
    desk.close()
