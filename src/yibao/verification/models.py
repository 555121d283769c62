"""Issued documents (已出具文书): one row per printed version of a document.

The code printed on the paper is never stored: the row keeps a random ``salt`` and the
SHA-256 of the code, and the code is an HMAC of the salt under the platform's secret key
(:func:`yibao.verification.service.code_of`). A copy of the table gives nobody the codes
(as ``web_sessions`` keeps only its tokens' digests), while a reprint of the same version
shows the same code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base

KINDS = (
    "filing_certificate",
    "settlement_slip",
    "claim_decision",
    "claim_return",
    "clearing_statement",
)


class IssuedDocument(Base):
    """A printed document: what it is, its number, who issued it and when, and the
    fingerprint of what it said (a later version of the object prints a new code)."""

    __tablename__ = "issued_documents"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name="kind",
        ),
        Index("ix_issued_documents_object", "kind", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
