"""The operator's commands for the database's safety: ``yibao backup``, ``yibao restore`` and
``yibao db grant-app-role``. They connect as the schema's owner: YIBAO_MIGRATION_DATABASE_URL
when set, else YIBAO_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from yibao.commands import database_error, load_settings, reports_errors, require_database_file
from yibao.config import Settings
from yibao.db import make_engine
from yibao.ops.backup import back_up, restore
from yibao.ops.roles import grant_app_role


def owner_url(settings: Settings) -> str:
    """The database URL of the schema's owner."""
    return settings.migration_database_url or settings.database_url


@reports_errors
def backup_command(
    dest: Annotated[
        Path, typer.Argument(help="New folder to write the backup to (must not hold anything).")
    ],
) -> None:
    """Back up the database and the uploads to DEST, with a manifest of checksums, row
    counts and the migration (docs/operations.md). Safe while the platform runs.
    Operator's command: no token."""
    settings = load_settings()
    url = owner_url(settings)
    require_database_file(url)
    try:
        manifest = back_up(url=url, upload_dir=settings.upload_dir, dest=dest)
    except DBAPIError as exc:
        raise (database_error(exc, url) or exc) from None
    rows = sum(manifest["tables"].values())
    head = manifest["audit_chain_head"] or {}
    typer.echo(
        f"backup written to {dest}: {len(manifest['tables'])} tables, {rows} rows, "
        f"{len(manifest['files']) - 1} upload file(s), migration {manifest['alembic_revision']}"
    )
    typer.echo(f"audit chain head: {head.get('seq')} {head.get('hash')}")


@reports_errors
def restore_command(
    src: Annotated[Path, typer.Argument(help="Folder of a backup written by `yibao backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a database or upload folder that is not empty (everything in them "
            "is lost).",
        ),
    ] = False,
) -> None:
    """Restore a backup into the database and upload folder the settings name, once every
    checksum matches; refuses ones that are not empty unless --force. Operator's command:
    no token."""
    settings = load_settings()
    url = owner_url(settings)
    try:
        done = restore(src=src, url=url, upload_dir=settings.upload_dir, force=force)
    except DBAPIError as exc:
        raise (database_error(exc, url) or exc) from None
    manifest = done.manifest
    typer.echo(
        f"restored {src} (written {manifest['created_at']}): "
        f"{sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables, "
        f"migration {manifest['alembic_revision']}"
    )
    if done.chain.broken is not None:
        typer.echo(f"audit chain BROKEN at {done.chain.broken.describe()}")
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {done.chain.links} entries")
    typer.echo(
        "PostgreSQL: run `yibao db grant-app-role ROLE` again; privileges are not restored"
        if url.startswith("postgresql")
        else "uploads and database in place"
    )


@reports_errors
def grant_app_role_command(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the application connects as.")],
    url: Annotated[
        str | None,
        typer.Option(
            help="Database URL of the schema's owner (default: YIBAO_MIGRATION_DATABASE_URL, "
            "else YIBAO_DATABASE_URL)."
        ),
    ] = None,
) -> None:
    """Give ROLE the application's privileges (PostgreSQL): reads and writes on the tables,
    only INSERT and SELECT on the audit log and other append-only tables, nothing it could
    own. Run as the schema's owner after each `yibao db upgrade`. Operator's command: no
    token."""
    url = url or owner_url(load_settings())
    require_database_file(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            grants = grant_app_role(connection, role)
    except DBAPIError as exc:
        raise (database_error(exc, url) or exc) from None
    finally:
        engine.dispose()
    typer.echo(
        f"role {grants.role}: read and write on {len(grants.read_write)} tables; "
        f"insert and select only on {', '.join(grants.append_only)}; "
        f"select only on {', '.join(grants.read_only)}"
    )
