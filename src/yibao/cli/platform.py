"""``yibao db`` (upgrade, status) and ``yibao serve``: the operator's commands, no token."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from yibao.api.app import create_app
from yibao.commands import (
    NOT_INITIALISED,
    DatabaseNotInitialised,
    database_error,
    load_settings,
    reports_errors,
    require_database_file,
    shown_url,
)
from yibao.config import database_choice
from yibao.db import alembic_config, make_engine, upgrade_database
from yibao.documents.cli import clean_up_at_start
from yibao.errors import YibaoError

db_app = typer.Typer(
    help="The database: which one the commands use, and its schema (Alembic migrations).",
    no_args_is_help=True,
)


class DatabaseOutdated(YibaoError):
    code = "database.outdated"
    title = "Database schema outdated"


def database_now() -> str:
    """The database the commands would use now, and why (for ``yibao --help``)."""
    try:
        url = load_settings().database_url
    except YibaoError as exc:
        return f"unknown: {exc.message}"
    return f"{shown_url(url)} ({database_choice(url)})"


def schema_revisions(url: str) -> tuple[str | None, str | None]:
    """The database's migration and the newest one: ``(current, head)``; current is None
    when the schema was never migrated. The database must exist (it is not created)."""
    # Alembic is imported here, as in yibao.db: a quarter of a second every command would
    # otherwise pay at start-up for the two that look at the schema.
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    require_database_file(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise (database_error(exc, url) or exc) from None
    finally:
        engine.dispose()
    return current, head


def require_schema_at_head(url: str) -> None:
    """The server starts only on a database whose schema is the code's."""
    current, head = schema_revisions(url)
    if current is None:
        raise DatabaseNotInitialised(NOT_INITIALISED)
    if current != head:
        raise DatabaseOutdated(
            f"database schema at {current}, the platform needs {head}: run `yibao db upgrade`"
        )


@db_app.command("upgrade")
@reports_errors
def upgrade(
    url: Annotated[
        str | None,
        typer.Option(help="Database URL (default: the one `yibao db status` names)."),
    ] = None,
) -> None:
    """Create the database, or bring its schema to the latest migration. Operator's
    command: no token."""
    target = url or load_settings().database_url
    try:
        upgrade_database(target)
    except DBAPIError as exc:
        raise (database_error(exc, target) or exc) from None
    choice = "given by --url" if url else database_choice(target)
    typer.echo(f"database at head: {shown_url(target)} ({choice})")


@db_app.command("status")
@reports_errors
def status() -> None:
    """Say which database the commands use and why, where its uploads are, and whether its
    schema is at the latest migration. Operator's command: no token."""
    settings = load_settings()
    url = settings.database_url
    typer.echo(f"database: {shown_url(url)}")
    typer.echo(f"chosen: {database_choice(url)}")
    typer.echo(f"uploads: {settings.upload_dir}")
    try:
        current, head = schema_revisions(url)
    except YibaoError as exc:
        typer.echo(f"schema: {exc.message}")
        return
    if current is None:
        typer.echo(f"schema: {NOT_INITIALISED}")
    elif current == head:
        typer.echo(f"schema: at the latest migration ({head})")
    else:
        typer.echo(f"schema: at {current}, the latest is {head}: run `yibao db upgrade`")


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
) -> None:
    """Run the API server (OpenAPI at /docs) on the database `yibao db status` names, once
    its schema is at the latest migration. Operator's command: no token (each request
    carries its own)."""
    import uvicorn

    settings = load_settings()
    require_schema_at_head(settings.database_url)
    clean_up_at_start(settings)
    app = create_app(settings)
    typer.echo(f"Yibao API on http://{host}:{port}/api/v1 (docs: http://{host}:{port}/docs)")
    typer.echo(f"database: {database_now()}")
    uvicorn.run(app, host=host, port=port, log_level="info")
