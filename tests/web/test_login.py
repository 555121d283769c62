"""Signing in and out of the pages: the session cookie, CSRF, lockout without enumeration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import MakeUser
from tests.web.conftest import PASSWORD, MakeWebUser, SignIn, WebUser, csrf_of
from yibao.auth import passwords
from yibao.auth.models import User, WebSession
from yibao.cli.main import app as cli
from yibao.db import make_engine, session_scope
from yibao.errors import ValidationFailed
from yibao.users.service import set_password

LOCKED = "尝试次数过多，该账号已锁定 15 分钟，请稍后再试。"
WRONG = "用户名或密码错误。"


def _cookie(response: Any, name: str) -> str:
    headers = response.headers.get_list("set-cookie")
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {headers}"
    return found[-1]


def test_sign_in_and_out(
    client: TestClient, insured: WebUser, sign_in: SignIn, session: Session
) -> None:
    assert client.get("/me", follow_redirects=False).headers["location"] == "/login?next=%2Fme"

    response = sign_in("wang")
    assert response.status_code == 303 and response.headers["location"] == "/me"
    cookie = _cookie(response, "yibao_session")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    token = client.cookies["yibao_session"]
    home = client.get("/me")
    assert home.status_code == 200 and "test insured" in home.text
    assert session.scalar(select(func.count()).select_from(WebSession)) == 1

    out = client.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert 'yibao_session=""' in _cookie(out, "yibao_session")
    assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    # the old cookie is worth nothing now: the session is gone from the server
    client.cookies.set("yibao_session", token)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_sign_in_returns_to_the_page_asked_for_and_only_on_this_site(
    client: TestClient, insured: WebUser, sign_in: SignIn
) -> None:
    assert sign_in("wang", next="/me/settlements").headers["location"] == "/me/settlements"
    client.cookies.clear()
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert sign_in("wang", next=elsewhere).headers["location"] == "/me"
        client.cookies.clear()


def test_the_cookies_are_secure_over_https(app: Any, insured: WebUser) -> None:
    with TestClient(app, base_url="https://testserver") as https:
        form = https.get("/login")
        response = https.post(
            "/login",
            data={"login": "wang", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    assert response.status_code == 303
    for cookie in (_cookie(form, "yibao_csrf"), _cookie(response, "yibao_session")):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    client: TestClient, insured: WebUser, sign_in: SignIn, session: Session
) -> None:
    wrong = sign_in("wang", "not the password")
    unknown = sign_in("nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.text and WRONG in unknown.text
    assert "yibao_session" not in client.cookies

    def page(response: Any, login: str) -> str:
        return response.text.replace(csrf_of(response.text), "").replace(login, "")

    assert page(wrong, "wang") == page(unknown, "nobody-here")
    session.refresh(insured.auth.user)
    assert insured.auth.user.failed_logins == 1


def test_five_failures_lock_the_account_for_15_minutes(
    client: TestClient, insured: WebUser, sign_in: SignIn, session: Session
) -> None:
    before = datetime.now(UTC)
    answers = [sign_in("wang", f"wrong {n}") for n in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert LOCKED in answers[-1].text
    # even the right password is refused while locked, with the same clear message
    right = sign_in("wang")
    assert right.status_code == 429 and LOCKED in right.text
    assert 14 * 60 < int(right.headers["Retry-After"]) <= 15 * 60
    assert "yibao_session" not in client.cookies
    user = session.get(User, insured.id)
    assert user is not None and user.locked_until is not None
    until = user.locked_until if user.locked_until.tzinfo else user.locked_until.replace(tzinfo=UTC)
    assert before + timedelta(minutes=15) <= until <= datetime.now(UTC) + timedelta(minutes=15)

    # a name nobody holds locks the same way: the answers say nothing about who exists
    ghost = [sign_in("ghost-of-wang", f"wrong {n}") for n in range(6)]
    assert [a.status_code for a in ghost] == [401, 401, 401, 401, 429, 429]
    assert LOCKED in ghost[-1].text


def test_the_lock_ends_after_15_minutes_and_a_new_password_lifts_it(
    session: Session, insured: WebUser
) -> None:
    start = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
    for n in range(5):
        passwords.sign_in(session, login="wang", password=f"wrong {n}", now=start)
    locked = passwords.sign_in(session, login="wang", password=PASSWORD, now=start)
    assert locked.outcome is passwords.SignInOutcome.LOCKED
    still = passwords.sign_in(
        session, login="wang", password=PASSWORD, now=start + timedelta(minutes=14)
    )
    assert still.outcome is passwords.SignInOutcome.LOCKED
    later = passwords.sign_in(
        session, login="wang", password=PASSWORD, now=start + timedelta(minutes=15, seconds=1)
    )
    assert later.outcome is passwords.SignInOutcome.SIGNED_IN and later.user is not None

    for n in range(5):
        passwords.sign_in(session, login="wang", password=f"wrong {n}", now=start)
    set_password(session, user_id=insured.id, password="a new password", actor=None)
    again = passwords.sign_in(session, login="WANG ", password="a new password", now=start)
    assert again.outcome is passwords.SignInOutcome.SIGNED_IN


def test_passwords_are_argon2_hashes_with_the_normal_parameters(
    session: Session, insured: WebUser
) -> None:
    user = session.get(User, insured.id)
    assert user is not None and user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert "m=65536,t=3,p=4" in user.password_hash


def test_no_sign_in_when_inactive_and_no_password_without_a_login(
    client: TestClient,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    sign_in: SignIn,
    session: Session,
) -> None:
    user = make_web_user("agency", "reviewer")
    user.auth.user.active = False
    session.commit()
    assert sign_in("reviewer").status_code == 401
    token_only = make_user("admin")
    with pytest.raises(ValidationFailed, match="no login yet"):
        set_password(session, user_id=token_only.user.id, password=PASSWORD, actor=None)


def test_a_new_password_must_be_long_enough_and_the_login_free(
    session: Session, insured: WebUser, make_web_user: MakeWebUser
) -> None:
    with pytest.raises(ValidationFailed, match="at least 8 characters"):
        set_password(session, user_id=insured.id, password="short", actor=None)
    other = make_web_user("insured", "li", person_id=insured.auth.user.person_id)
    with pytest.raises(ValidationFailed, match="taken"):
        set_password(session, user_id=other.id, password=PASSWORD, login="wang", actor=None)
    with pytest.raises(ValidationFailed, match="a login is"):
        set_password(session, user_id=other.id, password=PASSWORD, login="王", actor=None)


def test_every_post_needs_the_forms_token(
    client: TestClient, insured: WebUser, sign_in: SignIn, session: Session
) -> None:
    client.get("/login")
    for data in ({}, {"csrf_token": "forged"}):
        refused = client.post(
            "/login", data={"login": "wang", "password": PASSWORD, **data}, follow_redirects=False
        )
        assert refused.status_code == 403
        assert "无权访问" in refused.text and "web.csrf" in refused.text
        assert "yibao_session" not in client.cookies
    session.refresh(insured.auth.user)
    assert insured.auth.user.failed_logins == 0  # refused before the password was looked at

    sign_in("wang")
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/me").status_code == 200  # still signed in
    # the token from the signed-in page, here as htmx sends it (a header)
    token = csrf_of(client.get("/me").text)
    out = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert out.status_code == 303


def test_the_token_before_signing_in_is_not_the_token_after(
    client: TestClient, insured: WebUser, sign_in: SignIn
) -> None:
    anonymous = csrf_of(client.get("/login").text)
    sign_in("wang")
    signed_in = csrf_of(client.get("/me").text)
    assert anonymous != signed_in


def test_an_expired_session_signs_nobody_in(
    client: TestClient, insured: WebUser, sign_in: SignIn, session: Session
) -> None:
    sign_in("wang")
    row = session.scalars(select(WebSession)).one()
    assert row.expires_at.replace(tzinfo=UTC) - row.created_at.replace(tzinfo=UTC) == timedelta(
        hours=8
    )
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    response = client.get("/me", follow_redirects=False)
    assert response.status_code == 303
    assert 'yibao_session=""' in _cookie(response, "yibao_session")  # the stale cookie goes


def test_set_password_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["users", "create", "--role", "admin"]).exit_code == 0

    first = runner.invoke(cli, ["users", "set-password", "1", "--password-stdin"], input="x\n")
    assert first.exit_code == 2 and "user.password_invalid" in first.stderr
    assert "no login yet" in first.stderr and "at least 8" in first.stderr
    done = runner.invoke(
        cli,
        ["users", "set-password", "1", "--login", "Root", "--password-stdin"],
        input="long enough secret\n",
    )
    assert done.exit_code == 0, done.output
    assert "signs in as 'root'" in done.stderr
    prompted = runner.invoke(
        cli, ["users", "set-password", "1"], input="another secret\nanother secret\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "another secret" not in prompted.stdout

    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            now = datetime.now(UTC)
            result = passwords.sign_in(session, login="root", password="another secret", now=now)
            assert result.outcome is passwords.SignInOutcome.SIGNED_IN
    finally:
        engine.dispose()
