"""Gateway authentication as the platform does it (``x-tif-*`` headers).

A request carries ``x-tif-paasid`` (the institution's pass id), ``x-tif-timestamp`` (Unix
seconds), ``x-tif-nonce`` (a random string, used once) and ``x-tif-signature``: the
lower-case hex SHA-256 of the UTF-8 string timestamp + secret + nonce + timestamp. A stale
timestamp (more than :data:`MAX_SKEW` seconds from the server's clock), a nonce already used
under the pass id, an unknown or revoked pass id or a wrong signature is refused with a
clear reason; the nonce of an accepted request is recorded in the message's transaction,
and again after it when the message is refused (:func:`keep_nonce`), so the same headers
never pass twice.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Unauthorized
from yibao.nhsa.credentials import decrypt_secret
from yibao.nhsa.models import GatewayCredential, UsedNonce
from yibao.registry.models import Institution

MAX_SKEW = 300  # seconds either way
HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")


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


def keep_nonce(session: Session, *, pass_id: str, nonce: str, now: datetime) -> None:
    """Record a nonce again after the message's transaction was rolled back (a refused
    message's headers must not pass twice either); a nonce already there stays."""
    try:
        with session.begin_nested():
            session.add(UsedNonce(pass_id=pass_id, nonce=nonce, used_at=now))
    except IntegrityError:
        pass


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
    credential = session.scalar(
        select(GatewayCredential).where(GatewayCredential.pass_id == pass_id)
    )
    if credential is None or not credential.active:
        raise GatewayRefused(f"gateway: unknown or revoked x-tif-paasid {pass_id[:64]!r}")
    secret = decrypt_secret(credential.secret_encrypted, secret_key=secret_key)
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
    used = session.scalar(
        select(UsedNonce.id).where(UsedNonce.pass_id == pass_id, UsedNonce.nonce == nonce)
    )
    if used is not None:
        raise GatewayRefused(f"gateway: x-tif-nonce {nonce[:40]!r} was already used (replay)")
    # Nonces older than twice the window can no longer pass the timestamp check.
    session.execute(
        delete(UsedNonce).where(
            UsedNonce.pass_id == pass_id, UsedNonce.used_at < now - timedelta(seconds=2 * MAX_SKEW)
        )
    )
    session.add(UsedNonce(pass_id=pass_id, nonce=nonce, used_at=now))
    session.flush()
    user = session.get(User, credential.user_id)
    institution = session.get(Institution, credential.institution_id)
    if user is None or not user.active or institution is None:
        raise GatewayRefused(f"gateway: the user of x-tif-paasid {pass_id!r} is not active")
    return Caller(pass_id, institution, user, nonce)
