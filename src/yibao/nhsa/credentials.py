"""Institutions' gateway credentials: issue, list, revoke, and read a secret back.

The secret is shown once, when issued, and kept encrypted at rest with AES-GCM under a key
derived (HKDF-SHA256) from the platform's secret key (``YIBAO_SECRET_KEY``,
:class:`yibao.config.Settings`): the gateway needs the secret itself to check a signature
(SHA-256 of timestamp + secret + nonce + timestamp), so a hash would not do. Changing the
platform's secret key makes the stored secrets unreadable: credentials are issued anew.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.auth.models import User
from yibao.errors import NotFound, ValidationFailed
from yibao.nhsa.models import GatewayCredential
from yibao.registry.models import Institution
from yibao.users.service import create_user

_KEY_INFO = b"yibao nhsa gateway secrets v1"


@lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        secret_key.encode("utf-8")
    )
    return AESGCM(key)


def encrypt_secret(secret: str, *, secret_key: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _cipher(secret_key).encrypt(nonce, secret.encode("utf-8"), _KEY_INFO)
    return base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(stored: str, *, secret_key: str) -> str | None:
    """The secret, or None when it cannot be read with this key (the key changed)."""
    try:
        raw = base64.b64decode(stored.encode("ascii"), validate=True)
        return _cipher(secret_key).decrypt(raw[:12], raw[12:], _KEY_INFO).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential just issued: the secret in clear, shown this once."""

    pass_id: str
    secret: str
    institution: Institution
    user: User


def issue_credential(
    session: Session,
    *,
    institution_id: int,
    secret_key: str,
    pass_id: str | None = None,
    secret: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> IssuedCredential:
    """A pass id and secret for the institution, acting as a new system user of it
    (role ``hospital``, like the institution's other users). ``pass_id`` and ``secret`` are
    generated unless given (the demo gives fixed ones)."""
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"institution {institution_id} not found", code="institution.not_found")
    pass_id = pass_id or f"yb{secrets.token_hex(8)}"
    if not (4 <= len(pass_id) <= 64) or not pass_id.isascii() or not pass_id.isprintable():
        raise ValidationFailed(
            "a pass id is 4 to 64 printable ASCII characters", code="nhsa.pass_id"
        )
    if session.scalar(select(GatewayCredential.id).where(GatewayCredential.pass_id == pass_id)):
        raise ValidationFailed(f"pass id {pass_id!r} is taken", code="nhsa.pass_id_taken")
    secret = secret or secrets.token_urlsafe(24)
    if len(secret) < 16:
        raise ValidationFailed("a secret has at least 16 characters", code="nhsa.secret")
    issued = create_user(
        session,
        name=f"{institution.name} 接口 {pass_id}",
        role="hospital",
        institution_id=institution.id,
        actor=actor,
    )
    credential = GatewayCredential(
        pass_id=pass_id,
        institution_id=institution.id,
        user_id=issued.user.id,
        secret_encrypted=encrypt_secret(secret, secret_key=secret_key),
        active=True,
        issued_at=now or datetime.now(UTC),
    )
    session.add(credential)
    session.flush()
    record(
        session,
        actor=actor,
        action="nhsa.credential_issued",
        entity="institution",
        entity_id=institution.id,
        before=None,
        after={"pass_id": pass_id, "user_id": issued.user.id},
    )
    return IssuedCredential(pass_id, secret, institution, issued.user)


def list_credentials(
    session: Session, *, institution_id: int | None = None
) -> list[GatewayCredential]:
    stmt = select(GatewayCredential).order_by(GatewayCredential.id)
    if institution_id is not None:
        stmt = stmt.where(GatewayCredential.institution_id == institution_id)
    return list(session.scalars(stmt))


def revoke_credential(session: Session, *, pass_id: str, actor: Actor = None) -> GatewayCredential:
    """The pass id no longer signs in; its user is deactivated too."""
    credential = session.scalar(
        select(GatewayCredential).where(GatewayCredential.pass_id == pass_id)
    )
    if credential is None:
        raise NotFound(f"no credential with pass id {pass_id!r}", code="nhsa.unknown_pass_id")
    credential.active = False
    user = session.get(User, credential.user_id)
    if user is not None:
        user.active = False
    session.flush()
    record(
        session,
        actor=actor,
        action="nhsa.credential_revoked",
        entity="institution",
        entity_id=credential.institution_id,
        before={"pass_id": pass_id, "active": True},
        after={"pass_id": pass_id, "active": False},
    )
    return credential
