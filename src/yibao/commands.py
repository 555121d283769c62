"""Helpers for commands: one transaction per command, errors as one line and exit 2.

The command-line counterpart of :mod:`yibao.auth.deps`: each concept's ``cli.py`` uses
these, so they live in the kernel, below every concept, and not in the ``yibao.cli`` face
(nothing imports a face). :mod:`yibao.cli.main` mounts the concepts' commands.

Every error a command reports is one line on stderr, ``error: <code>: <message>``, with exit
status 2 (:func:`say_error` is the one place that writes it): a ``YibaoError`` raised by a
service, and the database not being there — a missing SQLite file is never created by
accident (only ``yibao db upgrade`` and ``yibao demo`` create one), and a database whose
schema was never migrated is named as such instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from yibao.config import Settings, sqlite_file
from yibao.console import collector_paused as collector_paused
from yibao.console import fail as fail
from yibao.console import reports_errors as reports_errors
from yibao.console import say_error as say_error
from yibao.db import is_connection_failure, is_missing_table, make_engine, session_scope
from yibao.errors import YibaoError
from yibao.locations import shown_url

# Every command that acts for a person names the acting user by their bearer token, as the
# API does: the services decide what that user may see and do. The operator's commands
# (database, server, demo, users, loading policies and catalogs, daily jobs) take none.
TokenOpt = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="YIBAO_TOKEN",
        help="Bearer token of the acting user (from `yibao users create` or the demo's guide).",
    ),
]


class DatabaseMissing(YibaoError):
    code = "database.missing"
    title = "Database missing"


class DatabaseNotInitialised(YibaoError):
    code = "database.not_initialised"
    title = "Database not initialised"


class DatabaseUnreachable(YibaoError):
    code = "database.unreachable"
    title = "Database unreachable"


class InvalidSettings(YibaoError):
    code = "config.invalid"
    title = "Invalid settings"


NOT_INITIALISED = "database not initialised: run `yibao db upgrade`"


def load_settings() -> Settings:
    """The settings from the environment; invalid ones are an error, not a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidSettings(problems) from None


def require_database_file(url: str) -> None:
    """A SQLite database must exist before a command uses it (connecting would create an
    empty file); ``yibao db upgrade`` or ``yibao demo`` make one."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        shown = make_url(url).database or path  # as written: ./var/yibao.db
        raise DatabaseMissing(
            f"database {shown} does not exist: run `yibao db upgrade` (or `make demo`)"
        )


def database_error(error: DBAPIError, url: str) -> YibaoError | None:
    """What to tell the user about a database error, if it is about the database itself
    (schema never migrated, no connection) rather than a fault of the command."""
    if is_missing_table(error):
        return DatabaseNotInitialised(NOT_INITIALISED)
    if is_connection_failure(error):
        reason = str(error.orig).strip().splitlines()
        detail = reason[0] if reason else type(error.orig).__name__
        return DatabaseUnreachable(f"cannot connect to {shown_url(url)}: {detail}")
    return None


@contextmanager
def command_session(settings: Settings | None = None) -> Iterator[Session]:
    """A session on the settings' database that commits when the command succeeds.

    A missing SQLite file, an uninitialised schema or a database that does not answer
    raise a ``YibaoError`` (one line through :func:`reports_errors`).
    """
    url = (settings or load_settings()).database_url
    require_database_file(url)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            yield session
    except DBAPIError as exc:
        problem = database_error(exc, url)
        if problem is None:
            raise
        raise problem from None
    finally:
        engine.dispose()
