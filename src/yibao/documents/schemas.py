"""What the API shows of a document; each owner keeps the fields it has always shown."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from yibao.documents.kinds import DocumentKind


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    doc_type: DocumentKind
    filename: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime | None = None


class FilingDocumentRead(DocumentRead):
    """A filing's document, with the SHA-256 of its file."""

    sha256: str


class ClaimDocumentRead(DocumentRead):
    """A reimbursement claim's document; superseded when the reviewer asked for it again."""

    superseded: bool
