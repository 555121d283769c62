"""``yibao db`` (upgrade, status) and ``yibao serve``: the operator's commands, no token."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from yibao.commands import (
    NOT_INITIALISED,
    DatabaseNotInitialised,
    database_error,
    load_settings,
    reports_errors,
    require_database_file,
)
from yibao.config import database_choice
from yibao.db import alembic_config, make_engine, upgrade_database
from yibao.documents.cli import clean_up_at_start
from yibao.errors import YibaoError
from yibao.locations import shown_url
from yibao.logs import (
    LogFormatChoice,
    configure_logging,
    logging_config,
    reset_multiprocess_metrics_dir,
)
from yibao.ops.cli import grant_app_role_command, owner_url

db_app = typer.Typer(
    help="The database: which one the commands use, and its schema (Alembic migrations).",
    no_args_is_help=True,
)


class DatabaseOutdated(YibaoError):
    code = "database.outdated"
    title = "Database schema outdated"


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
        typer.Option(
            help="Database URL (default: YIBAO_MIGRATION_DATABASE_URL, else the one "
            "`yibao db status` names)."
        ),
    ] = None,
    app_role: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL: then give this role the application's privileges, as "
            "`yibao db grant-app-role` does."
        ),
    ] = None,
) -> None:
    """Create the database, or bring its schema to the latest migration. Operator's
    command: no token."""
    settings = load_settings()
    target = url or owner_url(settings)
    try:
        upgrade_database(target)
    except DBAPIError as exc:
        raise (database_error(exc, target) or exc) from None
    if url:
        choice = "given by --url"
    elif settings.migration_database_url:
        choice = "set by YIBAO_MIGRATION_DATABASE_URL"
    else:
        choice = database_choice(target)
    typer.echo(f"database at head: {shown_url(target)} ({choice})")
    if app_role is not None:
        grant_app_role_command(app_role, url=target)


db_app.command("grant-app-role")(grant_app_role_command)


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


APP_FACTORY = "yibao.api.app:create_app"
"""What each worker process of ``yibao serve --workers N`` imports and calls: the settings
come from the same environment the parent checked."""


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes sharing the port, under a supervisor that starts a new "
            "one when one dies (1: a single process, no supervisor).",
        ),
    ] = 1,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(
            case_sensitive=False,
            help="Log lines as JSON objects (one per line) or text; default YIBAO_LOG_FORMAT "
            "(json). One line per request, with its id (docs/operations.md).",
        ),
    ] = None,
) -> None:
    """Run the API server (OpenAPI at /docs) on the database `yibao db status` names, once
    its schema is at the latest migration. Operator's command: no token (each request
    carries its own). Nodes keep no state of their own: run as many as needed, on one
    machine (`--workers`) or several, over one database and one upload folder."""
    import uvicorn

    settings = load_settings()
    require_schema_at_head(settings.database_url)
    clean_up_at_start(settings)
    # JSON or text logs in this process and, through uvicorn's log_config, in each worker;
    # the metrics folder of several workers emptied of a previous run's (docs/operations.md)
    chosen_format = log_format.value if log_format else settings.log_format
    log_config = logging_config(chosen_format, settings.log_level)
    configure_logging(chosen_format, settings.log_level)
    reset_multiprocess_metrics_dir()
    typer.echo(f"Yibao API on http://{host}:{port}/api/v1 (docs: http://{host}:{port}/docs)")
    typer.echo(f"database: {shown_url(settings.database_url)}")
    # Behind a reverse proxy (YIBAO_TRUSTED_PROXIES) the client's address and scheme are
    # the ones the proxy forwards: failed sign-ins are counted per real client, and HSTS is
    # sent for HTTPS. Unset: uvicorn's default (FORWARDED_ALLOW_IPS, else 127.0.0.1).
    proxies = settings.trusted_proxies.strip() or None
    if workers == 1:
        from yibao.api.app import create_app

        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level="info",
            log_config=log_config,
            forwarded_allow_ips=proxies,
        )
        return
    typer.echo(f"workers: {workers} (a dead one is replaced)")
    # uvicorn's supervisor binds the port once, starts the workers (fresh interpreters that
    # build the app from the same environment) and replaces one that dies or hangs; a
    # worker that cannot start at all stops the supervisor instead of looping. The
    # supervisor itself never imports the app: it stays small and starts at once.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=log_config,
        forwarded_allow_ips=proxies,
    )
