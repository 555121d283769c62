"""Printed documents (打印文书) as pages and PDFs, and their public check (/verify/<code>).

The PDFs are checked as a person would see them: rendered to an image (pdftoppm), their
text extracted (pdftotext: the Chinese title and the person's name), and their fonts
listed (pdffonts: the Noto CJK font is embedded).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.integration.test_settle_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser
from tests.web.test_pages import text_of
from yibao.clearing import service as clearing
from yibao.documents.service import Upload
from yibao.filings import service as filings
from yibao.filings.models import Filing
from yibao.filings.service import FilingRequest
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.schemas import InvoiceIn, LineIn, PayoutIn, ReimbursementCreate
from yibao.web import pdf as pdf_module

API = "/api/v1"
PDF = b"%PDF-1.4\n% test\n"
DAY = date(2026, 3, 1)
CODE_IN_PAGE = re.compile(r'href="/verify/([A-Z2-7]{20})"')
POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdffonts"))


@pytest.fixture
def poppler() -> None:
    """The PDF checks need poppler-utils; ``make test`` installs it (never skipped)."""
    if not POPPLER:
        pytest.fail(
            "poppler-utils (pdftoppm, pdftotext, pdffonts) is missing: run make system-deps"
        )


needs_poppler = pytest.mark.usefixtures("poppler")


# --- fixtures ---------------------------------------------------------------------------------


def approved_filing(session: Session, world: World, make_user: MakeUser, tmp: Path) -> Filing:
    """王退休's long-term filing for Hainan, choosing the Sanya hospital, approved."""
    office = make_user("street_office").user
    agency = make_user("agency").user
    filing = filings.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.retiree.id,
            category="long_term_resident",
            destination="460000",
            hospital_ids=[world.hospital.id],
        ),
        today=DAY,
    )
    for kind in ("identity_copy", "commitment_letter"):
        upload = Upload(kind, f"{kind}.pdf", "application/pdf", PDF, upload_dir=tmp, max_bytes=1000)
        filings.upload_document(session, actor=office, filing_id=filing.id, upload=upload)
    filings.submit_filing(session, actor=office, filing_id=filing.id, today=DAY)
    approved = filings.approve_filing(session, actor=agency, filing_id=filing.id, today=DAY)
    session.commit()
    return approved


@pytest.fixture
def filing(session: Session, world: World, make_user: MakeUser, tmp_path: Path) -> Filing:
    return approved_filing(session, world, make_user, tmp_path)


@pytest.fixture
def wang(make_web_user: MakeWebUser) -> WebUser:
    return make_web_user("insured", "wang")


def settle_by_api(client: TestClient, hospital: AuthUser, card: str) -> int:
    """An outpatient visit at the Sanya hospital, billed and settled through the API."""
    made = client.post(
        f"{API}/encounters",
        json={"card_number": card, "setting": "outpatient"},
        headers=hospital.headers,
    )
    assert made.status_code == 201, made.text
    encounter = made.json()["id"]
    fees = client.post(
        f"{API}/encounters/{encounter}/fees",
        json={"lines": [{"line_id": "L1", "code": "X001", "quantity": "2", "unit_price": "100"}]},
        headers=hospital.headers,
    )
    assert fees.status_code in (200, 201), fees.text
    settled = client.post(
        f"{API}/encounters/{encounter}/settle",
        json={},
        headers={**hospital.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert settled.status_code in (200, 201), settled.text
    body: dict[str, Any] = settled.json()
    settlement_id = body.get("settlement_id") or body.get("id")
    assert isinstance(settlement_id, int), body
    return settlement_id


def code_on(html: str) -> str:
    found = CODE_IN_PAGE.search(html)
    assert found, "no verification link on the printout"
    return found.group(1)


def pdf_text(tmp: Path, content: bytes, name: str) -> tuple[str, str]:
    """(text, fonts) of a PDF, after rendering its first page to an image."""
    path = tmp / f"{name}.pdf"
    path.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp / name)],
        check=True,
        timeout=60,
    )
    images = list(tmp.glob(f"{name}*.png"))
    assert images and images[0].stat().st_size > 2000, "the page rendered to nothing"
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return text, fonts


