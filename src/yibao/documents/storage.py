"""Files of uploaded documents, written so that a crash leaves nothing half-done.

An upload is checked (not empty, not larger than the limit, starting with the magic bytes
of the declared PDF, JPEG or PNG), then written under a temporary name beside its final
one (``<final>.tmp``) and fsynced, before its row is flushed. The file takes its final
name only when the session's transaction commits (``after_commit``); when the transaction
ends any other way (rollback, a rolled-back savepoint, close) the temporary file is
deleted. So a committed row always has its bytes on disk, and a final name always has its
row.

The window between the database commit and the rename is closed by
:func:`yibao.documents.service.clean_up_uploads`: an old temporary file whose row exists
is renamed (the commit happened), any other old one is deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from yibao.errors import ValidationFailed

UPLOAD_CONTENT_TYPES: dict[str, tuple[str, bytes]] = {
    "application/pdf": (".pdf", b"%PDF-"),
    "image/jpeg": (".jpg", b"\xff\xd8\xff"),
    "image/png": (".png", b"\x89PNG\r\n\x1a\n"),
}
"""Accepted upload types: extension and the magic bytes the content must start with."""

TEMPORARY_SUFFIX = ".tmp"
_PENDING = "yibao.documents.pending"
_LISTENING = "yibao.documents.listening"
_log = logging.getLogger("yibao.documents")


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An accepted upload and the facts its row keeps."""

    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: str  # relative to the upload folder; nothing is written yet


def check_upload(
    *, folder: str, filename: str | None, content_type: str, data: bytes, max_bytes: int
) -> CheckedUpload:
    """Check ``data`` and choose its place under ``folder``; raise ``ValidationFailed``."""
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
    return CheckedUpload(
        filename=Path(filename or "upload").name[:200],
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_path=(Path(folder) / f"{uuid.uuid4().hex}{kind[0]}").as_posix(),
    )


def temporary_path(final: Path) -> Path:
    return final.with_name(final.name + TEMPORARY_SUFFIX)


# --- writing, then publishing at commit ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pending:
    temporary: Path
    final: Path
    row: object  # the ORM object whose commit publishes the file


def stage_file(
    session: Session, *, upload_dir: Path, storage_path: str, data: bytes, row: object
) -> Path:
    """Write ``data`` under a temporary name, durably, and publish it when ``row`` commits.

    Returns the temporary path. Call before flushing ``row``: if the flush fails, the
    transaction's end deletes the file.
    """
    final = upload_dir / storage_path
    temporary = temporary_path(final)
    _make_folders(final.parent)
    try:
        with temporary.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        _fsync_folder(final.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _listen(session)
    session.info.setdefault(_PENDING, []).append(_Pending(temporary, final, row))
    return temporary


def _listen(session: Session) -> None:
    if session.info.get(_LISTENING):
        return
    event.listen(session, "after_commit", _publish)
    event.listen(session, "after_transaction_end", _discard)
    session.info[_LISTENING] = True


def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the real commit comes later
    for pending in session.info.pop(_PENDING, []):
        # A row added inside a savepoint that was rolled back is transient again.
        if inspect(pending.row).persistent:
            publish(pending.temporary, pending.final)
        else:
            pending.temporary.unlink(missing_ok=True)


def _discard(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    # The outermost transaction ended without publishing (rollback or close).
    for pending in session.info.pop(_PENDING, []):
        pending.temporary.unlink(missing_ok=True)


def publish(temporary: Path, final: Path) -> bool:
    """Give a committed file its final name; False (logged) if that failed."""
    try:
        os.replace(temporary, final)
        _fsync_folder(final.parent)
    except OSError:
        # The row is committed; the start-up clean-up renames the file later.
        _log.exception("could not publish %s", final)
        return False
    return True


def _make_folders(folder: Path) -> None:
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    folder.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        _fsync_folder(created.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a folder's new or renamed entries durable (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading and cleaning -------------------------------------------------------------------


def readable_path(upload_dir: Path, storage_path: str) -> Path | None:
    """Where a committed document's bytes are now, or None when they are missing.

    Between the commit and the rename (or after a crash there, until the clean-up) they
    are still under the temporary name; a committed row's temporary file is complete.
    """
    final = upload_dir / storage_path
    if final.is_file():
        return final
    temporary = temporary_path(final)
    return temporary if temporary.is_file() else None


@dataclass(frozen=True, slots=True)
class TemporaryFile:
    path: Path
    storage_path: str  # the final name, relative to the upload folder


def old_temporary_files(upload_dir: Path, *, older_than: float) -> Iterator[TemporaryFile]:
    """Temporary files last modified before ``older_than`` (a POSIX timestamp)."""
    if not upload_dir.is_dir():
        return
    for path in upload_dir.rglob(f"*{TEMPORARY_SUFFIX}"):
        try:
            if not path.is_file() or path.stat().st_mtime >= older_than:
                continue
        except FileNotFoundError:
            continue  # published or discarded meanwhile
        final = path.with_name(path.name.removesuffix(TEMPORARY_SUFFIX))
        yield TemporaryFile(path, final.relative_to(upload_dir).as_posix())
