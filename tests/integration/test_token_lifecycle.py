"""Bearer tokens expire, are revoked and rotated; expired and revoked ones answer 401 saying
so (only to the holder of the real secret); the audit log names the token by its public id
and the user, never the token; web sessions end after an idle half hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser
from yibao.audit.models import AuditEntry
from yibao.auth import sessions
from yibao.auth.tokens import (
    LAST_USED_RESOLUTION,
    TokenState,
    authenticate,
    token_expires_at,
    token_state,
)
from yibao.errors import Conflict, Unauthorized, ValidationFailed
from yibao.limits import Limits
from yibao.users import tokens

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def refused(session: Session, token: str, *, now: datetime) -> str:
    with pytest.raises(Unauthorized) as raised:
        authenticate(session, token=token, now=now)
    return raised.value.code


def wrong_secret(token: str) -> str:
    prefix, token_id, _ = token.split("_", 2)
    return f"{prefix}_{token_id}_not-the-secret"


def test_a_token_lives_the_default_lifetime_from_its_issue(
    session: Session, make_user: MakeUser
) -> None:
    made = make_user("agency")
    user = made.user
    assert user.token_issued_at is not None and user.token_expires_at is None
    issued = user.token_issued_at.replace(tzinfo=UTC)
    expires = token_expires_at(user)
    assert expires == issued + timedelta(days=90)
    assert authenticate(session, token=made.token, now=issued + timedelta(days=89)) is user
    after = issued + timedelta(days=90, seconds=1)
    assert refused(session, made.token, now=after) == "auth.token_expired"
    # someone without the secret learns nothing about the token's life
    assert refused(session, wrong_secret(made.token), now=after) == "auth.invalid_token"
    # a shorter default shortens every token issued without an expiry of its own
    assert token_expires_at(user, Limits(token_lifetime_days=7)) == issued + timedelta(days=7)


def test_rotation_issues_a_new_token_and_ends_the_old_one(
    session: Session, make_user: MakeUser
) -> None:
    made = make_user("hospital")
    old_id = made.user.token_id
    assert authenticate(session, token=made.token, now=NOW) is made.user
    rotated = tokens.rotate_token(
        session, user_id=made.user.id, expires_in=timedelta(days=30), actor="cli", now=NOW
    )
    assert rotated.token != made.token and rotated.token.startswith("yb_")
    user = rotated.user
    assert user.token_rotated_from == old_id and user.token_id != old_id
    assert token_expires_at(user) == NOW + timedelta(days=30)
    assert refused(session, made.token, now=NOW) == "auth.invalid_token"  # at once
    assert authenticate(session, token=rotated.token, now=NOW) is user
    assert refused(session, rotated.token, now=NOW + timedelta(days=31)) == "auth.token_expired"


def test_revocation_ends_a_token_and_a_new_one_can_be_issued(
    session: Session, make_user: MakeUser
) -> None:
    made = make_user("agency")
    with pytest.raises(Conflict) as still_valid:
        tokens.issue_token(session, user_id=made.user.id, actor="cli", now=NOW)
    assert still_valid.value.code == "token.still_valid"
    tokens.revoke_token(session, user_id=made.user.id, actor="cli", now=NOW)
    assert token_state(made.user, now=NOW) is TokenState.REVOKED
    assert refused(session, made.token, now=NOW) == "auth.token_revoked"
    assert refused(session, wrong_secret(made.token), now=NOW) == "auth.invalid_token"
    tokens.revoke_token(session, user_id=made.user.id, actor="cli", now=NOW)  # no-op
    fresh = tokens.issue_token(
        session, user_id=made.user.id, expires_in=timedelta(hours=12), actor="cli", now=NOW
    )
    assert fresh.user.token_rotated_from is None and fresh.user.token_revoked_at is None
    assert authenticate(session, token=fresh.token, now=NOW + timedelta(hours=11)) is made.user
    late = NOW + timedelta(hours=12)
    assert refused(session, fresh.token, now=late) == "auth.token_expired"


def test_the_audit_log_names_tokens_by_id_never_by_their_text(
    session: Session, make_user: MakeUser
) -> None:
    made = make_user("admin")
    first_id = made.user.token_id
    rotated = tokens.rotate_token(session, user_id=made.user.id, actor="cli", now=NOW)
    tokens.revoke_token(session, user_id=made.user.id, actor="cli", now=NOW)
    fresh = tokens.issue_token(session, user_id=made.user.id, actor="cli", now=NOW)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "user", AuditEntry.entity_id == str(made.user.id))
        .order_by(AuditEntry.id)
    ).all()
    actions = [e.action for e in entries]
    assert actions[-3:] == ["user.token_rotated", "user.token_revoked", "user.token_issued"]
    rotation = entries[-3]
    assert rotation.before == {"token_id": first_id, "state": "valid"}
    assert rotation.after is not None
    assert rotation.after["token_id"] == entries[-2].before["token_id"]  # the one revoked
    assert rotation.after["rotated_from"] == first_id
    text = " ".join(str((e.actor, e.before, e.after)) for e in entries)
    for token in (made.token, rotated.token, fresh.token):
        assert token.split("_", 2)[2] not in text


def test_last_use_is_recorded_to_the_hour(session: Session, make_user: MakeUser) -> None:
    made = make_user("unit")
    assert made.user.token_last_used_at is None
    authenticate(session, token=made.token, now=NOW)
    session.expire_all()
    assert made.user.token_last_used_at is not None
    assert made.user.token_last_used_at.replace(tzinfo=UTC) == NOW
    authenticate(session, token=made.token, now=NOW + LAST_USED_RESOLUTION / 2)
    session.expire_all()
    assert made.user.token_last_used_at.replace(tzinfo=UTC) == NOW  # not rewritten
    later = NOW + LAST_USED_RESOLUTION + timedelta(seconds=1)
    authenticate(session, token=made.token, now=later)
    session.expire_all()
    assert made.user.token_last_used_at.replace(tzinfo=UTC) == later


def test_list_shows_states_never_tokens(session: Session, make_user: MakeUser) -> None:
    kept, revoked = make_user("agency"), make_user("hospital")
    tokens.revoke_token(session, user_id=revoked.user.id, actor="cli", now=NOW)
    listed = {row.user_id: row for row in tokens.list_tokens(session, now=NOW)}
    assert listed[kept.user.id].state is TokenState.VALID
    assert listed[revoked.user.id].state is TokenState.REVOKED
    assert listed[revoked.user.id].revoked_at == NOW
    assert kept.token.split("_", 2)[2] not in repr(listed)


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [
        ("90d", timedelta(days=90)),
        ("90", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        (" 30m ", timedelta(minutes=30)),
        ("3650d", timedelta(days=3650)),
    ],
)
def test_lifetimes_read(text: str, lifetime: timedelta) -> None:
    assert tokens.parse_lifetime(text) == lifetime


@pytest.mark.parametrize("text", ["", "0d", "-5d", "1y", "3651d", "ninety", "1.5d"])
def test_lifetimes_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        tokens.parse_lifetime(text)
    assert raised.value.code == "token.lifetime_invalid"


# --- over HTTP ---------------------------------------------------------------------------


def test_expired_and_revoked_tokens_answer_401_saying_so(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    made = make_user("agency")
    url = "/api/v1/regions"
    assert client.get(url, headers={"Authorization": f"Bearer {made.token}"}).status_code == 200
    made.user.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    session.commit()
    expired = client.get(url, headers={"Authorization": f"Bearer {made.token}"})
    assert expired.status_code == 401
    assert expired.headers["content-type"].startswith("application/problem+json")
    assert expired.headers["WWW-Authenticate"] == "Bearer"
    assert expired.json()["code"] == "auth.token_expired"
    assert "expired" in expired.json()["detail"]
    other = make_user("hospital")
    tokens.revoke_token(session, user_id=other.user.id, actor="cli")
    session.commit()
    revoked = client.get(url, headers={"Authorization": f"Bearer {other.token}"})
    assert revoked.status_code == 401 and revoked.json()["code"] == "auth.token_revoked"


def test_a_write_is_audited_under_the_user_and_never_with_the_token(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    admin = make_user("admin")
    answer = client.post(
        "/api/v1/regions",
        json={"code": "469100", "name": "测试区"},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.actor_user_id == admin.user.id)
    ).all()
    assert [e.entity_id for e in entries] == ["469100"]  # the write, under the user's id
    secret = admin.token.split("_", 2)[2]
    assert all(secret not in str((e.actor, e.before, e.after)) for e in entries)


# --- web sessions ------------------------------------------------------------------------


def test_a_web_session_ends_after_an_idle_half_hour_and_a_working_day(
    session: Session, make_user: MakeUser
) -> None:
    user = make_user("agency").user
    started = sessions.start_session(session, user=user, now=NOW)
    token = started.token
    at = NOW
    # active every 25 minutes: the session lives on, to its absolute end
    while at + timedelta(minutes=25) < NOW + sessions.SESSION_LIFETIME:
        at += timedelta(minutes=25)
        assert sessions.session_user(session, token=token, now=at) is not None, at
    assert sessions.session_user(session, token=token, now=NOW + sessions.SESSION_LIFETIME) is None
    # idle for half an hour: ended
    other = sessions.start_session(session, user=user, now=NOW)
    assert sessions.session_user(session, token=other.token, now=NOW + timedelta(minutes=29))
    idle = NOW + timedelta(minutes=29) + sessions.SESSION_IDLE
    assert sessions.session_user(session, token=other.token, now=idle) is None
