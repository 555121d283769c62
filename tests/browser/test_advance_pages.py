"""The advance fund (预付金) in a real browser: the Beijing centre's dashboard shows each
treatment region's fund, the share in use and its warning (a mark and words); a reviewer
asks to record a new amount with the dashboard's form, a second reviewer approves it under
复核, and the dashboard then shows the new amount in warning (预警). A screenshot of every
page, axe-core on every page, and the dashboard once in English.

The demo's other tests may confirm clearing months of the shared site, which changes what is
in use; this test reads the figures from the API when it starts and sizes its own amount."""

from __future__ import annotations

import math
from typing import Any

import httpx

from tests.browser.conftest import Site, Watched
from tests.browser.test_insured_pages import sign_in
from yibao.web.i18n import format_money

WORDS = {"ok": "正常", "warning": "预警", "serious": "严重预警", "no_advance": "未登记预付金"}


def sanya_pair(site: Site, key: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {site.demo.tokens[key]}"}
    with httpx.Client(base_url=f"{site.base}/api/v1", headers=headers) as api:
        response = api.get("/clearing/advance-funds")
        assert response.status_code == 200, response.text
        (pair,) = [r for r in response.json() if r["treatment_region"] == "460200"]
        return dict(pair)


def sanya_row(page: Any) -> str:
    return str(page.locator("#advance-table tbody tr", has_text="三亚市").inner_text())


def test_the_dashboard_warns_and_a_second_person_records_a_new_amount(watched: Watched) -> None:
    site = watched.site
    before = sanya_pair(site, "agency")
    in_use = int(before["in_use"].replace(".", ""))
    assert in_use > 0, before

    sign_in(watched, "agency")
    page = watched.visit("/agency/dashboard", label="dashboard")
    row = sanya_row(page)
    assert WORDS[before["level"]] in row
    assert format_money(in_use) in row
    assert "使用达到 70% 时预警" in page.inner_text("#advance")
    assert watched.accessibility_problems() == []

    # an amount of which 80% is in use: a warning, whatever the other tests confirmed
    amount = math.ceil(in_use / 0.8 / 100)
    form = page.locator("#advance-form")
    form.get_by_label("就医地").select_option("460200")
    form.get_by_label("预付金额度（元）").fill(str(amount))
    form.get_by_label("备注（选填）").fill("浏览器测试补足预付金")
    watched.shot("form-filled")
    form.get_by_role("button", name="提交登记").click()
    page.wait_for_url("**requested=*")
    page.wait_for_load_state("networkidle")
    watched.shot("requested")
    assert "待本中心另一名工作人员复核" in page.inner_text("#advance")
    assert page.locator("#advance a[href='/agency/approvals']").count() == 1
    assert watched.accessibility_problems() == []
    approval = int(page.url.split("requested=", 1)[1].split("#", 1)[0])
    # nothing is recorded before a second person approves
    assert sanya_pair(site, "agency")["amount"] == before["amount"]

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("networkidle")
    sign_in(watched, "agency_2")
    page = watched.visit("/agency/approvals", label="approvals")
    card = page.locator(f"#approval-{approval}")
    words = card.inner_text()
    assert "登记异地就医预付金" in words
    assert f"登记北京市向三亚市拨付的预付金：{format_money(amount * 100)}" in words
    assert "备注：浏览器测试补足预付金" in words
    assert watched.accessibility_problems() == []
    card.get_by_role("button", name="复核通过并执行").click()
    page.wait_for_url("**/agency/approvals?state=approved")
    page.wait_for_load_state("networkidle")
    watched.shot("approved")
    assert watched.accessibility_problems() == []

    after = sanya_pair(site, "agency_2")
    assert after["amount"] == f"{amount}.00" and after["level"] == "warning"
    page = watched.visit("/agency/dashboard", label="dashboard-warning")
    row = sanya_row(page)
    assert "▲ 预警" in row and "严重预警" not in row
    assert f"{after['usage_percent']}%" in row and format_money(amount * 100) in row
    assert watched.accessibility_problems() == []

    page = watched.visit("/agency/dashboard?lang=en", label="dashboard-en")
    row = sanya_row(page)
    assert "▲ Warning" in row
    assert "From 70% in use a warning is raised" in page.inner_text("#advance")
    assert watched.accessibility_problems() == []


def test_the_treatment_agency_sees_the_funds_it_holds(watched: Watched) -> None:
    """Sanya's agency sees both centres' funds (Baoding's normal in the demo) and no form."""
    site = watched.site
    sign_in(watched, "agency_sy")
    page = watched.visit("/agency/dashboard", label="dashboard-sanya")
    table = page.locator("#advance-table").inner_text()
    assert "北京市" in table and "保定市" in table
    baoding = page.locator("#advance-table tbody tr", has_text="保定市").inner_text()
    headers = {"Authorization": f"Bearer {site.demo.tokens['agency_bd']}"}
    with httpx.Client(base_url=f"{site.base}/api/v1", headers=headers) as api:
        (pair,) = api.get("/clearing/advance-funds").json()
    assert pair["level"] == "ok"  # the demo sized Baoding's fund at about 40% in use
    assert "● 正常" in baoding and f"{pair['usage_percent']}%" in baoding
    assert page.locator("#advance-form").count() == 0
    assert watched.accessibility_problems() == []
