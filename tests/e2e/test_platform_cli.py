"""The commands on a database of their own: db upgrade, users, policy and catalog load."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.conftest import PG_ADMIN_URL
from yibao.auth.tokens import authenticate
from yibao.cli.main import app
from yibao.data import demo_path
from yibao.db import make_engine, session_scope
from yibao.policies.models import CatalogItemRow, PolicyVersion

runner = CliRunner()


@pytest.fixture
def own_db(tmp_path: Path, db_backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database for this test alone (commands commit for real)."""
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
        monkeypatch.setenv("YIBAO_DATABASE_URL", url)
        yield url
        return
    name = f"yibao_t_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_commands_build_a_working_platform(own_db: str) -> None:
    assert os.environ["YIBAO_DATABASE_URL"] == own_db
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["users", "create", "--role", "insured", "--person-id", "99"])
    assert result.exit_code == 2
    assert "user.scope_unknown" in result.output

    result = runner.invoke(app, ["users", "create", "--role", "admin", "--name", "root"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("yb_")

    result = runner.invoke(app, ["policy", "load", str(demo_path("policies"))])
    assert result.exit_code == 0, result.output
    assert "policy bj-employee-retired-2026: created" in result.output
    result = runner.invoke(
        app, ["policy", "load", str(demo_path("policies", "110000-employee-retired-2026.yaml"))]
    )
    assert "policy bj-employee-retired-2026: unchanged" in result.output

    catalog = demo_path("catalogs", "130600.csv")
    result = runner.invoke(app, ["catalog", "load", str(catalog), "--effective-from", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert "catalog 130600@2026-01-01: created" in result.output
    result = runner.invoke(app, ["catalog", "load", str(catalog), "--effective-from", "01/01/2026"])
    assert result.exit_code != 0

    rows = len(catalog.read_text(encoding="utf-8").strip().splitlines()) - 1
    policy_files = len(list(demo_path("policies").glob("*.yaml")))
    engine = make_engine(own_db)
    try:
        with session_scope(engine) as session:
            assert authenticate(session, token=token).role == "admin"
            assert session.scalar(select(func.count()).select_from(PolicyVersion)) == policy_files
            assert session.scalar(select(func.count()).select_from(CatalogItemRow)) == rows
    finally:
        engine.dispose()


def test_bad_policy_file_is_one_line_and_exit_2(own_db: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nregion: '11'\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "load", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith("error: input.invalid: ")
    assert str(bad) in result.output
