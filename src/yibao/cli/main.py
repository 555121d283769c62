"""The ``yibao`` command line.

Each concept keeps its commands in ``src/yibao/<concept>/cli.py``; they are listed once, in
:data:`COMMANDS`, with the one line the root help shows, and imported only when one of them
runs: ``yibao --help`` and ``yibao settle`` do not load the web stack, the database layer or
the other concepts. To add a command, add its row (``tests/e2e/test_cli_help.py`` checks that
the line matches the command's own help). Help is plain text (no type markers such as
``<bool>``); the same test checks that every command and parameter says what it is for.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import typer
from typer import _click as click  # the click Typer vendors: the types its commands take
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup

from yibao.cli.sealing import UNSEALED, sealing
from yibao.identity import install_log_masking
from yibao.locations import database_choice, database_url_now, shown_url


class Entry(NamedTuple):
    """A command of the root: where it lives and what the root help says of it."""

    module: str
    attribute: str
    summary: str
    # Commands that touch the platform's services need every reaction between concepts
    # subscribed (yibao.wiring); the file-only ones (settle, batch) do not load it.
    services: bool = True


COMMANDS: dict[str, Entry] = {
    "settle": Entry(
        "yibao.cli.settle",
        "settle_command",
        "Settle CLAIMS with the treatment place's catalog and the insured place's policy.",
        services=False,
    ),
    "db": Entry(
        "yibao.cli.platform",
        "db_app",
        "The database: which one the commands use, and its schema (Alembic migrations).",
    ),
    "serve": Entry(
        "yibao.cli.platform",
        "serve",
        "Run the API server (OpenAPI at /docs) on the database `yibao db status` names, once "
        "its schema is at the latest migration.",
    ),
    "demo": Entry(
        "yibao.demo.cli",
        "demo_command",
        "Load the demo (regions, institutions, persons, policies, catalogs, filings, one user "
        "per role) into a fresh SQLite database, print a guide with a token per role, and start "
        "the server.",
    ),
    "users": Entry(
        "yibao.users.cli",
        "app",
        "Platform users and their bearer tokens (the operator's commands: no token).",
    ),
    "policy": Entry(
        "yibao.policies.cli",
        "policy_app",
        "Policies of insured regions (YAML), versioned.",
    ),
    "catalog": Entry(
        "yibao.policies.cli",
        "catalog_app",
        "Catalogs of treatment regions (CSV), versioned.",
    ),
    "filings": Entry(
        "yibao.filings.cli",
        "app",
        "Off-site filings (备案).",
    ),
    "documents": Entry(
        "yibao.documents.cli",
        "app",
        "Uploaded documents (材料).",
    ),
    "settlements": Entry(
        "yibao.settlements.cli",
        "app",
        "Direct settlements (直接结算): list, explain, totals, reverse.",
    ),
    "recovery": Entry(
        "yibao.recovery.cli",
        "recovery_app",
        "Third-party recovery cases (第三方追偿).",
    ),
    "reimbursements": Entry(
        "yibao.reimbursements.cli",
        "app",
        "Manual reimbursement (零星报销) claims.",
    ),
    "audit-checks": Entry(
        "yibao.reimbursements.cli",
        "audit_app",
        "Audit checks (稽核) of claims and settlements.",
    ),
    "audit": Entry(
        "yibao.audit.cli",
        "app",
        "The audit log (审计日志): check its hash chain.",
    ),
    "backup": Entry(
        "yibao.ops.cli",
        "backup_command",
        "Back up the database and the uploads to DEST, with a manifest of checksums, row "
        "counts and the migration (docs/operations.md).",
    ),
    "restore": Entry(
        "yibao.ops.cli",
        "restore_command",
        "Restore a backup into the database and upload folder the settings name, once every "
        "checksum matches; refuses ones that are not empty unless --force.",
    ),
    "clearing": Entry(
        "yibao.clearing.cli",
        "app",
        "Clearing (清算) between insured and treatment regions.",
    ),
    "institutions": Entry(
        "yibao.nhsa.cli",
        "app",
        "Institutions' credentials for the national interface (docs/nhsa.md).",
    ),
    "reconcile": Entry(
        "yibao.reconciliation.cli",
        "reconcile_command",
        "Reconcile a hospital's totals (and details) for a period with Yibao's settlements: "
        "answer matched, or list every difference (missing, extra, amount differs).",
    ),
    "batch": Entry(
        "yibao.cli.batch",
        "app",
        "Batch work at volume: settle files of claims on Dask, clear a month from Parquet.",
    ),
    "synth": Entry(
        "yibao.cli.simulate",
        "synth_command",
        "Generate a synthetic year of claims (a population and its claims) as Parquet.",
        services=False,
    ),
    "simulate": Entry(
        "yibao.cli.simulate",
        "simulate_command",
        "Settle the same claims under two sets of policies and report the difference.",
        services=False,
    ),
}


def load_command(name: str) -> click.Command:
    """The Click command of a root entry, its module imported now."""
    entry = COMMANDS[name]
    if entry.services:
        importlib.import_module("yibao.wiring")  # every reaction between concepts subscribed
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    command: click.Command
    if isinstance(target, typer.Typer):
        target.rich_markup_mode = None  # plain help, as the root's (no boxes)
        command = typer.main.get_group(target)
        command.name = name
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    if entry.services and name not in UNSEALED:
        # what it prints is sealed as the API's answers are (yibao.cli.sealing)
        command.invoke = sealing(  # type: ignore[method-assign]
            name, command.invoke, getattr(command, "commands", None)
        )
    return command


class _Yibao(TyperGroup):
    """The root command: its commands load on demand; its help lists them from
    :data:`COMMANDS` and ends with the database the commands would use now."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # as Click's own listing: each line cut to the width left beside the names
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, make_default_short_help(e.summary, limit)) for name, e in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_help(self, ctx: click.Context) -> str:
        url = database_url_now()
        return (
            f"{super().get_help(ctx)}\n\nDatabase now: {shown_url(url)} ({database_choice(url)})\n"
        )


app = typer.Typer(
    cls=_Yibao,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main() -> None:
    """Yibao 医保: off-site medical insurance filings, settlement, reimbursement, clearing.

    Commands that act for a person take --token (or YIBAO_TOKEN), the bearer token the API
    takes, and may do what the API lets that user do. The operator's commands take no
    token: settle (files only), batch settle and batch clearing (files only), synth and
    simulate (files only), db, serve, demo, users, policy load, catalog load, filings
    expire, filings rules, documents cleanup, institutions credentials, audit verify and
    identity-reads, backup and restore.

    Database: YIBAO_DATABASE_URL when set; otherwise ./var/yibao.db (made by `yibao db
    upgrade`), or ./var/demo.db when only a demo has been run here (`make demo`) and
    ./var/yibao.db does not exist. `yibao db status` says which and in what state. A
    command never creates a database: on a missing one it says so and exits with status 2.

    Errors are one line on stderr, `error: <code>: <message>`, with exit status 2.
    """
    install_log_masking()
