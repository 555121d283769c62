"""The hospital window in a real browser: the Sanya hospital's clerk finds 王建国 by his
card, admits him, adds two fee lines, pre-settles, settles and opens the slip — a
screenshot at each step, and axe-core finding no serious or critical problem on any page."""

from __future__ import annotations

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in


def test_the_window_admits_bills_settles_and_prints(watched: Watched) -> None:
    sign_in(watched, "hospital")
    page = watched.page
    watched.shot("home")
    assert watched.accessibility_problems() == []

    page = watched.visit("/window", label="window")
    assert watched.accessibility_problems() == []
    page.get_by_label("社保卡号").fill(watched.site.demo.persons["wang"].card_number or "")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("patient")
    assert "王建国" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page.get_by_label("押金（元，住院）").fill("3000")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/window/encounters/*")
    page.wait_for_load_state("networkidle")
    watched.shot("admitted")
    assert watched.accessibility_problems() == []

    for code, quantity, price in (("S0005", "5", "30"), ("D0009", "40", "65.10")):
        page.get_by_label("目录编码").fill(code)
        page.get_by_label("数量").fill(quantity)
        page.get_by_label("单价（元）").fill(price)
        page.get_by_role("button", name="添加", exact=True).click()
        page.wait_for_load_state("networkidle")
        watched.shot(f"line-{code}")
        assert code in page.inner_text("body")
    assert "2,604.00 元" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page.get_by_role("button", name="预结算").click()
    page.wait_for_load_state("networkidle")
    watched.shot("pre-settled")
    assert "尚未保存" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page.get_by_role("button", name="结算", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("settled")
    assert "已结算" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page.get_by_role("link", name="结算单").click()
    page.wait_for_url("**/slip")
    page.wait_for_load_state("networkidle")
    watched.shot("slip")
    text = page.inner_text("body")
    assert "医疗费用结算单" in text and "王建国" in text and "2,754.00 元" in text
    assert page.get_by_role("button", name="打印结算单").is_visible()
    assert watched.accessibility_problems() == []
    page.emulate_media(media="print")
    watched.shot("slip-print")
    assert not page.locator(".site-header").is_visible()
