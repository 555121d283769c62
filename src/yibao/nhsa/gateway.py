"""Gateway authentication as the platform does it (``x-tif-*`` headers).

A request carries ``x-tif-paasid`` (the institution's pass id), ``x-tif-timestamp`` (Unix
seconds), ``x-tif-nonce`` (a random string, used once) and ``x-tif-signature``: the
lower-case hex SHA-256 of the UTF-8 string timestamp + secret + nonce + timestamp. A stale
timestamp (more than :data:`MAX_SKEW` seconds from the server's clock), a nonce already used
under the pass id, an unknown or revoked pass id or a wrong signature is refused with a
clear reason; the nonce of an accepted request is recorded in the message's transaction,
and again after it when the message is refused (:func:`keep_nonce`), so the same headers
never pass twice.

Two statements per request, both built once: the credential with its user and
institution (one join; the revocation flag and the user's state are read there on every
request, so a revocation takes effect at once), and the nonce recorded by
``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the unique index (pass id, nonce) refuses
a used nonce, two requests racing with one nonce included (the second waits for the
first's transaction, then finds the row). The secret's AES-GCM decryption is kept in
process memory per pass id for as long as the stored ciphertext is the one read (the
statement reads it each time). Nonces older than twice the window, which can no longer
pass the timestamp check, are deleted at most once per :data:`PURGE_EVERY` seconds per
process, not on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.db import begin_for_writing
from yibao.errors import Unauthorized
from yibao.nhsa.credentials import decrypt_secret
from yibao.nhsa.models import GatewayCredential, UsedNonce
from yibao.registry.models import Institution

MAX_SKEW = 300  # seconds either way
HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")
# Expired nonces are deleted at most this often (seconds of the process's clock).
PURGE_EVERY = 60.0
# A used nonce is kept this long: older ones cannot pass the timestamp check anyway.
NONCE_KEPT = timedelta(seconds=2 * MAX_SKEW)


def signature(*, timestamp: str, secret: str, nonce: str) -> str:
    """SHA-256 (lower-case hex) of timestamp + secret + nonce + timestamp."""
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated institution and the user its credential acts as."""

    pass_id: str
    institution: Institution
    user: User
    nonce: str


class GatewayRefused(Unauthorized):
    code = "nhsa.gateway_refused"


# --- the statements, built once ---------------------------------------------------------

