"""The ``yibao`` command line.

Each concept keeps its commands in ``src/yibao/<concept>/cli.py`` and registers them here
with one line (``app.add_typer(...)`` or ``app.command(...)``). Help is plain text (no
type markers such as ``<bool>``); ``tests/e2e/test_cli_help.py`` checks that every command
and parameter says what it is for.
"""

import typer
from typer._click import Context  # the click Typer vendors: the type its commands take
from typer.core import TyperGroup

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.clearing.cli import app as clearing_app
from yibao.cli.platform import database_now, db_app, serve
from yibao.cli.settle import settle_command
from yibao.demo.cli import demo_command
from yibao.documents.cli import app as documents_app
from yibao.filings.cli import app as filings_app
from yibao.identity import install_log_masking
from yibao.nhsa.cli import app as institutions_app
from yibao.policies.cli import catalog_app, policy_app
from yibao.reconciliation.cli import reconcile_command
from yibao.recovery.cli import recovery_app
from yibao.reimbursements.cli import app as reimbursements_app
from yibao.reimbursements.cli import audit_app as audit_checks_app
from yibao.settlements.cli import app as settlements_app
from yibao.users.cli import app as users_app


class _Yibao(TyperGroup):
    """The root command: its help ends with the database the commands would use now."""

    def get_help(self, ctx: Context) -> str:
        return f"{super().get_help(ctx)}\n\nDatabase now: {database_now()}\n"


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
    token: settle (files only), db, serve, demo, users, policy load, catalog load, filings
    expire, filings rules, documents cleanup and institutions credentials.

    Database: YIBAO_DATABASE_URL when set; otherwise ./var/yibao.db (made by `yibao db
    upgrade`), or ./var/demo.db when only a demo has been run here (`make demo`) and
    ./var/yibao.db does not exist. `yibao db status` says which and in what state. A
    command never creates a database: on a missing one it says so and exits with status 2.

    Errors are one line on stderr, `error: <code>: <message>`, with exit status 2.
    """
    install_log_masking()


app.command("settle")(settle_command)
app.add_typer(db_app, name="db")
app.command("serve")(serve)
app.command("demo")(demo_command)
app.add_typer(users_app, name="users")
app.add_typer(policy_app, name="policy")
app.add_typer(catalog_app, name="catalog")
app.add_typer(filings_app, name="filings")
app.add_typer(documents_app, name="documents")
app.add_typer(settlements_app, name="settlements")
app.add_typer(recovery_app, name="recovery")
app.add_typer(reimbursements_app, name="reimbursements")
app.add_typer(audit_checks_app, name="audit-checks")
app.add_typer(clearing_app, name="clearing")
app.add_typer(institutions_app, name="institutions")
app.command("reconcile")(reconcile_command)
