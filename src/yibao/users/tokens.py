"""The life of users' bearer tokens: issue, rotate, revoke, list (``yibao users token``).

A user holds one token at a time (``users.token_id`` and ``token_hash``, checked by
:mod:`yibao.auth.tokens`). Issuing or rotating makes a new one, shown once and stored only
as a hash; the one it replaces stops working at once. Each change is written in the audit
log with the token's public id (``token_id``), never the token: together with the entries'
``actor_user_id`` they tell which token acted when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.auth.models import User
from yibao.auth.tokens import TokenState, new_token, token_expires_at, token_state
from yibao.clock import as_utc
from yibao.errors import Conflict, ValidationFailed
from yibao.users.service import IssuedToken, get_user, list_users

MAX_LIFETIME = timedelta(days=3650)
_LIFETIME = re.compile(r"\s*(\d{1,6})\s*([dhm]?)\s*")
_UNITS = {"d": "days", "": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the operator sees of a token (never the token or its hash)."""

    user_id: int
    role: str
    name: str
    active: bool
    token_id: str
    state: TokenState
    issued_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    rotated_from: str | None


def parse_lifetime(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m`` or a number of days, at most ten years."""
    found = _LIFETIME.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise ValidationFailed(
            f"a token's lifetime reads like 90d, 12h or 30m (a positive number), not {text!r}",
            code="token.lifetime_invalid",
        )
    lifetime = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if lifetime > MAX_LIFETIME:
        raise ValidationFailed(
            f"a token lives at most {MAX_LIFETIME.days} days, not {text!r}",
            code="token.lifetime_invalid",
        )
    return lifetime


def info(user: User, *, now: datetime) -> TokenInfo:
    def at(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return TokenInfo(
        user_id=user.id,
        role=user.role,
        name=user.name,
        active=user.active,
        token_id=user.token_id,
        state=token_state(user, now=now),
        issued_at=at(user.token_issued_at),
        expires_at=token_expires_at(user),
        revoked_at=at(user.token_revoked_at),
        last_used_at=at(user.token_last_used_at),
        rotated_from=user.token_rotated_from,
    )


def list_tokens(session: Session, *, now: datetime | None = None) -> list[TokenInfo]:
    at = now or datetime.now(UTC)
    return [info(user, now=at) for user in list_users(session)]


def set_token_expiry(
    session: Session, *, user: User, expires_in: timedelta | None, now: datetime | None = None
) -> None:
    """Give ``user``'s present token an expiry ``expires_in`` from now (None: the default)."""
    at = now or datetime.now(UTC)
    user.token_expires_at = at + expires_in if expires_in is not None else None
    session.flush()


def issue_token(
    session: Session,
    *,
    user_id: int,
    expires_in: timedelta | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new token for a user whose token is revoked or expired (a valid one is rotated
    instead, so that replacing it is a deliberate act)."""
    at = now or datetime.now(UTC)
    user = get_user(session, user_id=user_id)
    if token_state(user, now=at) is TokenState.VALID:
        raise Conflict(
            f"user {user.id} holds a valid token ({user.token_id}); rotate it to replace "
            "it, or revoke it first",
            code="token.still_valid",
        )
    return _replace(session, user, expires_in=expires_in, actor=actor, now=at, rotated=False)


def rotate_token(
    session: Session,
    *,
    user_id: int,
    expires_in: timedelta | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Replace a user's token by a new one; the old one stops working at once."""
    at = now or datetime.now(UTC)
    user = get_user(session, user_id=user_id)
    return _replace(session, user, expires_in=expires_in, actor=actor, now=at, rotated=True)


def revoke_token(
    session: Session, *, user_id: int, actor: Actor = None, now: datetime | None = None
) -> User:
    """End a user's token at once (a token already revoked stays as it was)."""
    at = now or datetime.now(UTC)
    user = get_user(session, user_id=user_id)
    if user.token_revoked_at is not None:
        return user
    before = {"token_id": user.token_id, "state": str(token_state(user, now=at))}
    user.token_revoked_at = at
    session.flush()
    record(
        session,
        actor=actor,
        action="user.token_revoked",
        entity="user",
        entity_id=user.id,
        before=before,
        after={"token_id": user.token_id, "state": str(TokenState.REVOKED)},
        at=at,
    )
    return user


def _replace(
    session: Session,
    user: User,
    *,
    expires_in: timedelta | None,
    actor: Actor,
    now: datetime,
    rotated: bool,
) -> IssuedToken:
    before = {"token_id": user.token_id, "state": str(token_state(user, now=now))}
    token_id, token, token_hash = new_token()
    user.token_rotated_from = user.token_id if rotated else None
    user.token_id = token_id
    user.token_hash = token_hash
    user.token_issued_at = now
    user.token_expires_at = now + expires_in if expires_in is not None else None
    user.token_revoked_at = None
    user.token_last_used_at = None
    session.flush()
    expires = token_expires_at(user)
    record(
        session,
        actor=actor,
        action="user.token_rotated" if rotated else "user.token_issued",
        entity="user",
        entity_id=user.id,
        before=before,
        after={
            "token_id": token_id,
            "expires_at": expires.isoformat() if expires is not None else None,
            "rotated_from": user.token_rotated_from,
        },
        at=now,
    )
    return IssuedToken(user=user, token=token)
