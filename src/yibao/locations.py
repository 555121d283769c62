"""Where the platform keeps its data unless told otherwise, read without any framework.

``yibao --help`` names the database the commands would use; it must answer without
importing SQLAlchemy or Pydantic (a second of start-up on a busy machine), so the choice of
database lives here and :mod:`yibao.config` builds its settings from it.

Which database: ``YIBAO_DATABASE_URL`` when it is set. Otherwise the platform's own,
``./var/yibao.db`` (created by ``yibao db upgrade``) — unless only a demo has been run here:
when ``./var/yibao.db`` does not exist and ``./var/demo.db`` (written by ``yibao demo`` /
``make demo``) does, the demo's database and its uploads are the default, so the commands
work on what the demo's guide shows. The platform's database, once created, always wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

DATABASE_URL_VARIABLE = "YIBAO_DATABASE_URL"
PLATFORM_DATABASE_FILE = "./var/yibao.db"
PLATFORM_DATABASE_URL = f"sqlite:///{PLATFORM_DATABASE_FILE}"
PLATFORM_UPLOAD_DIR = Path("./var/uploads")
# What `yibao demo` writes with its default --var-dir (the demo's guide names it).
DEMO_DATABASE_FILE = "./var/demo.db"
DEMO_DATABASE_URL = f"sqlite:///{DEMO_DATABASE_FILE}"
DEMO_UPLOAD_DIR = Path("./var/demo-uploads")


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unreadable URL is reported when the engine is made
        return None
    backend = parts.scheme.split("+", 1)[0]
    if backend != "sqlite" or parts.netloc:
        return None
    # sqlite:///relative.db → path "/relative.db"; sqlite:////abs.db → "//abs.db"
    database = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def shown_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    try:
        parts = urlsplit(url)
        if not parts.scheme:
            raise ValueError(url)
        credentials, at, host = parts.netloc.rpartition("@")
        if not at or ":" not in credentials:
            return url
        hidden = credentials.split(":", 1)[0] + ":***"
        return urlunsplit(parts._replace(netloc=f"{hidden}@{host}"))
    except ValueError:
        return "(unreadable database URL)"


def demo_is_the_default() -> bool:
    """True when only a demo has been run here: ./var/demo.db exists, ./var/yibao.db does not."""
    return not Path(PLATFORM_DATABASE_FILE).exists() and Path(DEMO_DATABASE_FILE).exists()


def default_database_url() -> str:
    """The platform's database, or the demo's after a demo (see the module's docstring)."""
    return DEMO_DATABASE_URL if demo_is_the_default() else PLATFORM_DATABASE_URL


def default_upload_dir(data: dict[str, Any]) -> Path:
    return DEMO_UPLOAD_DIR if data.get("database_url") == DEMO_DATABASE_URL else PLATFORM_UPLOAD_DIR


def database_url_now() -> str:
    """The database URL the settings will hold: the variable (its name read without regard to
    case, as the settings read it) or the default."""
    for name, value in os.environ.items():
        if name.upper() == DATABASE_URL_VARIABLE:
            return value
    return default_database_url()


def database_choice(url: str) -> str:
    """Why ``url`` is the database, in words (``yibao db status``, ``yibao --help``)."""
    if any(name.upper() == DATABASE_URL_VARIABLE for name in os.environ):
        return f"set by {DATABASE_URL_VARIABLE}"
    other = f"set {DATABASE_URL_VARIABLE} to choose another"
    if url == DEMO_DATABASE_URL:
        return f"the demo's, as {PLATFORM_DATABASE_FILE} does not exist; {other}"
    if url == PLATFORM_DATABASE_URL:
        return f"the platform's default; {other}"
    return "given to the command"
