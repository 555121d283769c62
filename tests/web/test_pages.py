"""The pages of this slice: the landing page, the insured person's home and settlements,
the other roles' home, and the error pages — in Chinese first, English on request."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.integration.test_filings_service import _approved
from tests.integration.test_settle_kit import STAY, load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser
from yibao.registry.models import Person
from yibao.web import routes

API = "/api/v1"


def settle(client: TestClient, hospital: AuthUser, person: Person, *, key: str) -> dict[str, Any]:
    """An inpatient stay of 2,360.00 settled at the Sanya hospital on 10 May 2026."""
    encounter = client.post(
        f"{API}/encounters",
        json={
            "identity_number": person.identity_number,
            "setting": "inpatient",
            "started_on": "2026-05-01",
            "deposit": "3000.00",
        },
        headers=hospital.headers,
    )
    assert encounter.status_code == 201, encounter.text
    encounter_id = encounter.json()["id"]
    fees = client.post(
        f"{API}/encounters/{encounter_id}/fees", json={"lines": STAY}, headers=hospital.headers
    )
    assert fees.status_code in (200, 201), fees.text
    settled = client.post(
        f"{API}/encounters/{encounter_id}/settle",
        json={"on": "2026-05-10"},
        headers={**hospital.headers, "Idempotency-Key": key},
    )
    assert settled.status_code == 201, settled.text
    result: dict[str, Any] = settled.json()
    return result


@pytest.fixture
def hospital(make_user: MakeUser, session: Session) -> AuthUser:
    load_rules(session)
    session.commit()
    return make_user("hospital")


def text_of(html: str) -> str:
    """The page's words, tags removed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- languages --------------------------------------------------------------------------


def test_the_landing_page_is_chinese_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    words = text_of(page.text)
    assert "异地就医，就地结算" in words and "登录" in words and "用户名" in words
    assert 'href="/docs"' in page.text and 'action="/login"' in page.text
    assert "Sign in" not in words


def test_english_is_a_switch_remembered_in_a_cookie(client: TestClient) -> None:
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert "yibao_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/login").text  # the cookie holds the choice
    back = client.get("/login?lang=zh")
    assert '<html lang="zh-CN">' in back.text
    assert 'href="/login?lang=en"' in back.text  # the switch to the other language


