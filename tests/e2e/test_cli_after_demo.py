"""The command line after ``make demo`` and before anything: which database, and one line.

``yibao demo --no-serve --no-settle`` builds ./var/demo.db in a folder of its own; the
commands run there afterwards use it without ``YIBAO_DATABASE_URL``. In an empty folder a
command says the database is missing and creates nothing; on a database whose schema was
never migrated (SQLite and PostgreSQL) it says so in one line.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from tests.conftest import PG_ADMIN_URL
from yibao.cli.main import app

runner = CliRunner()

MISSING = (
    "error: database.missing: database ./var/yibao.db does not exist: "
    "run `yibao db upgrade` (or `make demo`)\n"
)
NOT_INITIALISED = (
    "error: database.not_initialised: database not initialised: run `yibao db upgrade`\n"
)


@pytest.fixture(autouse=True)
def _no_database_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("YIBAO_DATABASE_URL", "YIBAO_TOKEN", "YIBAO_UPLOAD_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the demo was loaded (its own SQLite database, whatever the run's)."""
    folder = tmp_path_factory.mktemp("after-demo")
    result = runner.invoke(
        app, ["demo", "--no-serve", "--no-settle", "--var-dir", str(folder / "var")]
    )
    assert result.exit_code == 0, result.output
    return folder


def tokens(folder: Path) -> dict[str, str]:
    guide = (folder / "var" / "demo-guide.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^export (\w+)=(yb_\S+)", guide, flags=re.MULTILINE))


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def test_the_commands_use_the_demo_database_after_a_demo(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_folder)
    token = tokens(demo_folder)

    listed = invoke("reimbursements", "list", "--token", token["AGENCY"])
    assert listed.exit_code == 0, listed.output
    assert listed.stderr == ""

    policies = invoke("policy", "list", "--token", token["INSURED"])
    assert policies.exit_code == 0, policies.output
    assert "bj-employee-retired-2026\t110000" in policies.stdout

    status = invoke("db", "status")
    assert status.exit_code == 0, status.output
    assert "database: sqlite:///./var/demo.db" in status.stdout
    assert "the demo's, as ./var/yibao.db does not exist" in status.stdout
    assert "uploads: var/demo-uploads" in status.stdout
    assert "Database now: sqlite:///./var/demo.db" in invoke("--help").stdout

    assert not (demo_folder / "var" / "yibao.db").exists()


def test_a_person_command_needs_a_token_after_the_demo_too(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_folder)
    result = invoke("settlements", "list")
    assert result.exit_code == 2
    assert "--token" in result.output
    wrong = invoke("settlements", "list", "--token", "yb_0000_nope")
    assert (wrong.exit_code, wrong.stdout) == (2, "")
    assert wrong.stderr == "error: auth.invalid_token: unknown or inactive token\n"


def test_a_certificate_for_who_may_see_it(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(demo_folder)
    token = tokens(demo_folder)
    engine = create_engine(f"sqlite:///{demo_folder / 'var' / 'demo.db'}")
    with engine.connect() as conn:
        number = conn.execute(
            text(
                "SELECT f.number FROM filings f JOIN users u ON u.person_id = f.person_id"
                " WHERE u.token_id = :token_id AND f.number IS NOT NULL ORDER BY f.id"
            ),
            {"token_id": token["INSURED"].split("_")[1]},
        ).first()[0]
    engine.dispose()

    mine = invoke("filings", "certificate", number, "--token", token["INSURED"])
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.stdout)["filing_number"] == number
    not_mine = invoke("filings", "certificate", number, "--token", token["HOSPITAL_BJ"])
    missing = invoke("filings", "certificate", "BA110000-2026-999999", "--token", token["ADMIN"])
    assert not_mine.stderr == f"error: filing.not_found: filing {number} not found\n"
    assert missing.stderr == "error: filing.not_found: filing BA110000-2026-999999 not found\n"
    assert not_mine.exit_code == missing.exit_code == 2


def test_what_a_command_prints_has_identity_numbers_masked(
    demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free text stored as written (a reviewer's note naming someone's identity number) is
    sealed when a command prints it, on standard output and in an error on standard error,
    as the API seals its answers."""
    import shutil

    shutil.copytree(demo_folder / "var", tmp_path / "var")  # the module's demo stays as it was
    monkeypatch.chdir(tmp_path)
    token = tokens(demo_folder)
    note = "发票抬头为 11010519491231002X，非本人"

    returned = invoke("reimbursements", "return", "1", "--note", note, "--token", token["AGENCY"])
    assert returned.exit_code == 0, returned.output
    shown = json.loads(returned.stdout)
    assert shown["return_note"] == "发票抬头为 110105********002X，非本人"
    assert "11010519491231002X" not in returned.output

    again = invoke("reimbursements", "show", "1", "--token", token["AGENCY"])
    assert json.loads(again.stdout)["return_note"] == shown["return_note"]

    # an error that repeats what was typed is sealed too
    missing = invoke("filings", "certificate", "BA11010519491231002X", "--token", token["AGENCY"])
    assert missing.exit_code == 2
    assert "11010519491231002X" not in missing.stderr and "110105********002X" in missing.stderr


def test_the_platform_database_wins_once_it_exists(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo.db").write_bytes((demo_folder / "var" / "demo.db").read_bytes())
    assert "sqlite:///./var/demo.db" in invoke("db", "status").stdout
    (tmp_path / "var" / "yibao.db").touch()
    status = invoke("db", "status").stdout
    assert "database: sqlite:///./var/yibao.db" in status
    assert "schema: database not initialised" in status


@pytest.mark.parametrize(
    "args",
    [
        ("reimbursements", "list", "--token", "yb_0000_x"),
        ("settlements", "show", "1", "--token", "yb_0000_x"),
        ("users", "list"),
        ("users", "create", "--role", "admin"),
        ("policy", "load", "."),
        ("filings", "expire"),
        ("documents", "cleanup"),
        ("serve", "--port", "1"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_in_an_empty_folder_one_line_and_nothing_created(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert (result.stdout, result.stderr) == ("", MISSING)
    assert list(tmp_path.iterdir()) == []


def test_db_status_in_an_empty_folder_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("db", "status")
    assert result.exit_code == 0
    assert "database ./var/yibao.db does not exist" in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def unmigrated_url(tmp_path: Path, db_backend: str) -> Iterator[str]:
    """A database that exists but whose schema was never migrated."""
    if db_backend == "sqlite":
        path = tmp_path / "blank.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)"))
        engine.dispose()
        yield f"sqlite:///{path}"
        return
    name = f"yibao_t_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ("reimbursements", "list", "--token", "yb_0000_x"),
        ("users", "list"),
        ("users", "create", "--role", "admin"),
        ("filings", "expire"),
        ("serve", "--port", "1"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_unmigrated_database_is_named_in_one_line(
    args: tuple[str, ...], unmigrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YIBAO_DATABASE_URL", unmigrated_url)
    result = invoke(*args)
    assert result.exit_code == 2
    assert (result.stdout, result.stderr) == ("", NOT_INITIALISED)
    assert "schema: database not initialised" in invoke("db", "status").stdout
