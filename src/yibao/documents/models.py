"""The ``documents`` table: every uploaded document of a filing or a reimbursement claim.

One row per upload; the file lives under the upload folder at ``storage_path`` and the
row keeps its size and SHA-256. A row belongs to exactly one owner, a filing or a claim,
each a real foreign key (the tables are named, not imported: the owners sit above).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base
from yibao.documents.kinds import KNOWN_KINDS


class OwnerKind(StrEnum):
    FILING = "filing"
    CLAIM = "reimbursement"


@dataclass(frozen=True, slots=True)
class DocumentOwner:
    """The filing or claim a document belongs to, already authorised by its service."""

    kind: OwnerKind
    id: int

    @classmethod
    def filing(cls, filing_id: int) -> DocumentOwner:
        return cls(OwnerKind.FILING, filing_id)

    @classmethod
    def claim(cls, claim_id: int) -> DocumentOwner:
        return cls(OwnerKind.CLAIM, claim_id)

    @property
    def folder(self) -> str:
        """Where its files go, relative to the upload folder."""
        return f"{'filings' if self.kind is OwnerKind.FILING else 'reimbursements'}/{self.id}"

    @property
    def audit_entity(self) -> str:
        """The entity its audit entries are kept under (as the owner's own entries are)."""
        return "filing" if self.kind is OwnerKind.FILING else "reimbursement_claim"

    def columns(self) -> dict[str, int | None]:
        is_filing = self.kind is OwnerKind.FILING
        return {
            "filing_id": self.id if is_filing else None,
            "claim_id": None if is_filing else self.id,
        }


class Document(Base):
    """An uploaded document (PDF, JPEG or PNG) of one filing or one reimbursement claim."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "(filing_id IS NOT NULL AND claim_id IS NULL)"
            " OR (filing_id IS NULL AND claim_id IS NOT NULL)",
            name="one_owner",
        ),
        CheckConstraint(
            "doc_type IN (" + ", ".join(f"'{kind}'" for kind in KNOWN_KINDS) + ")",
            name="doc_type",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("reimbursement_claims.id"), index=True)
    # One of yibao.documents.kinds.DocumentKind.
    doc_type: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Relative to the upload folder; a renewed filing's copies share their original's file.
    storage_path: Mapped[str] = mapped_column(String(300))
    # Kept but no longer counted: a reviewer asked for this document again (claims).
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    @property
    def owner(self) -> DocumentOwner:
        if self.filing_id is not None:
            return DocumentOwner.filing(self.filing_id)
        assert self.claim_id is not None
        return DocumentOwner.claim(self.claim_id)
