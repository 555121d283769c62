"""Exactly once (幂等): every money-moving request carries an ``Idempotency-Key``.

The key is claimed (inserted) in the same transaction as the change it guards and the
response is stored there too, so either both the change and its answer are committed or
neither is. A retry with the same key and the same request gets the first response back
byte for byte and changes nothing; the same key with a different request is a conflict.
Two requests racing with one key: the second one's insert waits for the first transaction
(unique index) and then finds the stored answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibao.errors import Conflict, ValidationFailed
from yibao.settlements.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: str
    replayed: bool


def request_hash(method: str, path: str, payload: Any) -> str:
    """A stable digest of what was asked: method, path and the canonical JSON body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ValidationFailed(
            f"this request moves money and needs an {HEADER} header",
            code="idempotency.key_required",
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters",
            code="idempotency.key_invalid",
        )
    return key


_KEYS = IdempotencyKey.__table__
assert isinstance(_KEYS, Table)
_CLAIM = {
    name: dialect.insert(_KEYS)
    .values(user_id=bindparam("user_id"), key=bindparam("key"), request_hash=bindparam("digest"))
    .on_conflict_do_nothing(index_elements=["user_id", "key"])
    .returning(_KEYS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_EXISTING = select(_KEYS.c.request_hash, _KEYS.c.status_code, _KEYS.c.response).where(
    _KEYS.c.user_id == bindparam("user_id"), _KEYS.c.key == bindparam("key")
)
_ANSWER = (
    update(_KEYS)
    .where(_KEYS.c.user_id == bindparam("b_user_id"), _KEYS.c.key == bindparam("b_key"))
    .values(status_code=bindparam("b_status_code"), response=bindparam("b_response"))
)


def _claim(session: Session, *, user_id: int, key: str, digest: str) -> bool:
    """Insert the key; False when it was there already (possibly after waiting for it)."""
    stmt = _CLAIM.get(session.get_bind().dialect.name)
    if stmt is None:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(session.get_bind().dialect.name)
    params = {"user_id": user_id, "key": key, "digest": digest}
    return session.connection().execute(stmt, params).first() is not None


def _existing(session: Session, *, user_id: int, key: str, digest: str) -> StoredResponse:
    row = session.connection().execute(_EXISTING, {"user_id": user_id, "key": key}).one()
    if row.request_hash != digest:
        raise Conflict(
            f"{HEADER} {key!r} was used for a different request",
            code="idempotency.key_reused",
        )
    if row.response is None or row.status_code is None:
        raise Conflict(
            f"a request with {HEADER} {key!r} is still in progress",
            code="idempotency.in_progress",
        )
    return StoredResponse(row.status_code, row.response, replayed=True)


def run_once(
    session: Session,
    *,
    user_id: int,
    key: str,
    digest: str,
    operation: Callable[[], tuple[int, str]],
) -> StoredResponse:
    """Run ``operation`` (returning status and JSON body) at most once per (user, key).

    The caller owns the transaction; nothing here commits.
    """
    if not _claim(session, user_id=user_id, key=key, digest=digest):
        return _existing(session, user_id=user_id, key=key, digest=digest)
    status_code, body = operation()
    session.connection().execute(
        _ANSWER,
        {"b_user_id": user_id, "b_key": key, "b_status_code": status_code, "b_response": body},
    )
    return StoredResponse(status_code, body, replayed=False)
