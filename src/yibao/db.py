"""Database engine and the one transaction boundary, ``session_scope``.

Services never commit; the edge that opened the scope (request, CLI command, job) commits
on success and rolls back on error. Money columns are ``BigInteger`` whole fen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_IMMEDIATE = "yibao_sqlite_immediate"


def begin_for_writing(session: Session) -> None:
    """Start ``session``'s transaction as one that will write (SQLite: BEGIN IMMEDIATE).

    Call before the first statement; a no-op on other databases.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={SQLITE_IMMEDIATE: True})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; let
    # SQLAlchemy emit BEGIN itself (see _sqlite_begin) and turn foreign keys on.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A unit of work that will write asks for IMMEDIATE: it takes the write lock at the
    # start, so two such transactions wait for each other (busy_timeout) instead of one
    # failing at once with "database is locked" when both try to upgrade a read lock.
    immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and foreign keys on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping: it costs a round trip on every checkout (every request). Connections are
    # renewed after half an hour instead; one dropped by a server restart fails its
    # request once (nothing is committed, so it can be retried) and the pool reconnects.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine_or_factory: Engine | sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    factory = (
        make_session_factory(engine_or_factory)
        if isinstance(engine_or_factory, Engine)
        else engine_or_factory
    )
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# PostgreSQL's SQLSTATE for "relation does not exist" (undefined_table).
_UNDEFINED_TABLE = "42P01"


def is_missing_table(error: DBAPIError) -> bool:
    """The statement used a table the database lacks: its schema was never migrated
    (SQLite: OperationalError "no such table"; PostgreSQL: ProgrammingError 42P01)."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == _UNDEFINED_TABLE:  # psycopg 3
        return True
    if getattr(orig, "pgcode", None) == _UNDEFINED_TABLE:  # psycopg 2
        return True
    return isinstance(error, OperationalError) and "no such table" in str(orig)


def is_connection_failure(error: DBAPIError) -> bool:
    """The database did not let us in (refused, unknown host or database, bad password):
    the error came before any statement."""
    return isinstance(error, OperationalError) and error.statement is None


def migrations_dir() -> Path:
    """The Alembic scripts: inside the package when installed from a wheel, else
    ``migrations/`` at the repository root (src layout, editable install)."""
    packaged = Path(__file__).resolve().parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None, *, connection: Any = None) -> Any:
    """An Alembic ``Config`` for ``url`` or an open ``connection`` (tests)."""
    from alembic.config import Config

    root = migrations_dir().parent
    ini = root / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["configure_logger"] = False
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(url: str | None = None, *, connection: Any = None) -> None:
    """Apply every migration up to head."""
    from alembic import command

    command.upgrade(alembic_config(url, connection=connection), "head")