def assert_cjk_font_embedded(fonts: str) -> None:
    """The named Noto Sans CJK SC font is in the PDF, and every font is embedded."""
    rows = fonts.splitlines()[2:]
    assert any("NotoSansCJKSC" in line.replace("-", "") for line in rows), fonts
    # pdffonts columns: name, type, encoding, emb, sub, uni, object ID
    assert rows and all(line.split()[-5] == "yes" for line in rows), fonts


# --- the filing certificate -------------------------------------------------------------------


@needs_poppler
def test_the_certificate_as_page_and_pdf_then_checked_and_cancelled(
    client: TestClient,
    sign_in: SignIn,
    wang: WebUser,
    filing: Filing,
    world: World,
    make_user: MakeUser,
    session: Session,
    tmp_path: Path,
) -> None:
    sign_in(wang.login)
    page = client.get(f"/print/filings/{filing.id}/certificate")
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "异地就医备案凭证" in words and "王退休" in words
    assert filing.number and filing.number in words
    assert "北京市医保中心" in words  # the issuing agency
    assert world.retiree.identity_number not in page.text
    assert "三亚市人民医院" in words
    assert 'src="data:image/svg+xml' in page.text  # the QR code, inline
    code = code_on(page.text)
    assert client.get(f"/print/filings/{filing.id}/certificate").text.count(code) >= 1  # reprint

    printed = client.get(f"/print/filings/{filing.id}/certificate.pdf")
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    text, fonts = pdf_text(tmp_path, printed.content, "certificate")
    assert "备案凭证" in text and "王退休" in text and filing.number in text
    assert code[:4] in text  # the code is printed
    assert_cjk_font_embedded(fonts)
    english = client.get(f"/print/filings/{filing.id}/certificate.pdf?lang=en")
    text, _ = pdf_text(tmp_path, english.content, "certificate-en")
    assert "filing certificate" in text and "王退休" in text  # names stay as the data says

    client.cookies.clear()  # anyone: no sign-in
    checked = client.get(f"/verify/{code}")
    assert checked.status_code == 200
    words = text_of(checked.text)
    assert "真实有效" in words and "王*休" in words and filing.number in words
    assert "王退休" not in words and world.retiree.identity_number not in checked.text

    filings.cancel_filing(
        session,
        actor=make_user("street_office").user,
        filing_id=filing.id,
        reason="回原籍",
        today=date(2026, 5, 10),
    )
    session.commit()
    after = text_of(client.get(f"/verify/{code}").text)
    assert "不再有效" in after and "2026年5月11日" in after and "2026年5月10日" in after


def test_only_who_may_see_the_filing_prints_its_certificate(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    filing: Filing,
    world: World,
) -> None:
    make_web_user("insured", "li", person_id=world.worker.id)
    sign_in("li")
    assert client.get(f"/print/filings/{filing.id}/certificate").status_code == 404
    assert client.get(f"/print/filings/{filing.id}/certificate.pdf").status_code == 404
    make_web_user("hospital", "baoding", institution_id=world.other_hospital.id)
    sign_in("baoding")
    assert client.get(f"/print/filings/{filing.id}/certificate").status_code == 404
    make_web_user("hospital", "sanya", institution_id=world.hospital.id)  # named in it
    sign_in("sanya")
    assert client.get(f"/print/filings/{filing.id}/certificate").status_code == 200
    client.cookies.clear()
    anonymous = client.get(f"/print/filings/{filing.id}/certificate", follow_redirects=False)
    assert anonymous.status_code in (303, 401) and "/login" in anonymous.headers.get(
        "location", "/login"
    )