_CALLER = (
    select(GatewayCredential.secret_encrypted, GatewayCredential.active, User, Institution)
    .join(User, User.id == GatewayCredential.user_id)
    .join(Institution, Institution.id == GatewayCredential.institution_id)
    .where(GatewayCredential.pass_id == bindparam("pass_id"))
)
_NONCES = UsedNonce.__table__
assert isinstance(_NONCES, Table)
_RECORD_NONCE = {
    name: dialect.insert(_NONCES)
    .values(pass_id=bindparam("pass_id"), nonce=bindparam("nonce"), used_at=bindparam("used_at"))
    .on_conflict_do_nothing(index_elements=["pass_id", "nonce"])
    .returning(_NONCES.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_PURGE = delete(_NONCES).where(_NONCES.c.used_at < bindparam("before"))

# --- what one process remembers -----------------------------------------------------------

# pass id -> (platform key, stored ciphertext, secret): valid while both are the ones read.
_SECRETS: dict[str, tuple[str, str, str]] = {}
_MAX_SECRETS = 10_000
_purge_lock = threading.Lock()
_next_purge = 0.0
_monotonic = time.monotonic  # the process's clock; tests replace it


def _secret(pass_id: str, stored: str, secret_key: str) -> str | None:
    """The credential's secret, decrypted once per stored ciphertext (a new secret or a new
    platform key is decrypted anew); None when it cannot be read with this key."""
    known = _SECRETS.get(pass_id)
    if known is not None and known[0] == secret_key and known[1] == stored:
        return known[2]
    secret = decrypt_secret(stored, secret_key=secret_key)
    if secret is not None:
        if len(_SECRETS) >= _MAX_SECRETS:
            _SECRETS.clear()
        _SECRETS[pass_id] = (secret_key, stored, secret)
    return secret


def _record_nonce(session: Session, *, pass_id: str, nonce: str, now: datetime) -> bool:
    """Record the nonce; False when the database already holds it (a replay)."""
    stmt = _RECORD_NONCE.get(session.get_bind().dialect.name)
    if stmt is None:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(session.get_bind().dialect.name)
    params = {"pass_id": pass_id, "nonce": nonce, "used_at": now}
    return session.connection().execute(stmt, params).first() is not None


def _purge_due() -> bool:
    """True at most once per :data:`PURGE_EVERY` seconds in this process."""
    global _next_purge
    tick = _monotonic()
    with _purge_lock:
        if tick < _next_purge:
            return False
        _next_purge = tick + PURGE_EVERY
        return True


def purge_expired_nonces(session: Session, *, now: datetime) -> int:
    """Delete every pass id's nonces older than :data:`NONCE_KEPT`; how many were deleted."""
    result = session.connection().execute(_PURGE, {"before": now - NONCE_KEPT})
    return int(getattr(result, "rowcount", 0) or 0)


def keep_nonce(session: Session, *, pass_id: str, nonce: str, now: datetime) -> None:
    """Record a nonce again after the message's transaction was rolled back (a refused
    message's headers must not pass twice either); a nonce already there stays."""
    begin_for_writing(session)
    _record_nonce(session, pass_id=pass_id, nonce=nonce, now=now)


def authenticate(
    session: Session, *, headers: Mapping[str, str], secret_key: str, now: datetime
) -> Caller:
    """The caller of a request, its nonce recorded; :class:`GatewayRefused` otherwise."""
    values = {name: (headers.get(name) or "").strip() for name in HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise GatewayRefused(f"gateway: missing header(s) {', '.join(missing)}")
    pass_id, stamp, nonce, given = (values[name] for name in HEADERS)
    if not stamp.isdigit() or len(stamp) > 12:
        raise GatewayRefused(f"gateway: x-tif-timestamp {stamp!r} is not Unix seconds")
    skew = int(stamp) - int(now.timestamp())
    if abs(skew) > MAX_SKEW:
        raise GatewayRefused(
            f"gateway: x-tif-timestamp is {abs(skew)} s {'ahead of' if skew > 0 else 'behind'} "
            f"the server's clock (at most {MAX_SKEW} s allowed): stale or wrong clock"
        )
    if len(nonce) > 100 or not nonce.isprintable():
        raise GatewayRefused("gateway: x-tif-nonce must be 1 to 100 printable characters")
    # The credential, its user and its institution in one statement, read on every
    # request: a revoked credential or a deactivated user is refused at once.
    row = session.execute(_CALLER, {"pass_id": pass_id}).one_or_none()
    if row is None or not row.active:
        raise GatewayRefused(f"gateway: unknown or revoked x-tif-paasid {pass_id[:64]!r}")
    secret = _secret(pass_id, row.secret_encrypted, secret_key)
    if secret is None:
        raise GatewayRefused(
            "gateway: the credential cannot be read with the platform's secret key "
            "(was YIBAO_SECRET_KEY changed?); issue a new one"
        )
    expected = signature(timestamp=stamp, secret=secret, nonce=nonce)
    if not hmac.compare_digest(expected, given.lower()):
        raise GatewayRefused(
            "gateway: x-tif-signature does not match: expected the lower-case hex SHA-256 of "
            "timestamp + secret + nonce + timestamp"
        )
    user: User = row.User
    institution: Institution = row.Institution
    if not user.active:
        raise GatewayRefused(f"gateway: the user of x-tif-paasid {pass_id!r} is not active")
    # The unique index refuses a used nonce, also one that a concurrent request is
    # recording now (this insert waits for that transaction, then finds the row).
    if not _record_nonce(session, pass_id=pass_id, nonce=nonce, now=now):
        raise GatewayRefused(f"gateway: x-tif-nonce {nonce[:40]!r} was already used (replay)")
    if _purge_due():
        purge_expired_nonces(session, now=now)
    return Caller(pass_id, institution, user, nonce)
