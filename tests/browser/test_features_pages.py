"""The features of the polish round in a real browser: a temporary password changed at the
next sign-in, the window's open visits, a withdrawn fee line and a cancelled registration,
the catalog search, and a pharmacy's sale against the card — screenshots at each step and
axe-core finding no serious or critical problem."""

from __future__ import annotations

import re

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in
from yibao.demo.loader import demo_password


def test_a_temporary_password_is_changed_at_the_next_sign_in(watched: Watched) -> None:
    page = watched.page
    sign_in(watched, "admin")
    user_id = watched.site.demo.users["hospital_bj"].id
    watched.visit(f"/admin/users/{user_id}", label="admin-user")
    page.get_by_role("button", name="生成新密码").click()
    page.wait_for_load_state("networkidle")
    watched.shot("reset")
    temporary = page.locator(".secret").inner_text().strip()
    assert temporary
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("networkidle")

    # the user signs in with it and is asked for a password of their own
    watched.visit("/login", label="login-temporary")
    page.get_by_label("用户名").fill("hospital_bj")
    page.get_by_label("密码").fill(temporary)
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/password*")
    page.wait_for_load_state("networkidle")
    watched.shot("asked-to-change")
    assert "临时密码" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    watched.expect_status(422)  # the two new passwords differ: the form says so
    page.get_by_label("当前密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill(demo_password("hospital_bj"))
    page.get_by_label("再次输入新密码").fill(demo_password("hospital_bj") + "x")
    page.get_by_role("button", name="确认修改").click()
    page.wait_for_load_state("networkidle")
    watched.shot("passwords-differ")
    assert "两次输入的新密码不一致" in page.inner_text("body")

    page.get_by_label("当前密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill(demo_password("hospital_bj"))
    page.get_by_label("再次输入新密码").fill(demo_password("hospital_bj"))
    page.get_by_role("button", name="确认修改").click()
    page.wait_for_load_state("networkidle")
    watched.shot("changed")
    assert "密码已修改" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page.get_by_role("link", name="继续").click()
    page.wait_for_url("**/me")
    assert page.get_by_role("link", name="修改密码").first.is_visible()

    # in English too
    watched.visit("/me/password?lang=en", label="password-en")
    assert "Change my password" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    watched.visit("/me?lang=zh", label="back-to-chinese")


def test_the_window_shows_open_visits_withdraws_a_line_and_cancels(watched: Watched) -> None:
    sign_in(watched, "hospital_sy2")
    page = watched.visit("/window", label="window")
    card = watched.site.demo.persons["sun"].card_number or ""
    page.get_by_label("社保卡号").fill(card)
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("patient")
    text = page.inner_text("body")
    assert "备案期间参保地就医" in text
    page.get_by_label("门诊", exact=True).check()
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/window/encounters/*")
    page.wait_for_load_state("networkidle")
    encounter = page.url.rsplit("/", 1)[1]

    for code, quantity, price in (("S0005", "1", "30"), ("D0009", "4", "65.10")):
        page.get_by_label("目录编码").fill(code)
        page.get_by_label("数量").fill(quantity)
        page.get_by_label("单价（元）").fill(price)
        page.get_by_role("button", name="添加", exact=True).click()
        page.wait_for_load_state("networkidle")
    watched.shot("two-lines")
    rows = page.locator("table.fee-lines tbody tr")
    assert rows.count() == 2
    assert all(
        rows.nth(i).locator("td").nth(2).inner_text().strip() not in ("", "—") for i in range(2)
    )
    assert watched.accessibility_problems() == []

    page.get_by_role("button", name="撤回第 W2 行明细").click()
    page.wait_for_load_state("networkidle")
    watched.shot("withdrawn")
    assert "已撤回" in page.inner_text("body")
    assert page.get_by_role("button", name="撤回第 W2 行明细").count() == 0

    # the window lists the open visit when the patient is found again
    page = watched.visit("/window", label="window-again")
    page.get_by_label("社保卡号").fill(card)
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("patient-open-visit")
    page.get_by_role("link", name=re.compile(f"{encounter}")).first.click()
    page.wait_for_url(f"**/window/encounters/{encounter}")

    page.get_by_label("撤销原因").fill("误登记，患者未就诊")
    page.get_by_role("button", name="撤销登记").click()
    page.wait_for_load_state("networkidle")
    watched.shot("cancelled")
    assert "已取消" in page.inner_text("body")
    assert page.get_by_label("撤销原因").count() == 0
    assert watched.accessibility_problems() == []

    page = watched.visit("/window/catalog", label="catalog")
    page.get_by_label("编码或名称").fill("D0009")
    page.get_by_role("button", name="查询").last.click()
    page.wait_for_load_state("networkidle")
    watched.shot("catalog-found")
    assert "D0009" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_a_pharmacy_sells_against_the_card(watched: Watched) -> None:
    sign_in(watched, "pharmacy_sy")
    page = watched.page
    watched.shot("home")
    menu = page.get_by_role("navigation", name="主导航")
    assert menu.get_by_role("link", name="就诊记录").count() == 0
    assert watched.accessibility_problems() == []
    page = watched.visit("/window", label="window")
    page.get_by_label("社保卡号").fill(watched.site.demo.persons["li"].card_number or "")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name="登记").count() == 0
    page.get_by_label("第 1 行 · 目录编码").fill("D0009")
    page.get_by_label("第 1 行 · 数量").fill("2")
    page.get_by_label("第 1 行 · 单价（元）").fill("65.10")
    page.get_by_label("第 2 行 · 目录编码").fill("S0005")
    page.get_by_label("第 2 行 · 数量").fill("1")
    page.get_by_label("第 2 行 · 单价（元）").fill("30")
    watched.shot("basket")
    assert watched.accessibility_problems() == []
    page.get_by_role("button", name="结算", exact=True).last.click()
    page.wait_for_url("**/window/sales/*")
    page.wait_for_load_state("networkidle")
    watched.shot("sold")
    text = page.inner_text("body")
    assert "130.20 元" in text and "S0005" in text and "非药品" in text
    assert watched.accessibility_problems() == []


def test_an_agency_asks_for_an_account_movement(watched: Watched) -> None:
    sign_in(watched, "agency_bd")
    page = watched.visit("/agency/approvals", label="approvals")
    page.get_by_role("link", name="申请个人账户手工调整").click()
    page.wait_for_url("**/agency/accounts")
    page.wait_for_load_state("networkidle")
    watched.shot("find")
    assert watched.accessibility_problems() == []
    page.get_by_label("社保卡号").fill(watched.site.demo.persons["zhao"].card_number or "")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_url("**/agency/accounts/*")
    page.wait_for_load_state("networkidle")
    watched.shot("account")
    assert "赵国强" in page.inner_text("body") and "余额" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page.get_by_label("金额（元）").fill("200")
    page.locator("#kind").select_option("contribution")
    page.get_by_label("业务单号（选填）").fill("BD-JF-0001")
    page.get_by_role("button", name="提交复核").click()
    page.wait_for_url("**/agency/approvals*")
    page.wait_for_load_state("networkidle")
    watched.shot("pending")
    assert "BD-JF-0001" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_the_admin_adds_an_agency_to_a_region(watched: Watched) -> None:
    sign_in(watched, "admin")
    page = watched.visit("/admin/regions", label="regions")
    assert "北京市医疗保障事务中心" in page.inner_text("body")
    page.get_by_label("名称", exact=True).last.fill("三沙示范经办点")
    page.locator("#agency_kind").select_option("street_office")
    page.locator("#region_code").select_option("460200")
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("agency-added")
    assert "经办机构已添加" in page.inner_text("body")
    assert "三沙示范经办点" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_institutions_open_on_the_users_region(watched: Watched) -> None:
    sign_in(watched, "hospital_sy2")
    page = watched.visit("/institutions", label="institutions-hospital")
    assert page.locator("#region").input_value() == "460200"
    assert watched.accessibility_problems() == []
