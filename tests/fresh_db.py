"""A database of its own for a test that must commit (concurrency, backups, roles).

``YIBAO_TEST_DB`` picks the backend as for the rest of the suite: a SQLite file in the
test's folder, or ``yibao_t_<random>`` on the PostgreSQL of ``YIBAO_TEST_PG_URL``, dropped
afterwards. The schema comes from the migrations.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL, _backend
from yibao.db import upgrade_database


@contextmanager
def empty_database(folder: Path, name: str = "fresh") -> Iterator[str]:
    """The URL of a new, empty database (no schema)."""
    if _backend() == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    db_name = f"yibao_t_{name}_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=db_name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_database(folder: Path, name: str = "fresh") -> Iterator[str]:
    """The URL of a new database migrated to head."""
    with empty_database(folder, name) as url:
        upgrade_database(url)
        yield url


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A new PostgreSQL database migrated to head, whatever ``YIBAO_TEST_DB`` says (for the
    tests of what only PostgreSQL has); skipped where PostgreSQL is not running, except in
    CI."""
    import os

    import pytest
    from sqlalchemy.exc import OperationalError

    db_name = f"yibao_t_{name}_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    except OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not running here; CI runs this test")
    try:
        url = make_url(PG_ADMIN_URL).set(database=db_name).render_as_string(hide_password=False)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
