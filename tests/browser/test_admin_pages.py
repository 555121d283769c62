"""The administration pages and self-registration in a real browser: the admin creates a
hospital user and resets a password (each shown once), looks at institutions, regions and
units; 高志远 registers with his identity number and the code sent to his phone (read from
the SMS sender the test puts in place) — screenshots, axe-core on every page, English once."""

from __future__ import annotations

import re

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in
from yibao.users.sms import RecordingSmsSender


def test_the_admin_creates_a_user_and_resets_a_password(watched: Watched) -> None:
    sign_in(watched, "admin")
    page = watched.visit("/admin/users", label="users")
    assert watched.accessibility_problems() == []
    page.get_by_label("姓名", exact=True).fill("三亚示范镇卫生院医保办")
    page.locator("#role").select_option("hospital")
    page.get_by_label("用户名", exact=True).fill("sy_town_window")
    institution = watched.site.demo.institutions["H460200004"]
    page.locator("#institution_id").select_option(str(institution.id))
    watched.shot("user-form")
    page.get_by_role("button", name="创建用户").click()
    page.wait_for_load_state("networkidle")
    watched.shot("user-created")
    assert "sy_town_window" in page.inner_text("body")
    first = page.locator(".secret").inner_text()
    assert len(first) == 12
    assert watched.accessibility_problems() == []

    page.get_by_role("link", name="查看该用户").click()
    page.wait_for_load_state("networkidle")
    watched.shot("user")
    assert first not in page.content()
    assert watched.accessibility_problems() == []
    page.get_by_role("button", name="生成新密码").click()
    page.wait_for_load_state("networkidle")
    watched.shot("password-reset")
    second = page.locator(".secret").inner_text()
    assert len(second) == 12 and second != first
    assert watched.accessibility_problems() == []

    page.goto(watched.site.base + "/logout")
    page.locator("#main").get_by_role("button", name="退出登录").click()
    page.wait_for_load_state("networkidle")
    page = watched.visit("/login", label="login-new-user")
    page.get_by_label("用户名").fill("sy_town_window")
    page.get_by_label("密码").fill(second)
    page.keyboard.press("Enter")
    # a temporary password: the new user chooses one of their own first
    page.wait_for_url("**/me/password*")
    page.wait_for_load_state("networkidle")
    watched.shot("choose-password")
    assert "临时密码" in page.inner_text("body")
    page.get_by_label("当前密码").fill(second)
    page.get_by_label("新密码", exact=True).fill("town window 2026")
    page.get_by_label("再次输入新密码").fill("town window 2026")
    page.get_by_role("button", name="确认修改").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="继续").click()
    page.wait_for_url("**/me")
    assert "三亚示范镇卫生院" in page.inner_text("body")


def test_the_admin_reference_pages(watched: Watched) -> None:
    sign_in(watched, "admin")
    for path, words in (
        ("/admin/institutions", "三亚示范中心医院"),
        ("/admin/regions", "保定市"),
        ("/admin/units", "三亚示范酒店"),
        ("/admin/users?role=hospital", "三亚示范第二人民医院医保办"),
    ):
        page = watched.visit(path)
        assert words in page.inner_text("body"), path
        assert watched.accessibility_problems() == [], path
    page = watched.visit("/admin/institutions?lang=en", label="institutions-en")
    assert "Designated institutions" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page.get_by_role("link", name="三亚示范第二人民医院").click()
    page.wait_for_load_state("networkidle")
    watched.shot("institution-en")
    assert watched.accessibility_problems() == []
    watched.visit("/admin/institutions?lang=zh", label="back-to-chinese")


def test_a_person_registers_with_the_code_from_the_phone(watched: Watched) -> None:
    sms = RecordingSmsSender()
    watched.site.app.state.sms = sms
    gao = watched.site.demo.persons["gao"]
    page = watched.visit("/register", label="register")
    assert "服务器日志" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page.get_by_label("身份证号码（18 位）").fill(gao.identity_number)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_load_state("networkidle")
    watched.shot("code-sent")
    assert watched.accessibility_problems() == []
    text = sms.last_to(gao.phone or "")
    assert text is not None
    found = re.search(r"验证码为 (\d{6})", text)
    assert found
    page.get_by_label("六位验证码").fill(found.group(1))
    page.get_by_role("button", name="验证", exact=True).click()
    page.wait_for_load_state("networkidle")
    watched.shot("choose-login")
    assert "高志远" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page.get_by_label("用户名", exact=True).fill("gaozy")
    page.get_by_label("密码", exact=True).fill("gao-zhiyuan-2026")
    page.get_by_label("再次输入密码", exact=True).fill("gao-zhiyuan-2026")
    page.get_by_role("button", name="完成注册").click()
    page.wait_for_url("**/me")
    page.wait_for_load_state("networkidle")
    watched.shot("registered-home")
    assert "高志远" in page.inner_text("body")
    assert watched.accessibility_problems() == []


def test_registration_in_english_with_a_bad_check_character(watched: Watched) -> None:
    watched.expect_status(422)
    page = watched.visit("/register?lang=en", label="register-en")
    assert watched.accessibility_problems() == []
    number = watched.site.demo.persons["zhao"].identity_number
    wrong = "0" if number[-1] != "0" else "1"
    page.get_by_label("Identity number (18 characters)").fill(number[:17] + wrong)
    page.get_by_role("button", name="Send me a code").click()
    page.wait_for_load_state("networkidle")
    watched.shot("register-en-bad-check")
    assert "check" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    watched.visit("/register?lang=zh", label="back-to-chinese")
