"""Users and bearer tokens.

A token reads ``yb_<token_id>_<secret>``: the id finds the row, the secret is checked
against an argon2 hash. The token is shown once, at creation; only the hash is stored.
Tokens are long random strings, so argon2 runs with light parameters (each request
verifies one), and a verified token is remembered in-process against the stored hash,
so rotating or deactivating a user takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record, snapshot
from yibao.errors import NotFound, Unauthorized, ValidationFailed
from yibao.registry.models import Agency, Institution, Person, Region, Unit
from yibao.users.models import ROLES, User

_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_VERIFIED: dict[str, str] = {}
USER_FIELDS = (
    "name",
    "role",
    "person_id",
    "unit_id",
    "agency_id",
    "institution_id",
    "region_code",
    "active",
)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    user: User
    token: str


def _new_token() -> tuple[str, str, str]:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, f"yb_{token_id}_{secret}", _HASHER.hash(secret)


def _need(session: Session, model: type[object], key: object, what: str) -> None:
    if key is None or session.get(model, key) is None:
        raise ValidationFailed(f"{what} {key} does not exist", code="user.scope_unknown")


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    person_id: int | None = None,
    unit_id: int | None = None,
    agency_id: int | None = None,
    institution_id: int | None = None,
    region_code: str | None = None,
    actor: Actor = None,
) -> IssuedToken:
    """A new user with the scope its role needs; returns the token (shown once)."""
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role {role!r}; roles: {', '.join(ROLES)}", code="user.role_unknown"
        )
    if role == "insured":
        _need(session, Person, person_id, "person")
    elif role == "unit":
        _need(session, Unit, unit_id, "unit")
    elif role in ("street_office", "agency"):
        if agency_id is not None:
            agency = session.get(Agency, agency_id)
            if agency is None:
                raise ValidationFailed(
                    f"agency {agency_id} does not exist", code="user.scope_unknown"
                )
            region_code = region_code or agency.region_code
        _need(session, Region, region_code, "region")
    elif role == "hospital":
        _need(session, Institution, institution_id, "institution")
    token_id, token, token_hash = _new_token()
    user = User(
        name=name,
        role=role,
        token_id=token_id,
        token_hash=token_hash,
        person_id=person_id,
        unit_id=unit_id,
        agency_id=agency_id,
        institution_id=institution_id,
        region_code=region_code,
        active=True,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user.id,
        before=None,
        after=snapshot(user, USER_FIELDS),
    )
    return IssuedToken(user=user, token=token)


def rotate_token(session: Session, *, user_id: int, actor: Actor = None) -> IssuedToken:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user.not_found")
    token_id, token, token_hash = _new_token()
    user.token_id, user.token_hash = token_id, token_hash
    session.flush()
    record(
        session,
        actor=actor,
        action="user.token_rotated",
        entity="user",
        entity_id=user.id,
        before=None,
        after=None,
    )
    return IssuedToken(user=user, token=token)


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


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))
