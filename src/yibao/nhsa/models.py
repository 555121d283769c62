"""The gateway's tables: institutions' credentials and the nonces already used.

A credential acts as a system user of its institution (role ``hospital``), created when
the credential is issued, so every service call has the same actor and the same access
rules as the institution's REST calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class GatewayCredential(Base):
    """A pass id (``x-tif-paasid``) and its secret, encrypted at rest."""

    __tablename__ = "nhsa_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_id: Mapped[str] = mapped_column(String(64), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # AES-GCM of the secret: base64 of nonce (12 bytes) + ciphertext and tag.
    secret_encrypted: Mapped[str] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsedNonce(Base):
    """A nonce (``x-tif-nonce``) already used under a pass id: a replay is refused."""

    __tablename__ = "nhsa_nonces"
    __table_args__ = (UniqueConstraint("pass_id", "nonce", name="uq_nhsa_nonces_pass_id_nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pass_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
