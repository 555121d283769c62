"""The agency's pages in a real browser (经办机构).

Seed 000's journey: a street office files a resettlement (异地安置) for a retiree with three
chosen hospitals (through the REST API, as the office's own pages or system would), each
hospital's medical insurance office stamps the form, and the Beijing centre's reviewer finds
the filing in the queue and approves it in the browser. Then four eyes: a manual account
credit asked for by ``agency`` waits on the approvals page, where ``agency`` sees it may not
decide its own request, and ``agency_2`` approves it. Every page is photographed and checked
with axe-core; one visit is in English.

Each test makes its own person (a fresh identity number), so no other test's state matters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from tests.browser.conftest import PDF, Site, Watched, png
from tests.browser.test_insured_pages import sign_in
from yibao.identity import make_identity_number

API = "/api/v1"


def api(site: Site, key: str) -> httpx.Client:
    """A REST client acting as the demo user ``key``."""
    return httpx.Client(
        base_url=site.base + API,
        headers={"Authorization": f"Bearer {site.demo.tokens[key]}"},
        timeout=20,
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def enrol(site: Site, *, name: str, born: date, sequence: int) -> int:
    """A Beijing retiree enrolled by the street office (a person of this test only)."""
    with api(site, "street_office") as office:
        person = ok(
            office.post(
                "/persons",
                json={
                    "identity_number": make_identity_number("110105", born, sequence),
                    "name": name,
                    "scheme": "employee",
                    "person_type": "retired",
                    "insured_region": "110000",
                },
            ),
            201,
        )
    person_id: int = person["id"]
    return person_id


def resettlement_with_three_hospitals(site: Site, person_id: int) -> int:
    """Seed 000: the street office files, uploads, each chosen hospital stamps, submitted."""
    hospitals = site.demo.institutions
    chosen = [hospitals[code].id for code in ("H460200001", "H460200003", "H460200002")]
    with api(site, "admin") as admin:
        # the specialised hospital's medical insurance office has no demo login: make one
        stamper = ok(
            admin.post(
                "/users",
                json={
                    "name": "三亚示范中医院医保办",
                    "role": "hospital",
                    "institution_id": hospitals["H460200002"].id,
                },
            ),
            201,
        )
    with api(site, "street_office") as office:
        filing = ok(
            office.post(
                "/filings",
                json={
                    "person_id": person_id,
                    "category": "resettled_retiree",
                    "destination": "460200",
                    "hospital_ids": chosen,
                },
            ),
            201,
        )
        filing_id: int = filing["id"]
        for kind, name, content_type, data in (
            ("identity_copy", "identity.png", "image/png", png()),
            ("commitment_letter", "commitment.pdf", "application/pdf", PDF),
            ("retirement_certificate", "retirement.pdf", "application/pdf", PDF),
        ):
            ok(
                office.post(
                    f"/filings/{filing_id}/documents",
                    data={"doc_type": kind},
                    files={"file": (name, data, content_type)},
                ),
                201,
            )
        for key in ("hospital", "hospital_sy2"):
            with api(site, key) as hospital:
                ok(hospital.post(f"/filings/{filing_id}/hospital-stamp"))
        with httpx.Client(
            base_url=site.base + API,
            headers={"Authorization": f"Bearer {stamper['token']}"},
            timeout=20,
        ) as hospital:
            ok(hospital.post(f"/filings/{filing_id}/hospital-stamp"))
        ok(office.post(f"/filings/{filing_id}/submit"))
    return filing_id


def test_the_agency_approves_a_resettlement_filed_by_the_street_office(
    watched: Watched,
) -> None:
    site = watched.site
    person_id = enrol(site, name="孙桂兰", born=date(1957, 2, 14), sequence=57)
    filing_id = resettlement_with_three_hospitals(site, person_id)

    sign_in(watched, "agency")
    watched.shot("home")
    assert watched.accessibility_problems() == []

    page = watched.visit("/agency/filings", label="queue")
    assert "孙桂兰" in page.inner_text("#queue")
    assert watched.accessibility_problems() == []

    page.get_by_label("备案类型").select_option("resettled_retiree")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/agency/filings?*category=resettled_retiree*")
    page.wait_for_load_state("networkidle")
    watched.shot("queue-resettled")
    assert "孙桂兰" in page.inner_text("#queue")
    assert "陈静" not in page.inner_text("#queue")  # the demo's posted worker is filtered out
    assert watched.accessibility_problems() == []

    page.get_by_role("link", name="审核孙桂兰的备案申请").click()
    page.wait_for_url(f"**/agency/filings/{filing_id}")
    page.wait_for_load_state("networkidle")
    watched.shot("filing")
    text = page.inner_text("main")
    for hospital in ("三亚示范中心医院", "三亚示范第二人民医院", "三亚示范中医院"):
        assert hospital in text
    assert "已签署个人承诺书" in text and "异地安置退休人员" in text
    image = page.locator("img.document-image")
    assert image.count() == 1
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    # the two PDFs in frames opened on demand: nothing loaded (nor the page scrolled to the
    # viewer, which takes the focus) until the reviewer opens one
    frames = page.locator("iframe.document-frame")
    assert frames.count() == 2
    assert page.evaluate("window.scrollY") == 0
    assert all(frame.url in ("", "about:blank") for frame in page.main_frame.child_frames)
    with page.expect_response(lambda r: "/documents/" in r.url) as shown:
        page.get_by_text("在本页查看 PDF").first.click()
    answer = shown.value
    assert answer.ok and answer.header_value("x-frame-options") == "SAMEORIGIN"
    page.wait_for_load_state("networkidle")
    watched.shot("pdf-opened")  # Chromium's viewer may or may not draw it: not asserted
    assert watched.accessibility_problems() == []

    with page.expect_navigation():  # back to the same address: wait for the new page
        page.get_by_role("button", name="准予备案").click()
    page.wait_for_load_state("networkidle")
    watched.shot("approved")
    text = page.inner_text("main")
    assert "已备案" in text and "BA110000-" in text
    assert page.get_by_role("button", name="准予备案").count() == 0
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/agency/filings/{filing_id}?lang=en", label="approved-english")
    text = page.inner_text("main")
    assert "Filed" in text and "History" in text and "Resettled retiree" in text
    assert watched.accessibility_problems() == []
    page = watched.visit("/agency/filings?lang=zh", label="queue-after")
    assert "孙桂兰" not in page.inner_text("main")


def test_a_second_person_approves_an_account_credit(watched: Watched) -> None:
    site = watched.site
    person_id = enrol(site, name="钱淑芬", born=date(1958, 8, 8), sequence=68)
    with api(site, "agency") as agency:
        asked = ok(
            agency.post(
                f"/persons/{person_id}/account/movements",
                json={"amount": "300.00", "kind": "contribution", "ref": "2026 补缴"},
            ),
            202,
        )
    approval = f"#approval-{asked['id']}"

    sign_in(watched, "agency")
    page = watched.visit("/agency/approvals", label="approvals-requester")
    card = page.locator(approval)
    assert "向钱淑芬的个人账户划入 300.00 元" in card.inner_text()
    assert "须由另一名工作人员复核" in card.inner_text()
    assert card.get_by_role("button", name="复核通过并执行").count() == 0
    assert watched.accessibility_problems() == []
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("networkidle")

    sign_in(watched, "agency_2")
    page = watched.visit("/agency/approvals", label="approvals-second")
    card = page.locator(approval)
    assert "北京市医保中心审核员" in card.inner_text()
    assert watched.accessibility_problems() == []
    card.get_by_role("button", name="复核通过并执行").click()
    page.wait_for_url("**/agency/approvals?state=approved")
    page.wait_for_load_state("networkidle")
    watched.shot("approvals-approved")
    card = page.locator(approval)
    assert "审核通过" in card.inner_text()
    assert "300.00 元" in card.inner_text() and "北京市医保中心复核员" in card.inner_text()
    assert watched.accessibility_problems() == []


@pytest.mark.parametrize("login", ["agency"])
def test_recovery_and_policies_pages(watched: Watched, login: str) -> None:
    sign_in(watched, login)
    page = watched.visit("/agency/recovery", label="recovery")
    assert "第三方追偿" in page.inner_text("main")
    assert watched.accessibility_problems() == []

    page = watched.visit("/agency/policies", label="policies")
    text = page.inner_text("main")
    assert "政策版本" in text and "现行有效" in text and "三亚市" in text
    assert watched.accessibility_problems() == []

    page.get_by_role("link", name="查询三亚市").first.click()
    page.wait_for_url("**/agency/policies/catalogs/*")
    page.wait_for_load_state("networkidle")
    watched.shot("catalog")
    assert watched.accessibility_problems() == []
    page.get_by_label("编码或名称").fill("阿莫西林")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_url("**q=*")
    page.wait_for_load_state("networkidle")
    watched.shot("catalog-search")
    assert "阿莫西林胶囊" in page.inner_text("#items")
    assert "头孢" not in page.inner_text("#items")
    assert watched.accessibility_problems() == []