def test_a_draft_filing_has_no_certificate(
    client: TestClient,
    sign_in: SignIn,
    wang: WebUser,
    world: World,
    make_user: MakeUser,
    session: Session,
) -> None:
    draft = filings.create_filing(
        session,
        actor=make_user("street_office").user,
        request=FilingRequest(
            person_id=world.retiree.id,
            category="long_term_resident",
            destination="460000",
            hospital_ids=[world.hospital.id],
        ),
        today=DAY,
    )
    session.commit()
    sign_in(wang.login)
    answer = client.get(f"/print/filings/{draft.id}/certificate")
    assert answer.status_code == 409
    assert "filing.not_approved" in answer.text


# --- the settlement slip ------------------------------------------------------------------------


@needs_poppler
def test_the_slip_pdf_for_the_hospital_and_the_person_then_reversed(
    client: TestClient,
    sign_in: SignIn,
    wang: WebUser,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
    tmp_path: Path,
) -> None:
    load_rules(session)
    session.commit()
    hospital = make_user("hospital")
    settlement_id = settle_by_api(client, hospital, world.retiree.card_number or "")
    make_web_user("hospital", "clerk")
    sign_in("clerk")
    slip = client.get(f"/window/settlements/{settlement_id}/slip")
    assert f'href="/print/settlements/{settlement_id}/slip.pdf"' in slip.text
    printed = client.get(f"/print/settlements/{settlement_id}/slip.pdf")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    text, fonts = pdf_text(tmp_path, printed.content, "slip")
    assert "结算单" in text and "王退休" in text and "三亚市人民医院" in text
    assert_cjk_font_embedded(fonts)

    sign_in(wang.login)  # the person prints their own slip
    page = client.get(f"/print/settlements/{settlement_id}/slip")
    assert page.status_code == 200
    code = code_on(page.text)
    make_web_user("hospital", "baoding", institution_id=world.other_hospital.id)
    sign_in("baoding")
    assert client.get(f"/print/settlements/{settlement_id}/slip.pdf").status_code == 404

    client.cookies.clear()
    assert "真实有效" in text_of(client.get(f"/verify/{code}").text)
    reversed_ = client.post(
        f"{API}/settlements/{settlement_id}/reverse",
        json={"reason": "录入错误"},
        headers={**hospital.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert reversed_.status_code in (200, 201), reversed_.text
    words = text_of(client.get(f"/verify/{code}").text)
    assert "不再有效" in words and "冲正" in words


# --- the decision letter ------------------------------------------------------------------------


def submitted_claim(session: Session, world: World, make_user: MakeUser, tmp: Path) -> int:
    """王退休's outpatient claim, handed in by the street office with every document."""
    office = make_user("street_office").user
    claim = reimbursements.submit_claim(
        session,
        actor=office,
        data=ReimbursementCreate(
            person_id=world.retiree.id,
            case_type="offsite_no_direct",
            setting="outpatient",
            institution_id=world.hospital.id,
            treatment_date=date(2026, 2, 10),
            total=Decimal("200.00"),
            diagnoses=["J20.9"],
            invoices=[InvoiceIn(number="46020026000999", amount=Decimal("200.00"))],
            lines=[LineIn(code="X001", quantity=Decimal("2"), unit_price=Decimal("100"))],
            payout=PayoutIn(method="bank_account", account_number="6222020200001234"),
        ),
        now=datetime(2026, 2, 20, 2, 0, tzinfo=UTC),
    )
    for kind in claim.required_documents:
        upload = Upload(kind, f"{kind}.pdf", "application/pdf", PDF, upload_dir=tmp, max_bytes=1000)
        reimbursements.upload_document(session, actor=office, claim_id=claim.id, upload=upload)
    session.commit()
    return claim.id


@needs_poppler
def test_the_decision_letter_of_a_rejected_claim_and_the_notice_of_a_returned_one(
    client: TestClient,
    sign_in: SignIn,
    wang: WebUser,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
    tmp_path: Path,
) -> None:
    load_rules(session)
    reviewer = make_user("agency").user
    rejected = submitted_claim(session, world, make_user, tmp_path)
    reimbursements.start_review(session, actor=reviewer, claim_id=rejected)
    reimbursements.reject_claim(
        session, actor=reviewer, claim_id=rejected, reason="发票与费用清单不一致"
    )
    returned = submitted_claim(session, world, make_user, tmp_path)
    reimbursements.return_claim(
        session, actor=reviewer, claim_id=returned, missing=["diagnosis_certificate"]
    )
    pending = submitted_claim(session, world, make_user, tmp_path)
    session.commit()

    sign_in(wang.login)
    letter = client.get(f"/print/claims/{rejected}/decision")
    assert letter.status_code == 200, letter.text
    words = text_of(letter.text)
    assert "零星报销审核决定书" in words and "发票与费用清单不一致" in words
    assert "北京市医保中心" in words
    printed = client.get(f"/print/claims/{rejected}/decision.pdf")
    text, fonts = pdf_text(tmp_path, printed.content, "decision")
    assert "决定书" in text and "王退休" in text
    assert_cjk_font_embedded(fonts)

    notice = text_of(client.get(f"/print/claims/{returned}/decision").text)
    assert "补正材料通知书" in notice and "诊断证明" in notice
    assert client.get(f"/print/claims/{pending}/decision").status_code == 409

    make_web_user("insured", "li", person_id=world.worker.id)
    sign_in("li")
    assert client.get(f"/print/claims/{rejected}/decision").status_code == 404


# --- the clearing statement --------------------------------------------------------------------


def test_the_clearing_statement_for_its_two_parties_only(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
) -> None:
    load_rules(session)
    session.commit()
    settle_by_api(client, make_user("hospital"), world.retiree.card_number or "")
    center = make_user("agency").user
    month = datetime.now(UTC).strftime("%Y-%m")
    rows = clearing.build_month(session, actor=center, month=month)
    session.commit()
    statement = next(r for r in rows if r.treatment_region == "460200")

    make_web_user("agency", "bj_center")
    sign_in("bj_center")
    page = client.get(f"/print/clearing/{statement.id}")
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "异地就医费用清算单" in words and "北京市" in words and "三亚市" in words
    assert "三亚市医保局" in words  # issued by the creditor's agency
    code = code_on(page.text)
    printed = client.get(f"/print/clearing/{statement.id}.pdf")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")

    make_web_user("agency", "bd_center", agency_id=world.baoding_center.id)
    sign_in("bd_center")
    assert client.get(f"/print/clearing/{statement.id}").status_code == 404
    assert client.get(f"/print/clearing/{statement.id}.pdf").status_code == 404

    client.cookies.clear()
    assert "真实有效" in text_of(client.get(f"/verify/{code}").text)


# --- the public check ---------------------------------------------------------------------------


def test_an_unknown_code_is_not_genuine(client: TestClient) -> None:
    unknown = client.get("/verify/ABCDEFGHIJKLMNOPQRST")
    assert unknown.status_code == 404
    assert "不是真实" in text_of(unknown.text) or "非真实" in text_of(unknown.text)
    junk = client.get("/verify/not-a-code")
    assert junk.status_code == 404
    english = client.get("/verify/ABCDEFGHIJKLMNOPQRST?lang=en")
    assert "Not a genuine document" in english.text


def test_the_form_takes_a_code_as_printed(client: TestClient) -> None:
    form = client.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.text and "<label" in form.text
    typed = client.get(
        "/verify", params={"code": "abcd-efgh ijkl-mnop-qrst"}, follow_redirects=False
    )
    assert typed.status_code == 303
    assert typed.headers["location"] == "/verify/ABCDEFGHIJKLMNOPQRST"
    bad = client.get("/verify", params={"code": "12345"})
    assert bad.status_code == 422 and "20" in text_of(bad.text)
    empty = client.get("/verify", params={"code": " "})
    assert empty.status_code == 422


def test_a_missing_font_package_is_named(tmp_path: Path) -> None:
    with pytest.raises(pdf_module.PrintingUnavailable, match="fonts-noto-cjk"):
        pdf_module.require_fonts((tmp_path / "NotoSansCJK-Regular.ttc",))
    assert pdf_module.require_fonts() == pdf_module.FONT_FILES  # installed by make system-deps
