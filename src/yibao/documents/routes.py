"""Route helpers for documents; no router of its own: the owners' routes call these after
their service has authorised the caller, so paths stay under each owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from yibao.documents import service
from yibao.documents.models import DocumentOwner


def _upload_form(
    request: Request,
    doc_type: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> service.Upload:
    """A multipart upload: the document kind and the file, read up to one byte past the
    limit (so an oversized file is refused without reading it all)."""
    settings = request.app.state.settings
    limit: int = settings.upload_max_bytes
    return service.Upload(
        doc_type=doc_type,
        filename=file.filename or "upload",
        content_type=file.content_type or "application/octet-stream",
        data=file.file.read(limit + 1),
        upload_dir=settings.upload_dir,
        max_bytes=limit,
    )


DocumentUpload = Annotated[service.Upload, Depends(_upload_form)]


def document_file(
    request: Request, session: Session, *, owner: DocumentOwner, document_id: int
) -> FileResponse:
    """The stored file (404 for an unknown id, 410 when its file is missing)."""
    doc, path = service.stored_file(
        session,
        owner=owner,
        document_id=document_id,
        upload_dir=request.app.state.settings.upload_dir,
    )
    return FileResponse(path, media_type=doc.content_type, filename=doc.filename)
