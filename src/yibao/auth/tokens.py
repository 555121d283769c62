"""Bearer tokens: issued once, stored as argon2 hashes, checked on every request.

A token reads ``yb_<token_id>_<secret>``: the id finds the row, the secret is checked
against an argon2 hash. The token is shown once, at creation; only the hash is stored.
Tokens are long random strings, so argon2 runs with light parameters (each request
verifies one), and a verified token is remembered in-process against the stored hash,
so changing a user's hash or deactivating them takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Unauthorized

_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_VERIFIED: dict[str, str] = {}


def new_token() -> tuple[str, str, str]:
    """A fresh ``(token_id, token, token_hash)``: the token is shown once, the hash kept."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, f"yb_{token_id}_{secret}", _HASHER.hash(secret)


def authenticate(session: Session, *, token: str) -> User:
    """The active user holding ``token``, or ``Unauthorized``."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "yb":
        raise Unauthorized("malformed bearer token", code="auth.invalid_token")
    _, token_id, secret = parts
    user = session.scalars(select(User).where(User.token_id == token_id)).one_or_none()
    if user is None or not user.active:
        raise Unauthorized("unknown or inactive token", code="auth.invalid_token")
    digest = hashlib.sha256(token.encode()).hexdigest()
    if _VERIFIED.get(digest) == user.token_hash:
        return user
    try:
        _HASHER.verify(user.token_hash, secret)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("unknown or inactive token", code="auth.invalid_token") from None
    if len(_VERIFIED) > 10_000:
        _VERIFIED.clear()
    _VERIFIED[digest] = user.token_hash
    return user
