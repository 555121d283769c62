"""The insured person's pages in a real browser: the landing page, signing in, the home
page and one settlement explained — in Chinese, then in English — with axe-core finding no
serious or critical accessibility problem and the keyboard alone enough to sign in."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Watched
from yibao.demo.loader import demo_password


def sign_in(watched: Watched, login: str) -> None:
    page = watched.visit("/login", label="login")
    page.get_by_label("用户名").fill(login)
    page.get_by_label("密码").fill(demo_password(login))
    watched.shot("login-filled")
    page.keyboard.press("Enter")  # the keyboard alone signs in
    page.wait_for_url("**/me")
    page.wait_for_load_state("networkidle")


def test_landing_page_in_chinese_accessible(watched: Watched) -> None:
    page = watched.visit("/", label="landing")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "异地就医" in page.content()
    assert watched.accessibility_problems() == []


def test_wrong_password_is_refused_without_saying_more(watched: Watched) -> None:
    page = watched.visit("/login", label="login")
    page.get_by_label("用户名").fill("insured")
    page.get_by_label("密码").fill("not-the-password")
    watched.expect_status(401)  # the refused sign-in answers 401, the browser says so
    with page.expect_response("**/login") as refused:
        page.get_by_role("button", name="登录").click()
    assert refused.value.status == 401
    page.wait_for_load_state("networkidle")
    watched.shot("refused")
    assert "/login" in page.url
    assert "用户名或密码错误" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_a_person_signs_in_and_reads_a_settlement(
    watched: Watched, settled: dict[str, Any]
) -> None:
    sign_in(watched, "insured")
    page = watched.page
    assert page.url.endswith("/me"), page.url
    watched.shot("home")
    assert "王建国" in page.content()
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/me/settlements/{settled['id']}", label="settlement-zh")
    text = page.inner_text("body")
    assert "起付线" in text  # the explanation in the agency's words
    assert settled["amounts"]["pool_fund_pay"].split(".")[0] in text.replace(",", "")
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/me/settlements/{settled['id']}?lang=en", label="settlement-en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "deductible" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_someone_elses_settlement_is_not_shown(watched: Watched, settled: dict[str, Any]) -> None:
    sign_in(watched, "insured_zhang")
    watched.expect_status(404)  # the page answers 404, as the API does
    page = watched.visit(f"/me/settlements/{settled['id']}", label="not-mine")
    assert "未找到" in page.inner_text("body")
    assert "起付线" not in page.inner_text("body")
