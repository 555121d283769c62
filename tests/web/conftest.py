"""Fixtures of the pages' tests: users with passwords, signing in through the form, and a
check after every test that each message the pages asked for is in its catalog."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser
from yibao.users.service import set_password

PASSWORD = "correct horse 42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


def post_form(
    client: TestClient, page: str, action: str, data: dict[str, Any] | None = None
) -> Response:
    """Post a form of ``page`` (its CSRF token read from the page) to ``action``; the answer
    as it is (a 303 is not followed)."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


@dataclass
class WebUser:
    auth: AuthUser
    login: str
    password: str = PASSWORD

    @property
    def id(self) -> int:
        return self.auth.user.id


MakeWebUser = Callable[..., WebUser]


@pytest.fixture
def make_web_user(session: Session, make_user: MakeUser) -> MakeWebUser:
    """``make_web_user("insured", "wang")``: a user of that role (``make_user``'s scope
    keywords apply) who signs in as ``login`` with ``PASSWORD``."""

    def _make(role: str, login: str, **scope: Any) -> WebUser:
        auth = make_user(role, **scope)
        set_password(session, user_id=auth.user.id, password=PASSWORD, login=login, actor=None)
        session.commit()
        return WebUser(auth=auth, login=login)

    return _make


SignIn = Callable[..., Response]


@pytest.fixture
def sign_in(client: TestClient) -> SignIn:
    """Sign in through the form (GET the form for its token, then POST it)."""

    def _sign_in(login: str, password: str = PASSWORD, *, next: str = "/me") -> Response:
        token = csrf_of(client.get("/login").text)
        return client.post(
            "/login",
            data={"login": login, "password": password, "csrf_token": token, "next": next},
            follow_redirects=False,
        )

    return _sign_in


@pytest.fixture
def insured(make_web_user: MakeWebUser) -> WebUser:
    """王退休 (the world's Beijing retiree, account balance 1,234.56) with a password."""
    return make_web_user("insured", "wang")


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """The shared ``client``, and after the test a check that no page asked a catalog for a
    message it does not hold (the text of an untranslated message id would be on the page)."""
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client
    missing = {
        lang: sorted(catalog.missing)
        for lang, catalog in app.state.pages.translations.items()
        if catalog.missing
    }
    assert not missing, f"messages missing from the catalogs: {missing}"
