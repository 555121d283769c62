"""Failed authentications are rate-limited per client address and per account: past the
limit, 429 with ``Retry-After``, decided before any argon2 check; a token already proven
in this process is not locked out by someone else's guesses; the pages' sign-in shares the
address count."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser
from yibao.api.app import create_app
from yibao.auth import passwords, ratelimit, tokens
from yibao.auth.deps import get_session
from yibao.config import Settings
from yibao.limits import PROBLEM, Limits, use_limits
from yibao.users import service as users_service

ME = "/api/v1/regions"  # any route for a signed-in caller
WINDOW = 300


class Counted:
    """Counts the calls of an argon2 verification it wraps."""

    def __init__(self, verify: Callable[..., Any]) -> None:
        self.verify = verify
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.verify(*args, **kwargs)


class CountingHasher:
    """The tokens' argon2 hasher, its verifications counted."""

    def __init__(self, hasher: Any) -> None:
        self.hash = hasher.hash
        self.verify = Counted(hasher.verify)


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> Counted:
    hasher = CountingHasher(tokens._HASHER)
    monkeypatch.setattr(tokens, "_HASHER", hasher)
    return hasher.verify


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The windows' clock, moved by the test."""
    now = {"t": 1_000.0}
    monkeypatch.setattr(ratelimit, "clock", lambda: now["t"])
    return now


@pytest.fixture
def client_with(
    settings: Settings, engine: Engine, session: Session
) -> Iterator[Callable[..., TestClient]]:
    """``client_with(address, **limits)``: a client calling from ``address``, of an app with
    those limits; every client made in one test shares that app (and so its counts)."""
    apps: dict[str, Any] = {}
    opened: list[TestClient] = []

    def _make(address: str = "198.51.100.7", **limits: Any) -> TestClient:
        if "app" not in apps:
            application = create_app(
                settings.model_copy(update={"limits": Limits(**limits)}), engine=engine
            )

            def _test_session() -> Iterator[Session]:
                session.commit()
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise

            application.dependency_overrides[get_session] = _test_session
            apps["app"] = application
        test_client = TestClient(apps["app"], client=(address, 50000))
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield _make
    for test_client in opened:
        test_client.__exit__(None, None, None)
    use_limits(Limits())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wrong_secret(token: str, n: int) -> str:
    prefix, token_id, _ = token.split("_", 2)
    return f"{prefix}_{token_id}_wrong-secret-{n:04d}"


def assert_too_many(response: Any, *, limit: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == "auth.too_many_failures" and problem["status"] == 429
    assert problem["limit"] == limit
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= WINDOW
    assert problem["retry_after"] == retry_after
    return retry_after


def test_300_wrong_tokens_meet_429_after_the_limit_and_cost_no_argon2(
    client: TestClient, users: dict[str, AuthUser], argon2_checks: Counted, clock: dict[str, float]
) -> None:
    """The issue's attack: 300 wrong tokens for one account from one address."""
    victim = users["agency"].token
    answers = [client.get(ME, headers=bearer(wrong_secret(victim, n))) for n in range(300)]
    statuses = [a.status_code for a in answers]
    limit = Limits().auth_failures_per_account
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429] * (300 - limit)
    assert answers[0].json()["code"] == "auth.invalid_token"
    assert_too_many(answers[-1], limit="auth_failures_per_account")
    assert argon2_checks.calls == limit  # the 290 refusals checked no hash


def test_unknown_tokens_from_one_address_meet_429_at_the_address_limit(
    client_with: Callable[..., TestClient], argon2_checks: Counted, clock: dict[str, float]
) -> None:
    client = client_with(auth_failures_per_address=20, auth_window_seconds=WINDOW)
    statuses = [client.get(ME, headers=bearer(f"yb_{n:016x}_guess")).status_code for n in range(60)]
    assert statuses == [401] * 20 + [429] * 40
    malformed = client.get(ME, headers=bearer("not-a-token"))
    assert_too_many(malformed, limit="auth_failures_per_address")
    # another address is not concerned
    other = client_with("203.0.113.9")
    assert other.get(ME, headers=bearer("yb_0000000000000000_x")).status_code == 401
    assert argon2_checks.calls == 0


