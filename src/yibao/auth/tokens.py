"""Bearer tokens: issued once, stored as argon2 hashes, checked on every request; they
expire, and can be revoked and rotated.

A token reads ``yb_<token_id>_<secret>``: the id finds the row, the secret is checked
against an argon2 hash. The token is shown once, at creation or rotation; only the hash is
stored (``users.token_hash``; one token per user). Tokens are long random strings, so
argon2 runs with light parameters (each request verifies one), and a verified token is
remembered in-process against the stored hash, so a new hash (rotation) or a deactivated
user takes effect at once.

A token's life (:func:`token_state`): it expires at ``token_expires_at``, or, when that is
None, ``YIBAO_LIMIT_TOKEN_LIFETIME_DAYS`` after ``token_issued_at``; ``token_revoked_at``
ends it at once. An expired or revoked token answers 401 ``auth.token_expired`` or
``auth.token_revoked`` — only after its secret was verified, so the answer tells nothing to
someone who does not hold the token; any other failure is ``auth.invalid_token``, whether
the id exists or not.

Failed checks are counted (:mod:`yibao.auth.ratelimit`) per client address and per token;
past the limit, 429 comes before a hash is checked (for the address, before the database is
read). A token this process has verified before is not held back by the counts, so a
guesser cannot lock out the holder of a good token.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yibao.auth.models import User
from yibao.auth.ratelimit import Key, record_failure, refuse_if_limited
from yibao.clock import as_utc
from yibao.errors import Unauthorized
from yibao.limits import Limits, active_limits

_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_VERIFIED: dict[str, str] = {}
_log = logging.getLogger("yibao.auth")

LAST_USED_RESOLUTION = timedelta(hours=1)
"""``token_last_used_at`` is written at most this often per token (a write per request
would make every read a write)."""


class TokenState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


def new_token() -> tuple[str, str, str]:
    """A fresh ``(token_id, token, token_hash)``: the token is shown once, the hash kept."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, f"yb_{token_id}_{secret}", _HASHER.hash(secret)


def token_expires_at(user: User, limits: Limits | None = None) -> datetime | None:
    """When ``user``'s token expires (None: issued before anyone recorded it — never)."""
    if user.token_expires_at is not None:
        return as_utc(user.token_expires_at)
    if user.token_issued_at is None:
        return None
    lifetime = timedelta(days=(limits or active_limits()).token_lifetime_days)
    return as_utc(user.token_issued_at) + lifetime


def token_state(user: User, *, now: datetime, limits: Limits | None = None) -> TokenState:
    if user.token_revoked_at is not None:
        return TokenState.REVOKED
    expires = token_expires_at(user, limits)
    if expires is not None and expires <= now:
        return TokenState.EXPIRED
    return TokenState.VALID


def _invalid() -> Unauthorized:
    return Unauthorized("unknown or inactive token", code="auth.invalid_token")


def authenticate(
    session: Session, *, token: str, client: str | None = None, now: datetime | None = None
) -> User:
    """The active user holding ``token``, or ``Unauthorized``; ``TooManyAttempts`` when
    ``client`` (the caller's address) or the token's account failed too often."""
    at = now or datetime.now(UTC)
    address = Key.address(client) if client else None
    digest = hashlib.sha256(token.encode()).hexdigest()
    # A token this process verified before is not held back by the counts: the refusals are
    # for guesses, and must not lock out a holder who shares an address or an account with
    # the guesser. (The row is still read: a rotated or revoked token fails below.)
    proven = digest in _VERIFIED
    if not proven:
        refuse_if_limited(address)
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "yb":
        record_failure(address)
        raise Unauthorized("malformed bearer token", code="auth.invalid_token")
    _, token_id, secret = parts
    account = Key.account(f"token:{token_id[:32]}")
    user = session.scalars(select(User).where(User.token_id == token_id)).one_or_none()
    if user is None or not user.active:
        record_failure(address, account)
        raise _invalid()
    if _VERIFIED.get(digest) != user.token_hash:
        refuse_if_limited(address, account)  # before the hash is checked: a refusal is cheap
        try:
            _HASHER.verify(user.token_hash, secret)
        except (VerificationError, InvalidHashError):
            record_failure(address, account)
            raise _invalid() from None
        if len(_VERIFIED) > 10_000:
            _VERIFIED.clear()
        _VERIFIED[digest] = user.token_hash
    state = token_state(user, now=at)
    if state is TokenState.REVOKED:
        record_failure(address, account)
        raise Unauthorized(
            "this token was revoked; ask the operator for a new one", code="auth.token_revoked"
        )
    if state is TokenState.EXPIRED:
        record_failure(address, account)
        raise Unauthorized(
            "this token has expired; ask the operator for a new one", code="auth.token_expired"
        )
    _note_use(session, user, at)
    return user


def _note_use(session: Session, user: User, now: datetime) -> None:
    """Record the token's use (to the hour) in the request's transaction, in a savepoint: a
    record that cannot be written (SQLite busy) is skipped rather than failing the request."""
    last = user.token_last_used_at
    if last is not None and as_utc(last) > now - LAST_USED_RESOLUTION:
        return
    try:
        with session.begin_nested():
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(token_last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except DBAPIError as error:  # SQLite busy, a read-only transaction: skipped
        _log.info("token use of user %s not recorded: %s", user.id, error.orig)
        return
    set_committed_value(user, "token_last_used_at", now)  # the row says so already