def test_the_browser_language_is_honoured(client: TestClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in english.text
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in chinese.text
    assert '<html lang="zh-CN">' in client.get("/", headers={"Accept-Language": "fr"}).text


# --- the insured person's pages -------------------------------------------------------------


def test_home_shows_account_filings_settlements_and_claims(
    client: TestClient,
    insured: WebUser,
    sign_in: SignIn,
    hospital: AuthUser,
    world: World,
    users: dict[str, AuthUser],
    session: Session,
    tmp_path: Path,
) -> None:
    filing = _approved(session, world, users, tmp_path)
    session.commit()
    settled = settle(client, hospital, world.retiree, key="k-1")
    sign_in("wang")

    home = client.get("/me")
    assert home.status_code == 200
    words = text_of(home.text)
    assert "我的个人账户" in words
    assert filing.number is not None and filing.number in words
    assert "异地长期居住人员" in words and "海南省" in words  # category and destination
    assert "2026年3月1日" in words  # valid from, the Chinese way
    assert f'href="/me/settlements/{settled["id"]}"' in home.text
    assert "2026年5月10日" in words and "2,360.00 元" in words and "三亚市人民医院" in words
    assert "暂无零星报销申请" in words

    english = text_of(client.get("/me?lang=en").text)
    assert "2026-03-01" in english and "2026-05-10" in english and "2,360.00 元" in english
    assert "Long-term resident" in english and "My settlements" in english


def test_money_reads_to_the_fen_with_separators(
    client: TestClient, insured: WebUser, sign_in: SignIn
) -> None:
    sign_in("wang")
    assert "1,234.56 元" in text_of(client.get("/me").text)  # 123,456 fen


def test_a_settlement_explained_in_either_language(
    client: TestClient, insured: WebUser, sign_in: SignIn, hospital: AuthUser, world: World
) -> None:
    settled = settle(client, hospital, world.retiree, key="k-1")
    sign_in("wang")
    page = client.get(f"/me/settlements/{settled['id']}")
    assert page.status_code == 200
    words = text_of(page.text)
    amounts = settled["amounts"]
    assert f"结算记录 {settled['id']}" in words
    for name in ("total", "fund_pay_total", "personal_burden", "account_pay", "cash_pay"):
        figure = f"{Decimal(amounts[name]):,.2f} 元"
        assert figure in words, (name, figure)
    assert "医疗费总额" in words and "统筹基金支付" in words and "个人账户支付" in words
    assert "起付线" in words  # the explanation, in Chinese
    assert "deductible due" not in words
    assert "甲类" in words and "丙类" in words  # the lines' classes
    assert "押金" in words and "3,000.00 元" in words

    english = text_of(client.get(f"/me/settlements/{settled['id']}?lang=en").text)
    assert "deductible due" in english and "Total bill" in english
    assert "2026-05-10" in english and "(UTC+8)" in english


def test_a_person_sees_only_their_own_settlement(
    client: TestClient,
    insured: WebUser,
    make_web_user: MakeWebUser,
    sign_in: SignIn,
    hospital: AuthUser,
    world: World,
) -> None:
    mine = settle(client, hospital, world.retiree, key="k-1")
    theirs = settle(client, hospital, world.worker, key="k-2")
    make_web_user("insured", "li", person_id=world.worker.id)
    sign_in("wang")

    refused = client.get(f"/me/settlements/{theirs['id']}")
    assert refused.status_code == 404
    assert '<html lang="zh-CN">' in refused.text and "未找到" in refused.text
    assert "Traceback" not in refused.text
    for bad in ("999999", "abc", "0", "99999999999999999999999"):
        assert client.get(f"/me/settlements/{bad}").status_code == 404, bad
    listed = client.get("/me/settlements").text
    assert f"/me/settlements/{mine['id']}" in listed
    assert f"/me/settlements/{theirs['id']}" not in listed


def test_more_settlements_come_in_pages_and_htmx_gets_only_the_rows(
    client: TestClient,
    insured: WebUser,
    sign_in: SignIn,
    hospital: AuthUser,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes, "SETTLEMENTS_PER_PAGE", 1)
    first = settle(client, hospital, world.retiree, key="k-1")
    second = settle(client, hospital, world.retiree, key="k-2")
    sign_in("wang")
    page_one = client.get("/me/settlements")
    assert f"/me/settlements/{second['id']}" in page_one.text  # newest first
    assert f"/me/settlements/{first['id']}" not in page_one.text
    assert 'hx-get="/me/settlements?page=2"' in page_one.text
    assert 'href="/me/settlements?page=2"' in page_one.text  # works without JavaScript too

    rows = client.get("/me/settlements?page=2", headers={"HX-Request": "true"})
    assert rows.status_code == 200 and "<html" not in rows.text and "<tr>" in rows.text
    assert f"/me/settlements/{first['id']}" in rows.text
    assert "hx-get" not in rows.text  # the last page
    full = client.get("/me/settlements?page=2")
    assert "<html" in full.text and f"/me/settlements/{first['id']}" in full.text


def test_pages_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/me", "/me/settlements", "/me/settlements/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=%2Fme")
    assert client.get("/logout", follow_redirects=False).headers["location"] == "/"


# --- the other roles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "role_name", "workplace", "next_step"),
    [
        ("hospital", "定点医药机构", "三亚市人民医院", "进入医保窗口"),
        ("agency", "医保经办机构", "北京市医保中心", "备案审核"),
        ("street_office", "街道社保所", "朝阳区某街道社保所", "代办备案"),
        ("unit", "参保单位", "北京某公司", "代办备案"),
        ("admin", "平台管理员", None, "重置密码"),
    ],
)
def test_other_roles_get_an_honest_home(
    client: TestClient,
    make_web_user: MakeWebUser,
    sign_in: SignIn,
    role: str,
    role_name: str,
    workplace: str | None,
    next_step: str,
) -> None:
    make_web_user(role, f"{role}-1")
    assert sign_in(f"{role}-1").headers["location"] == "/me"
    home = client.get("/me")
    words = text_of(home.text)
    assert f"test {role}" in words and role_name in words and next_step in words
    if workplace:
        assert workplace in words
    # no dead links: every link on the page answers
    for href in set(re.findall(r'href="([^"]+)"', home.text)):
        assert client.get(href).status_code == 200, href
    client.get("/me?lang=zh")  # (one of them was the switch to English)
    # the person's pages are not theirs
    refused = client.get("/me/settlements")
    assert refused.status_code == 403 and "无权访问" in refused.text


# --- errors -----------------------------------------------------------------------------------


def test_an_unknown_page_is_a_chinese_404_and_the_api_keeps_problem_json(
    client: TestClient,
) -> None:
    page = client.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and "未找到" in page.text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get(f"{API}/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    plain = client.get("/no-such-page")  # a machine client: the API's answer as before
    assert plain.headers["content-type"] == "application/problem+json"


def test_a_failure_is_a_friendly_page_without_a_trace(
    app: Any,
    insured: WebUser,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug deep inside")

    monkeypatch.setattr(routes.settlements, "list_settlements", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post(
            "/login",
            data={"login": "wang", "password": "correct horse 42", "csrf_token": token.group(1)},
        )
        page = client.get("/me")
    assert page.status_code == 500
    assert "系统出现错误" in page.text and '<html lang="zh-CN">' in page.text
    assert "Traceback" not in page.text and "a bug deep inside" not in page.text


def test_pages_carry_security_headers(client: TestClient) -> None:
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    # the API's answers are left as they were
    assert "content-security-policy" not in client.get(f"{API}/health").headers
