"""Backups and restores: the database and the uploads, with a manifest of checksums.

A backup is a folder: the database (PostgreSQL: ``database.dump``, ``pg_dump -Fc``; SQLite:
``database.sqlite``, through SQLite's online backup API), ``uploads/`` (every file of the
upload folder) and ``manifest.json``: the SHA-256 and size of every file, the Alembic
revision, the number of rows of every table and the audit chain's head, all read from the
same snapshot the database copy holds.

Consistency with a busy platform: PostgreSQL's copy is one snapshot (``pg_dump
--snapshot`` of a transaction exported here, which also counts the rows); SQLite's is one
step of the backup API under a read lock. The uploads are copied after the database's
snapshot is fixed, and an upload's file is written before its row commits
(:mod:`yibao.documents.storage`), so every document row in the copy has its file; a file
uploaded later is an orphan the restored platform ignores (``yibao documents cleanup``).

A backup is written under a temporary name and renamed when complete: DEST never holds a
half-written backup. A restore checks every checksum before it touches anything, refuses a
database or upload folder that is not empty (unless forced), and compares the restored
tables' row counts with the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from yibao.audit.service import ChainReport, verify_chain
from yibao.config import sqlite_file
from yibao.db import make_engine, session_scope
from yibao.errors import YibaoError

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite"
UPLOADS = "uploads"
_CHUNK = 1024 * 1024


class BackupFailed(YibaoError):
    code = "backup.failed"
    title = "Backup failed"


class RestoreRefused(YibaoError):
    code = "restore.refused"
    title = "Restore refused"


@dataclass(frozen=True, slots=True)
class RestoreResult:
    manifest: dict[str, Any]
    chain: ChainReport


# --- reading a database's state -------------------------------------------------------------


def _state(connection: Connection) -> dict[str, Any]:
    """Row counts per table, the Alembic revision and the audit chain's head."""
    tables = sorted(inspect(connection).get_table_names())
    counts = {
        name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        for name in tables
    }
    revision = None
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = None
    if "audit_chain" in tables:
        row = connection.execute(
            text("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
        ).first()
        head = {"seq": int(row.seq), "hash": str(row.hash)} if row else {"seq": 0, "hash": None}
    return {"alembic_revision": revision, "tables": counts, "audit_chain_head": head}


def _backend(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupFailed(f"backups support PostgreSQL and SQLite, not {name}")
    return name


# --- PostgreSQL's client tools -----------------------------------------------------------------


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump/pg_restore and their environment (the password
    goes in PGPASSWORD, never on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    parts: dict[str, Any] = {
        "dbname": parsed.database,
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
    }
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]

    def quote(value: Any) -> str:
        escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"

    return " ".join(f"{k}={quote(v)}" for k, v in parts.items() if v not in (None, "")), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupFailed(f"{args[0]} not found: install PostgreSQL's client tools")
    done = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupFailed(f"{what} failed: {detail[0] if detail else f'exit {done.returncode}'}")


# --- files and checksums -------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> Iterator[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            yield Path(root) / name


def _copy_uploads(source: Path, target: Path) -> None:
    """Copy every file of ``source`` under ``target``; a file removed meanwhile (an orphan
    cleaned up, a temporary one renamed) is skipped, its final name copied if it exists."""
    if not source.is_dir():
        return
    for path in _files(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, destination)
        except FileNotFoundError:
            continue


def _checksums(folder: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(folder).as_posix(): {"sha256": _sha256(path), "bytes": path.stat().st_size}
        for path in _files(folder)
        if path.name != MANIFEST
    }


# --- backup --------------------------------------------------------------------------------


def back_up(*, url: str, upload_dir: Path, dest: Path) -> dict[str, Any]:
    """Write a backup of ``url``'s database and of ``upload_dir`` to the new folder
    ``dest``; the manifest."""
    backend = _backend(url)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupFailed(f"{dest} exists and is not an empty folder: name a new one")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        if backend == "postgresql":
            state = _dump_postgres(url, partial / PG_DUMP_FILE)
            database_file = PG_DUMP_FILE
        else:
            state = _copy_sqlite(url, partial / SQLITE_FILE)
            database_file = SQLITE_FILE
        _copy_uploads(upload_dir, partial / UPLOADS)
        (partial / UPLOADS).mkdir(exist_ok=True)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "backend": backend,
            "database_file": database_file,
            **state,
            "files": _checksums(partial),
        }
        (partial / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        if dest.exists():
            dest.rmdir()
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def _dump_postgres(url: str, target: Path) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.execute(text("SET TRANSACTION READ ONLY"))
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                state = _state(connection)
                conninfo, env = _libpq(url)
                # the dump sees exactly what was counted: the snapshot exported above,
                # held open until it is done
                _run(
                    ["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(target), conninfo],
                    env,
                    "pg_dump",
                )
    finally:
        engine.dispose()
    return state


def _copy_sqlite(url: str, target: Path) -> dict[str, Any]:
    path = sqlite_file(url)
    if path is None or not path.exists():
        raise BackupFailed(f"no SQLite database file at {url}")
    source = sqlite3.connect(path, timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # one step: the whole database under one read lock
    finally:
        source.close()
        copy.close()
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _state(connection)
    finally:
        engine.dispose()


# --- restore -------------------------------------------------------------------------------


def read_manifest(src: Path) -> dict[str, Any]:
    """The backup's manifest, once every file it lists is there with its checksum."""
    path = src / MANIFEST
    if not path.is_file():
        raise RestoreRefused(f"{src} is not a backup: no {MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RestoreRefused(f"{path} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"{path}: backup format {manifest.get('format')!r} is not {FORMAT}")
    files: dict[str, dict[str, Any]] = manifest.get("files", {})
    if manifest.get("database_file") not in files:
        raise RestoreRefused(f"{path} lists no database file")
    for name, expected in sorted(files.items()):
        file = src / name
        if not file.is_file():
            raise RestoreRefused(f"backup damaged: {name} is missing")
        if file.stat().st_size != expected["bytes"] or _sha256(file) != expected["sha256"]:
            raise RestoreRefused(f"backup damaged: {name} does not match its checksum")
    extra = sorted(set(_checksums(src)) - set(files))
    if extra:
        raise RestoreRefused(f"backup damaged: {extra[0]} is not in the manifest")
    return manifest


def _tables(url: str) -> list[str]:
    if _backend(url) == "sqlite":
        path = sqlite_file(url)
        if path is None or not path.exists():
            return []
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def restore(*, src: Path, url: str, upload_dir: Path, force: bool = False) -> RestoreResult:
    """Restore the backup in ``src`` into ``url``'s database and ``upload_dir``."""
    manifest = read_manifest(src)
    backend = _backend(url)
    if manifest["backend"] != backend:
        raise RestoreRefused(
            f"the backup is of a {manifest['backend']} database; the target is {backend}"
        )
    if not force:
        tables = _tables(url)
        if tables:
            raise RestoreRefused(
                f"the target database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
                "restore into a new one, or pass --force to replace it"
            )
        if upload_dir.exists() and any(upload_dir.iterdir()):
            raise RestoreRefused(
                f"the upload folder {upload_dir} is not empty: pass --force to replace it"
            )
    database = src / manifest["database_file"]
    if backend == "postgresql":
        conninfo, env = _libpq(url)
        args = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            args += ["--clean", "--if-exists"]
        _run([*args, "--single-transaction", "-d", conninfo, str(database)], env, "pg_restore")
    else:
        path = sqlite_file(url)
        if path is None:
            raise RestoreRefused(f"{url} names no SQLite file")
        path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(database)
        target = sqlite3.connect(path, timeout=60)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    if force and upload_dir.exists():
        shutil.rmtree(upload_dir)
    _copy_uploads(src / UPLOADS, upload_dir)
    upload_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            state = _state(connection)
        with session_scope(engine) as session:
            chain = verify_chain(session)
    finally:
        engine.dispose()
    for name, count in sorted(manifest["tables"].items()):
        if state["tables"].get(name) != count:
            raise BackupFailed(
                f"restored table {name} has {state['tables'].get(name)} rows, "
                f"the backup {count}: check the target database"
            )
    return RestoreResult(manifest=manifest, chain=chain)
