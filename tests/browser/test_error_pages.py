"""A service's refusal in a real browser: the sentence in the reader's language, the
service's own message and code folded under "技术详情" for support staff; the filing form's
categories that do not fit, said in words — screenshots, axe-core, English once."""

from __future__ import annotations

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in


def test_a_taken_login_name_is_refused_in_words(watched: Watched) -> None:
    watched.expect_status(422)  # the refusal is the form's answer
    sign_in(watched, "admin")
    page = watched.visit("/admin/users", label="users")
    page.get_by_label("姓名", exact=True).fill("第二位管理员")
    page.locator("#role").select_option("admin")
    page.get_by_label("用户名", exact=True).fill("admin")  # the demo's admin has it
    page.get_by_role("button", name="创建用户").click()
    page.wait_for_load_state("networkidle")
    alert = page.get_by_role("alert")
    assert "该登录名已被占用，请另选一个登录名。" in alert.inner_text()
    assert "user.login_taken" not in alert.inner_text()  # folded away
    watched.shot("login-taken")
    assert watched.accessibility_problems() == []
    alert.get_by_text("技术详情").click()  # support staff open the details
    assert "user.login_taken" in alert.inner_text() and "is taken" in alert.inner_text()
    watched.shot("login-taken-details")
    assert watched.accessibility_problems() == []


def test_an_error_page_and_the_categories_that_do_not_fit(watched: Watched) -> None:
    watched.expect_status(403)  # an insured person opens an agency's page
    sign_in(watched, "insured")
    page = watched.visit("/agency/filings", label="not-for-insured")
    assert "本页面仅供医保经办机构使用" in page.inner_text("main")
    assert watched.accessibility_problems() == []
    page = watched.visit("/agency/filings?lang=en", label="not-for-insured-en")
    assert "These pages are for medical insurance agencies" in page.inner_text("main")
    assert watched.accessibility_problems() == []

    page = watched.visit("/me/filings/new?destination=460200&lang=zh", label="filing-form")
    page.get_by_text("不符合条件的备案类别").click()
    watched.shot("categories-that-do-not-fit")
    unfit = page.locator("details.unfit").inner_text()
    assert "仅限" in unfit and "is for" not in unfit
    assert watched.accessibility_problems() == []
