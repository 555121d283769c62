"""The polish round's fixes (part A) as a person sees them in a real browser: the window's
printed slip carries its document number, issuer and verification code; a filing waiting
for a hospital's stamp says so and offers no submission until the stamp is there; the
insured person's settlement links its slip; a certificate's check lists its hospitals. A
screenshot of every page, axe-core on each, one visit in English."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx

from tests.browser.conftest import Site, Watched
from tests.browser.test_filing_pages import _make_person
from tests.browser.test_insured_pages import sign_in
from yibao.demo.loader import MINIMAL_PDF


def _api(site: Site, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{site.base}/api/v1",
        headers={"Authorization": f"Bearer {site.demo.tokens[key]}"},
    )


def test_the_window_slip_is_the_printed_slip(watched: Watched) -> None:
    sign_in(watched, "hospital")
    page = watched.visit("/window/settlements?on=", label="settlements-every-day")
    assert watched.accessibility_problems() == []
    link = page.locator('a[href^="/window/settlements/"]').first
    settlement = (link.get_attribute("href") or "").rsplit("/", 1)[1]
    assert settlement.isdigit(), settlement

    page = watched.visit(f"/window/settlements/{settlement}/slip", label="slip")
    text = page.inner_text("main")
    assert "三亚示范中心医院" in page.locator(".doc-issuer").inner_text()
    number = page.locator(".doc-number").inner_text()
    assert re.fullmatch(r"JS460200-\d{8}", number), number
    assert f"编号 {settlement}" not in text
    code = page.locator(".doc-code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4}-){4}[A-Z2-7]{4}", code), code
    assert page.locator("img.doc-qr").count() == 1
    assert page.get_by_role("button", name="打印结算单").is_visible()
    pdf = page.get_by_role("link", name="下载 PDF")
    assert pdf.get_attribute("href") == f"/print/settlements/{settlement}/slip.pdf"
    assert watched.accessibility_problems() == []
    page.emulate_media(media="print")
    watched.shot("slip-print")
    assert not page.locator(".site-header").is_visible()
    assert page.locator(".doc-code").is_visible()  # the code is on the paper
    page.emulate_media(media="screen")

    page.get_by_role("link", name="核验本文书").click()
    page.wait_for_url("**/verify/*")
    page.wait_for_load_state("networkidle")
    watched.shot("slip-checked")
    body = page.inner_text("main")
    assert number in body and "结算单" in body
    assert watched.accessibility_problems() == []

    page = watched.visit("/window/settlements", label="settlements-today")
    heading = page.locator("#list-title").inner_text()
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", heading), heading
    assert not re.search(r"\d{4}-\d{2}-\d{2}", heading), heading


def test_a_filing_waits_for_the_stamp_before_it_can_be_submitted(watched: Watched) -> None:
    site = watched.site
    _make_person(site, name="钱盖章", born=date(1956, 6, 6), sequence=815, person_type="retired")
    with _api(site, "street_office") as office:
        person = office.get("/persons", params={"name": "钱盖章"})
        assert person.status_code == 200 and len(person.json()) == 1, person.text
        person_id = person.json()[0]["id"]
        hospital_id = next(
            h["id"]
            for h in office.get("/institutions", params={"region": "460200"}).json()
            if h["code"] == "H460200001"
        )
        made = office.post(
            "/filings",
            json={
                "person_id": person_id,
                "category": "resettled_retiree",
                "destination": "460200",
                "hospital_ids": [hospital_id],
            },
        )
        assert made.status_code == 201, made.text
        filing_id = made.json()["id"]
        for kind in ("identity_copy", "residence_proof", "retirement_certificate"):
            uploaded = office.post(
                f"/filings/{filing_id}/documents",
                data={"doc_type": kind},
                files={"file": (f"{kind}.pdf", MINIMAL_PDF, "application/pdf")},
            )
            assert uploaded.status_code == 201, uploaded.text

    sign_in(watched, "street_office")
    page = watched.visit(f"/office/filings/{filing_id}", label="filing-waiting-for-the-stamp")
    body = page.inner_text("main")
    assert "所需材料已齐全" in body and "尚缺医院盖章" in body
    assert "三亚示范中心医院医保办在申请表上盖章" in body
    assert page.get_by_role("button", name="提交审核").count() == 0
    assert watched.accessibility_problems() == []
    page = watched.visit(f"/office/filings/{filing_id}?lang=en", label="filing-waiting-en")
    assert "once it holds" in page.inner_text("main")
    assert watched.accessibility_problems() == []
    watched.visit(f"/office/filings/{filing_id}?lang=zh", label="back-to-chinese")

    with _api(site, "hospital") as hospital:
        stamped = hospital.post(f"/filings/{filing_id}/hospital-stamp")
        assert stamped.status_code == 200, stamped.text
    page = watched.visit(f"/office/filings/{filing_id}", label="filing-stamped")
    assert "方可提交审核" not in page.inner_text("main")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state("networkidle")
    watched.shot("filing-submitted")
    assert "已提交" in page.inner_text("main")
    assert watched.accessibility_problems() == []


def test_the_person_finds_the_slip_and_the_certificate_names_its_hospitals(
    watched: Watched, settled: dict[str, Any]
) -> None:
    sign_in(watched, "insured")
    path = f"/me/settlements/{settled['id']}"
    page = watched.visit("/me/settlements", label="my-settlements")
    assert page.locator(f'a[href="{path}"]').count() == 1
    page = watched.visit(path, label="my-settlement")
    assert "结算记录" in page.locator("h1").inner_text()
    assert watched.accessibility_problems() == []
    slip = page.get_by_role("link", name="结算单", exact=True)
    assert slip.get_attribute("href") == f"/print/settlements/{path.rsplit('/', 1)[1]}/slip"
    assert page.get_by_role("link", name="结算单（PDF）").count() == 1
    slip.click()
    page.wait_for_url("**/slip")
    page.wait_for_load_state("networkidle")
    watched.shot("my-slip")
    assert page.locator(".doc-code").count() == 1
    assert watched.accessibility_problems() == []

    filing_id = watched.site.demo.filings["resettled_retiree"]
    page = watched.visit(f"/print/filings/{filing_id}/certificate", label="certificate")
    page.get_by_role("link", name="核验本文书").click()
    page.wait_for_url("**/verify/*")
    page.wait_for_load_state("networkidle")
    watched.shot("certificate-checked")
    body = page.inner_text("main")
    assert "备案定点医疗机构" in body and "三亚示范中心医院" in body
    assert watched.accessibility_problems() == []
