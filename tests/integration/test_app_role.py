"""The application's PostgreSQL role (``yibao db grant-app-role``): it reads and writes the
concepts' tables, adds to and reads the audit log, and cannot rewrite the log in any way:
UPDATE, DELETE, TRUNCATE, ALTER TABLE ... DISABLE TRIGGER and DROP are all refused.

PostgreSQL only (roles); a database of its own, migrated by the owner (``postgres``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import PG_ADMIN_URL
from tests.fresh_db import postgres_database
from yibao.audit.models import AuditEntry
from yibao.audit.service import record, verify_chain
from yibao.cli.main import app as cli_app
from yibao.db import make_engine, session_scope
from yibao.registry.models import Region

pytestmark = pytest.mark.postgres

# each append-only table with a harmless assignment of one of its columns
PROTECTED = {
    "audit_log": "actor = actor",
    "audit_chain": "hash = hash",
    "identity_reads": "why = why",
}


@pytest.fixture
def owner_url(tmp_path: Path) -> Iterator[str]:
    with postgres_database("role") as url:
        yield url


@pytest.fixture
def role(owner_url: str) -> Iterator[str]:
    name = f"yibao_t_app_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            database = make_url(owner_url).database
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


def _cli(owner_url: str, *args: str) -> Any:
    env = {"YIBAO_DATABASE_URL": "sqlite:///unused.db", "YIBAO_MIGRATION_DATABASE_URL": owner_url}
    return CliRunner().invoke(cli_app, list(args), env=env)


def _as(owner_url: str, role: str) -> str:
    return make_url(owner_url).set(username=role).render_as_string(hide_password=False)


def _refused(engine: Any, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value.orig)


def test_the_app_role_may_add_to_the_audit_log_and_never_rewrite_it(
    owner_url: str, role: str
) -> None:
    granted = _cli(owner_url, "db", "grant-app-role", role)
    assert granted.exit_code == 0, granted.output
    assert "insert and select only on audit_chain, audit_log, identity_reads" in granted.output

    app = make_engine(_as(owner_url, role))
    try:
        # the ordinary work: writes on a concept's table, an audit entry sealed at commit
        with session_scope(app) as session:
            session.add(Region(code="990000", name="测试省", province_code="990000"))
            entry = record(
                session, actor="app", action="probe.added", entity="probe", entity_id=1,
                before=None, after={"x": 1},
            )  # fmt: skip
        with session_scope(app) as session:
            region = session.get(Region, "990000")
            assert region is not None
            region.name = "改名"
        with session_scope(app) as session:
            session.delete(session.get(Region, "990000"))
        with Session(app) as session:
            assert session.scalars(select(AuditEntry.action)).all() == ["probe.added"]
            assert verify_chain(session).intact

        for table, assignment in PROTECTED.items():
            assert "permission denied" in _refused(app, f"UPDATE {table} SET {assignment}")
            assert "permission denied" in _refused(app, f"DELETE FROM {table}")
            assert "permission denied" in _refused(app, f"TRUNCATE {table}")
            assert "must be owner" in _refused(app, f"ALTER TABLE {table} DISABLE TRIGGER USER")
            assert "must be owner" in _refused(app, f"DROP TABLE {table} CASCADE")
        assert "permission denied" in _refused(
            app, f"UPDATE audit_log SET actor = 'x' WHERE id = {entry.id}"
        )
        assert "permission denied" in _refused(app, "UPDATE alembic_version SET version_num = 'x'")
        assert "must be owner" in _refused(app, "ALTER TABLE regions ADD COLUMN x int")
        assert "permission denied" in _refused(app, "CREATE TABLE mine (x int)")
    finally:
        app.dispose()

    # the log is as written: one entry, chained
    owner = make_engine(owner_url)
    try:
        with Session(owner) as session:
            assert session.scalars(select(AuditEntry.actor)).all() == ["app"]
            assert verify_chain(session).links == 1
    finally:
        owner.dispose()


def test_upgrade_can_grant_the_role_too(owner_url: str, role: str) -> None:
    result = _cli(owner_url, "db", "upgrade", "--app-role", role)
    assert result.exit_code == 0, result.output
    assert f"role {role}: read and write on" in result.output
    app = make_engine(_as(owner_url, role))
    try:
        assert "permission denied" in _refused(app, "TRUNCATE audit_log")
    finally:
        app.dispose()


def test_roles_that_cannot_be_the_applications_are_refused(owner_url: str, role: str) -> None:
    missing = _cli(owner_url, "db", "grant-app-role", "no_such_role_here")
    assert missing.exit_code == 2
    assert "role 'no_such_role_here' does not exist" in missing.output
    superuser = _cli(owner_url, "db", "grant-app-role", "postgres")
    assert superuser.exit_code == 2
    assert "is a superuser" in superuser.output
    owner = make_engine(owner_url)
    try:
        with owner.begin() as conn:
            conn.execute(text(f"ALTER TABLE regions OWNER TO {role}"))
    finally:
        owner.dispose()
    owning = _cli(owner_url, "db", "grant-app-role", role)
    assert owning.exit_code == 2
    assert "owns regions" in owning.output


def test_sqlite_has_no_roles(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert _cli(url, "db", "upgrade").exit_code == 0
    result = _cli(url, "db", "grant-app-role", "anyone")
    assert result.exit_code == 2
    assert "SQLite has no roles" in result.output


def test_a_wrong_update_of_the_log_is_refused_even_for_the_owner(owner_url: str) -> None:
    """The owner is held back by the triggers (it could drop them: the chain shows it)."""
    owner = make_engine(owner_url)
    try:
        with session_scope(owner) as session:
            record(
                session, actor="o", action="probe", entity="p", entity_id=1, before=None,
                after=None,
            )  # fmt: skip
        for sql in ("UPDATE audit_log SET actor = 'x'", "TRUNCATE audit_log CASCADE"):
            with pytest.raises((ProgrammingError, DBAPIError)) as caught, owner.begin() as conn:
                conn.execute(text(sql))
            assert "append-only" in str(caught.value.orig)
    finally:
        owner.dispose()
