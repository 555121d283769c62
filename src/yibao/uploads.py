"""Storing uploaded documents (filings, reimbursement claims): one set of checks for all.

A document is accepted when it is not empty, not larger than the configured limit, and its
content starts with the magic bytes of a declared PDF, JPEG or PNG. It is stored under the
upload folder with a random name; the database keeps its path, size and SHA-256.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from yibao.errors import ValidationFailed

UPLOAD_CONTENT_TYPES: dict[str, tuple[str, bytes]] = {
    "application/pdf": (".pdf", b"%PDF-"),
    "image/jpeg": (".jpg", b"\xff\xd8\xff"),
    "image/png": (".png", b"\x89PNG\r\n\x1a\n"),
}
"""Accepted upload types: extension and the magic bytes the content must start with."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: str  # relative to the upload folder


def store_upload(
    *,
    upload_dir: Path,
    folder: str,
    filename: str | None,
    content_type: str,
    data: bytes,
    max_bytes: int,
) -> StoredFile:
    """Check ``data`` and write it under ``upload_dir/folder``; raise ``ValidationFailed``."""
    if not data:
        raise ValidationFailed("the file is empty", code="upload.empty")
    if len(data) > max_bytes:
        raise ValidationFailed(
            f"the file has {len(data)} bytes; at most {max_bytes} are accepted",
            code="upload.too_large",
            max_bytes=max_bytes,
        )
    kind = UPLOAD_CONTENT_TYPES.get(content_type)
    if kind is None or not data.startswith(kind[1]):
        raise ValidationFailed(
            f"accepted files are {', '.join(UPLOAD_CONTENT_TYPES)} (checked by content)",
            code="upload.type_not_allowed",
            accepted=list(UPLOAD_CONTENT_TYPES),
        )
    relative = Path(folder) / f"{uuid.uuid4().hex}{kind[0]}"
    target = upload_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return StoredFile(
        filename=Path(filename or "upload").name[:200],
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_path=relative.as_posix(),
    )