def test_the_window_passes_and_retry_after_says_when(
    client_with: Callable[..., TestClient],
    make_user: MakeUser,
    argon2_checks: Counted,
    clock: dict[str, float],
) -> None:
    client = client_with(auth_failures_per_account=3, auth_window_seconds=WINDOW)
    user = make_user("agency")
    for n in range(3):
        assert client.get(ME, headers=bearer(wrong_secret(user.token, n))).status_code == 401
        clock["t"] += 10  # failures at 1000, 1010, 1020
    refused = client.get(ME, headers=bearer(wrong_secret(user.token, 9)))
    # the first failure leaves the window at 1300; it is 1030 now
    assert assert_too_many(refused, limit="auth_failures_per_account") == 270
    # the right token, never verified in this process, is held back too: a refusal comes
    # before any hash is checked
    assert client.get(ME, headers=bearer(user.token)).status_code == 429
    assert argon2_checks.calls == 3
    clock["t"] = 1_300.5
    answer = client.get(ME, headers=bearer(user.token))
    assert answer.status_code == 200, answer.text
    assert argon2_checks.calls == 4


def test_a_proven_token_is_not_locked_out_by_guesses_at_it(
    client_with: Callable[..., TestClient],
    make_user: MakeUser,
    argon2_checks: Counted,
    clock: dict[str, float],
) -> None:
    holder = client_with("192.0.2.10", auth_failures_per_account=5, auth_failures_per_address=5)
    guesser = client_with("192.0.2.66")
    user = make_user("hospital")
    assert holder.get(ME, headers=bearer(user.token)).status_code == 200
    checks = argon2_checks.calls
    statuses = [
        guesser.get(ME, headers=bearer(wrong_secret(user.token, n))).status_code for n in range(12)
    ]
    assert statuses == [401] * 5 + [429] * 7
    assert argon2_checks.calls == checks + 5
    # the guesser's address is refused even with the right token; the holder goes on
    assert guesser.get(ME, headers=bearer(wrong_secret(user.token, 99))).status_code == 429
    assert holder.get(ME, headers=bearer(user.token)).status_code == 200


def test_the_pages_sign_in_shares_the_address_count_and_stays_cheap(
    client_with: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
    clock: dict[str, float],
) -> None:
    checks = Counted(passwords._verify)
    monkeypatch.setattr(passwords, "_verify", checks)
    client = client_with("198.51.100.20", auth_failures_per_address=6)
    # wrong bearer tokens first: they count for this address too
    for n in range(2):
        assert client.get(ME, headers=bearer(f"yb_{n:016x}_guess")).status_code == 401
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    form = {"csrf_token": found.group(1)}
    answers = [
        client.post("/login", data={**form, "login": f"nobody{n}", "password": "wrong-password"})
        for n in range(8)
    ]
    # names nobody holds (each under the account lockout's five), so only the address counts
    assert [a.status_code for a in answers] == [401] * 4 + [429] * 4
    assert checks.calls == 4  # the refused ones checked no password
    # the page says it is this address that waits (no account is locked), and until when
    refused = answers[-1]
    assert "失败次数过多：请等待几分钟后再试。" in refused.text
    assert "该账号已锁定" not in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW
    assert client.get(ME, headers=bearer("yb_0000000000000001_guess")).status_code == 429


def test_the_account_lockout_of_passwords_stays(session: Session, make_user: MakeUser) -> None:
    from datetime import UTC, datetime

    user = make_user("agency").user
    users_service.set_password(
        session, user_id=user.id, password="a good password", login="zhao", actor=None
    )
    now = datetime(2026, 6, 1, tzinfo=UTC)
    outcomes = [
        passwords.sign_in(session, login="zhao", password="wrong one!", now=now).outcome
        for _ in range(passwords.MAX_FAILED_LOGINS)
    ]
    assert outcomes[-1] is passwords.SignInOutcome.LOCKED
    right = passwords.sign_in(session, login="zhao", password="a good password", now=now)
    assert right.outcome is passwords.SignInOutcome.LOCKED


def test_the_counts_stay_bounded_under_many_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from yibao import limits as limits_module

    monkeypatch.setattr(limits_module, "MAX_KEYS", 20)
    counter = limits_module.FailureCounter()
    limits = Limits()
    for n in range(500):
        counter.failed(f"address:10.0.{n // 256}.{n % 256}", limit=5, limits=limits, now=1.0)
        assert len(counter._failures) <= 20
    # the newest are kept, and still counted
    assert counter.retry_after("address:10.0.1.243", limit=1, limits=limits, now=2.0) == 299
