"""Every command says what it does, every parameter what it is for, and who needs a token.

The walk goes over the Click command Typer builds (``typer.main.get_command``), so a command
added later is checked without being listed here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import typer
from typer import _click as click  # the click Typer vendors and builds its commands with
from typer.core import TyperGroup
from typer.testing import CliRunner

from yibao.cli.main import COMMANDS as ROOT_ENTRIES
from yibao.cli.main import app

runner = CliRunner()

# The operator's commands: they take no --token (the root help lists them).
OPERATOR = {
    "settle",
    "batch settle",
    "synth",
    "audit identity-reads",
    "simulate",
    "batch clearing",
    "serve",
    "demo",
    "db upgrade",
    "db status",
    "users create",
    "users list",
    "users set-password",
    "users token create",
    "users token list",
    "users token rotate",
    "users token revoke",
    "policy load",
    "catalog load",
    "filings expire",
    "filings rules",
    "documents cleanup",
    "institutions credentials issue",
    "institutions credentials list",
    "institutions credentials revoke",
    "audit verify",
    "backup",
    "restore",
    "db grant-app-role",
}


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, TyperGroup):  # the root loads its commands on demand
        ctx = click.Context(command)
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from walk(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = dict(walk(ROOT))
LEAVES = {path: cmd for path, cmd in COMMANDS.items() if not isinstance(cmd, TyperGroup)}


def test_the_walk_sees_every_command() -> None:
    assert {"settle", "db status", "reimbursements list", "recovery close"} <= set(LEAVES)
    assert len(LEAVES) > 30


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: p or "yibao")
def test_every_command_and_parameter_has_help(path: str) -> None:
    command = COMMANDS[path]
    assert (command.help or "").strip(), f"{path or 'yibao'}: no help"
    assert "``" not in (command.help or "")
    for param in command.params:
        text = getattr(param, "help", None) or ""
        assert text.strip(), f"{path}: {param.name} has no help"
        assert "``" not in text, f"{path}: {param.name}"


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: p or "yibao")
def test_help_pages_are_plain(path: str) -> None:
    result = runner.invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    for marker in ("<bool>", "``", "╭"):
        assert marker not in result.output, f"{path}: {marker!r} in help"


@pytest.mark.parametrize("path", sorted(LEAVES))
def test_a_token_wherever_the_api_needs_one(path: str) -> None:
    names = {param.name for param in LEAVES[path].params}
    if path in OPERATOR:
        assert "token" not in names, f"{path} is the operator's: no token"
    else:
        assert "token" in names, f"{path} acts for a person: it needs --token"


def test_the_root_help_says_who_needs_a_token_and_which_database() -> None:
    text = " ".join(runner.invoke(app, ["--help"]).output.split())
    assert "take --token (or YIBAO_TOKEN)" in text
    assert "The operator's commands take no token: settle" in text
    assert "./var/demo.db when only a demo has been run here" in text
    assert "Database now: " in text
    for path in OPERATOR - {"settle", "filings rules"}:
        help_text = " ".join((LEAVES[path].help or "").split())
        assert "no token" in help_text, path


@pytest.mark.parametrize("name", sorted(ROOT_ENTRIES))
def test_the_root_help_line_is_the_commands_own(name: str) -> None:
    """The root lists its commands without importing them: each line it shows must be the
    one the command itself says."""
    assert ROOT_ENTRIES[name].summary == COMMANDS[name].get_short_help_str(limit=1000)


def test_the_root_help_and_settle_start_without_the_platform() -> None:
    """`yibao --help` and `yibao settle` load neither the web stack nor the database layer."""
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from yibao.cli.main import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = {'sqlalchemy', 'pydantic', 'fastapi', 'starlette', 'rich', 'yibao.wiring'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
        "import yibao.cli.settle\n"
        "print(sorted({'sqlalchemy', 'fastapi', 'starlette', 'rich', 'yibao.wiring'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]", out[0]
    assert out[1] == "[]", out[1]
