"""Queries of documents; the service decides, this module only reads."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from yibao.documents.models import Document, DocumentOwner, OwnerKind


def _owned_by(owner: DocumentOwner) -> ColumnElement[bool]:
    if owner.kind is OwnerKind.FILING:
        return Document.filing_id == owner.id
    return Document.claim_id == owner.id


def for_owner(session: Session, owner: DocumentOwner) -> list[Document]:
    """The owner's documents in upload order."""
    stmt = select(Document).where(_owned_by(owner)).order_by(Document.id)
    return list(session.scalars(stmt))


def count_and_bytes(session: Session, owner: DocumentOwner) -> tuple[int, int]:
    """How many documents the owner holds, superseded ones included, and their bytes."""
    stmt = select(func.count(Document.id), func.coalesce(func.sum(Document.size_bytes), 0))
    count, size = session.execute(stmt.where(_owned_by(owner))).one()
    return int(count), int(size)


def get(session: Session, owner: DocumentOwner, document_id: int) -> Document | None:
    doc = session.get(Document, document_id)
    return doc if doc is not None and doc.owner == owner else None


def stored_paths(session: Session, paths: Collection[str]) -> set[str]:
    """Which of ``paths`` a row refers to."""
    if not paths:
        return set()
    stmt = select(Document.storage_path).where(Document.storage_path.in_(list(paths)))
    return set(session.scalars(stmt.distinct()))
