"""Document use cases: add, list, read, copy, and clean up after crashes.

The owner's service (filings, reimbursements) has already decided that the actor may
upload or read, and that the owner still takes documents; these functions store rows and
files only. They flush, never commit: the file is published when the caller's
transaction commits (see :mod:`yibao.documents.storage`).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.documents import repository as repo
from yibao.documents import storage
from yibao.documents.kinds import DocumentKind, parse_kind
from yibao.documents.models import Document, DocumentOwner, OwnerKind
from yibao.errors import Gone, NotFound
from yibao.limits import check_limit

ORPHAN_AGE = timedelta(hours=1)
"""How old a temporary file must be before the clean-up touches it: far longer than any
transaction that writes documents, so an upload in flight is never disturbed."""


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file and its kind, as a face received it, with where files go and the
    size limit (the settings of the face that received it)."""

    doc_type: str
    filename: str | None
    content_type: str
    data: bytes
    upload_dir: Path
    max_bytes: int


def add_document(
    session: Session, *, owner: DocumentOwner, upload: Upload, actor: Actor
) -> Document:
    """Check the kind and the file, write it, add its row and its audit entry; the file is
    published at commit. The owner's service has authorised ``actor`` already."""
    doc_type = parse_kind(upload.doc_type)
    data = upload.data
    _check_owner_limits(session, owner, adding=len(data))
    checked = storage.check_upload(
        folder=owner.folder,
        filename=upload.filename,
        content_type=upload.content_type,
        data=data,
        max_bytes=upload.max_bytes,
    )
    doc = Document(
        **owner.columns(),
        doc_type=str(doc_type),
        filename=checked.filename,
        content_type=checked.content_type,
        size_bytes=checked.size_bytes,
        sha256=checked.sha256,
        storage_path=checked.storage_path,
        superseded=False,
        uploaded_by_user_id=getattr(actor, "id", None),
    )
    storage.stage_file(
        session, upload_dir=upload.upload_dir, storage_path=checked.storage_path, data=data, row=doc
    )
    session.add(doc)
    session.flush()
    entity = owner.audit_entity
    record(
        session,
        actor=actor,
        action=f"{'filing' if entity == 'filing' else 'reimbursement'}.document_uploaded",
        entity=entity,
        entity_id=owner.id,
        before=None,
        after={"document_id": doc.id, "doc_type": str(doc_type), "size_bytes": len(data)},
    )
    return doc


def _check_owner_limits(session: Session, owner: DocumentOwner, *, adding: int) -> None:
    """The owner's documents within ``documents_per_owner`` and ``document_bytes_per_owner``
    (:mod:`yibao.limits`), the new one included; superseded documents count, as their files
    are kept."""
    count, size = repo.count_and_bytes(session, owner)
    noun = "filing" if owner.kind is OwnerKind.FILING else "claim"
    check_limit(
        count + 1,
        limit="documents_per_owner",
        what=f"documents of this {noun}",
        code="limit.documents_per_owner",
    )
    check_limit(
        size + adding,
        limit="document_bytes_per_owner",
        what=f"bytes of the documents of this {noun}",
        code="limit.document_bytes_per_owner",
    )


def documents_of(session: Session, owner: DocumentOwner) -> list[Document]:
    return repo.for_owner(session, owner)


def document_of(session: Session, *, owner: DocumentOwner, document_id: int) -> Document:
    """One of the owner's documents (404 ``<owner>.document_not_found`` otherwise)."""
    doc = repo.get(session, owner, document_id)
    if doc is None:
        raise NotFound(f"document {document_id} not found", code=f"{owner.kind}.document_not_found")
    return doc


def stored_file(
    session: Session, *, owner: DocumentOwner, document_id: int, upload_dir: Path
) -> tuple[Document, Path]:
    """The document and where its bytes are; 410 ``document.file_missing`` if they are gone."""
    doc = document_of(session, owner=owner, document_id=document_id)
    path = storage.readable_path(upload_dir, doc.storage_path)
    if path is None:
        raise Gone(
            f"the stored file of document {doc.id} is missing; upload it again",
            code="document.file_missing",
            document_id=doc.id,
            doc_type=doc.doc_type,
        )
    return doc, path


def copy_documents(
    session: Session,
    *,
    source: DocumentOwner,
    target: DocumentOwner,
    skip: Collection[DocumentKind] = (),
) -> list[Document]:
    """Give ``target`` rows for ``source``'s documents (sharing their files), except ``skip``."""
    copies = [
        Document(
            **target.columns(),
            doc_type=doc.doc_type,
            filename=doc.filename,
            content_type=doc.content_type,
            size_bytes=doc.size_bytes,
            sha256=doc.sha256,
            storage_path=doc.storage_path,
            superseded=False,
            uploaded_by_user_id=doc.uploaded_by_user_id,
        )
        for doc in repo.for_owner(session, source)
        if doc.doc_type not in skip and not doc.superseded
    ]
    session.add_all(copies)
    session.flush()
    return copies


@dataclass
class UploadCleanup:
    """What :func:`clean_up_uploads` did, as paths relative to the upload folder."""

    published: list[str] = field(default_factory=list)  # committed, renamed at last
    removed: list[str] = field(default_factory=list)  # never committed, deleted


def clean_up_uploads(
    session: Session,
    *,
    upload_dir: Path,
    older_than: timedelta = ORPHAN_AGE,
    now: float | None = None,
) -> UploadCleanup:
    """Finish what a crash interrupted: old temporary files become their document's file
    when its row exists (the commit happened), and are deleted otherwise."""
    cutoff = (time.time() if now is None else now) - older_than.total_seconds()
    found = list(storage.old_temporary_files(upload_dir, older_than=cutoff))
    committed = repo.stored_paths(session, [f.storage_path for f in found])
    done = UploadCleanup()
    for temporary in found:
        final = upload_dir / temporary.storage_path
        if temporary.storage_path in committed and not final.exists():
            if storage.publish(temporary.path, final):
                done.published.append(temporary.storage_path)
        else:
            temporary.path.unlink(missing_ok=True)
            done.removed.append(temporary.path.relative_to(upload_dir).as_posix())
    return done
