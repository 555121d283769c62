"""Self-registration of insured persons: identity number (check character validated), a
one-time code sent to the registered phone (6 digits, 10 minutes, 5 tries, limited sends),
then a login name and a password; the same answer for every identity number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World
from tests.web.conftest import MakeWebUser, csrf_of
from tests.web.test_pages import text_of
from yibao.auth.models import User
from yibao.identity import make_identity_number
from yibao.users.models import OneTimeCode
from yibao.users.sms import RecordingSmsSender
from yibao.web import page as web_page

PHONE = "13800001111"
_CODE = re.compile(r"验证码为 (\d{6})")


@pytest.fixture
def sms(app: Any) -> RecordingSmsSender:
    sender = RecordingSmsSender()
    app.state.sms = sender
    return sender


@pytest.fixture
def phoned(session: Session, world: World) -> World:
    """The retiree has a registered phone (and no user yet)."""
    world.retiree.phone = PHONE
    session.commit()
    return world


def post(client: TestClient, action: str, data: dict[str, str]) -> Response:
    token = csrf_of(client.get("/register").text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def code_sent(sms: RecordingSmsSender) -> str:
    text = sms.last_to(PHONE)
    assert text is not None
    found = _CODE.search(text)
    assert found, text
    return found.group(1)


def test_a_person_registers_with_the_code_and_is_signed_in(
    client: TestClient, sms: RecordingSmsSender, phoned: World, session: Session
) -> None:
    form = client.get("/register")
    assert form.status_code == 200
    assert "服务器日志" in text_of(form.text)  # the demo says where the code goes

    number = phoned.retiree.identity_number
    sent = post(client, "/register", {"identity_number": number})
    assert sent.status_code == 200
    assert "六位验证码已发送" in text_of(sent.text)
    assert PHONE not in sent.text
    code = code_sent(sms)
    stored = session.scalars(select(OneTimeCode)).all()
    assert len(stored) == 1 and code not in stored[0].code_hash
    assert number not in stored[0].subject

    checked = post(client, "/register/code", {"identity_number": number, "code": code})
    assert checked.status_code == 200, checked.text
    assert phoned.retiree.name in text_of(checked.text)
    ticket = re.search(r'name="ticket" value="([^"]+)"', checked.text)
    assert ticket

    short = post(
        client,
        "/register/account",
        {
            "ticket": ticket.group(1),
            "login": "wangtx",
            "password": "short",
            "password_again": "short",
        },
    )
    assert short.status_code == 422 and "密码为 8 至 256 个字符" in short.text
    assert session.scalar(select(func.count()).select_from(User)) == 0

    done = post(
        client,
        "/register/account",
        {
            "ticket": ticket.group(1),
            "login": "WangTX",
            "password": "a long password",
            "password_again": "a long password",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/me"
    home = client.get("/me")
    assert home.status_code == 200 and phoned.retiree.name in text_of(home.text)
    session.expire_all()
    user = session.scalars(select(User)).one()
    assert (user.role, user.person_id, user.login) == ("insured", phoned.retiree.id, "wangtx")
    assert user.password_hash and user.password_hash.startswith("$argon2id$")

    # the ticket serves once
    reused = post(
        client,
        "/register/account",
        {
            "ticket": ticket.group(1),
            "login": "x2",
            "password": "a long password",
            "password_again": "a long password",
        },
    )
    assert reused.status_code == 410


def test_five_wrong_codes_lock_the_code(
    client: TestClient, sms: RecordingSmsSender, phoned: World, session: Session
) -> None:
    number = phoned.retiree.identity_number
    post(client, "/register", {"identity_number": number})
    code = code_sent(sms)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        answer = post(client, "/register/code", {"identity_number": number, "code": wrong})
        assert answer.status_code == 422
        assert f"还可尝试 {left} 次" in text_of(answer.text)
    fifth = post(client, "/register/code", {"identity_number": number, "code": wrong})
    assert fifth.status_code == 429 and "已输错 5 次" in text_of(fifth.text)
    # even the right code no longer works: a new code is needed
    right = post(client, "/register/code", {"identity_number": number, "code": code})
    assert right.status_code == 429 and "重新获取" in text_of(right.text)
    assert 'name="ticket"' not in right.text
    session.expire_all()
    assert session.scalars(select(OneTimeCode)).one().attempts == 5


def test_a_bad_check_character_is_answered_clearly(
    client: TestClient, sms: RecordingSmsSender, phoned: World, session: Session
) -> None:
    number = phoned.retiree.identity_number
    wrong_last = "0" if number[-1] != "0" else "1"
    answer = post(client, "/register", {"identity_number": number[:17] + wrong_last})
    assert answer.status_code == 422
    assert "最后一位校验码不正确" in text_of(answer.text)
    short = post(client, "/register", {"identity_number": "12345"})
    assert short.status_code == 422 and "身份证号码为 18 位" in text_of(short.text)
    assert sms.sent == []
    assert session.scalar(select(func.count()).select_from(OneTimeCode)) == 0


def test_the_answer_is_the_same_for_unknown_numbers_and_persons_without_a_phone(
    client: TestClient, sms: RecordingSmsSender, phoned: World
) -> None:
    unknown = make_identity_number("110105", datetime(1960, 1, 1).date(), 901)
    no_phone = phoned.worker.identity_number
    answers = [
        text_of(post(client, "/register", {"identity_number": n}).text)
        for n in (phoned.retiree.identity_number, unknown, no_phone)
    ]
    assert len(sms.sent) == 1  # only the person with a phone got a text

    def strip(words: str) -> str:
        return re.sub(r"[0-9X]{18}", "", words)

    assert strip(answers[0]) == strip(answers[1]) == strip(answers[2])
    assert "尚未在医保部门登记手机号码" in answers[1]


def test_codes_are_limited_per_person(
    client: TestClient,
    sms: RecordingSmsSender,
    phoned: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = phoned.retiree.identity_number
    start = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    clock = {"now": start}
    monkeypatch.setattr(web_page, "now", lambda: clock["now"])
    monkeypatch.setattr("yibao.web.register.now", lambda: clock["now"])
    assert post(client, "/register", {"identity_number": number}).status_code == 200
    again = post(client, "/register", {"identity_number": number})
    assert again.status_code == 429 and "一分钟后" in text_of(again.text)
    for minutes in (2, 4, 6, 8):
        clock["now"] = start + timedelta(minutes=minutes)
        assert post(client, "/register", {"identity_number": number}).status_code == 200
    clock["now"] = start + timedelta(minutes=10)
    sixth = post(client, "/register", {"identity_number": number})
    assert sixth.status_code == 429 and "每天最多发送 5 次" in text_of(sixth.text)
    assert len(sms.sent) == 5
    # an expired code is refused
    clock["now"] = start + timedelta(minutes=30)
    code = code_sent(sms)
    late = post(client, "/register/code", {"identity_number": number, "code": code})
    assert late.status_code == 429 and "超过 10 分钟" in text_of(late.text)


def test_a_person_with_an_account_is_told_to_sign_in(
    client: TestClient,
    sms: RecordingSmsSender,
    phoned: World,
    make_web_user: MakeWebUser,
) -> None:
    make_web_user("insured", "wang")
    answer = post(client, "/register", {"identity_number": phoned.retiree.identity_number})
    assert answer.status_code == 200 and "六位验证码已发送" in text_of(answer.text)
    text = sms.last_to(PHONE) or ""
    assert "已注册" in text and not _CODE.search(text)


def test_registration_without_the_forms_token_is_refused(
    client: TestClient, sms: RecordingSmsSender, phoned: World
) -> None:
    client.get("/register")
    refused = client.post(
        "/register",
        data={"identity_number": phoned.retiree.identity_number},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert sms.sent == []


def test_english(client: TestClient, sms: RecordingSmsSender) -> None:
    page = client.get("/register?lang=en")
    assert "Register as an insured person" in page.text
