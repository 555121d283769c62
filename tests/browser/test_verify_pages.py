"""Printed documents and their public check in a real browser: 王建国 opens the certificate
of his demo filing (page and PDF link), then anyone — here the hospital's clerk, signed in
or not — types the code printed on it at /verify and sees that it is genuine; an unknown
code is "not genuine" (404). A screenshot of every page, axe-core on each, one in English."""

from __future__ import annotations

import re

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in


def test_a_certificate_is_printed_then_checked_by_anyone(watched: Watched) -> None:
    filing_id = watched.site.demo.filings["resettled_retiree"]
    sign_in(watched, "insured")
    page = watched.visit(f"/print/filings/{filing_id}/certificate", label="certificate")
    text = page.inner_text("body")
    assert "异地就医备案凭证" in text and "王建国" in text and "北京" in text
    assert page.locator("img.doc-qr").count() == 1
    assert watched.accessibility_problems() == []
    pdf_link = page.get_by_role("link", name="下载 PDF")
    assert pdf_link.get_attribute("href") == f"/print/filings/{filing_id}/certificate.pdf"
    code_text = page.locator(".doc-code").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4}-){4}[A-Z2-7]{4}", code_text), code_text

    page.get_by_role("link", name="核验本文书").click()
    page.wait_for_url("**/verify/*")
    page.wait_for_load_state("networkidle")
    watched.shot("checked-by-the-holder")
    assert "真实" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    # anyone, without signing in: the clerk at another hospital types the printed code
    page.context.clear_cookies()
    page = watched.visit("/verify", label="verify-form")
    assert watched.accessibility_problems() == []
    page.get_by_label("验证码").fill(code_text.lower())
    page.keyboard.press("Enter")
    page.wait_for_url("**/verify/*")
    page.wait_for_load_state("networkidle")
    watched.shot("checked-by-anyone")
    body = page.inner_text("body")
    assert "真实" in body and "王*国" in body and "王建国" not in body
    assert "备案凭证" in body
    assert watched.accessibility_problems() == []

    page = watched.visit(page.url.removeprefix(watched.site.base) + "?lang=en", label="english")
    assert "Genuine" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_an_unknown_code_is_not_genuine(watched: Watched) -> None:
    watched.expect_status(404)
    page = watched.visit("/verify/AAAA-BBBB-CCCC-DDDD-EEEE", label="unknown-code")
    assert "非真实文书" in page.inner_text("body")
    assert watched.accessibility_problems() == []
