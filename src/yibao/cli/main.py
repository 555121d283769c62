"""The ``yibao`` command line.

Each concept keeps its commands in ``src/yibao/<concept>/cli.py`` and registers them here
with one line (``app.add_typer(...)`` or ``app.command(...)``).
"""

import typer

from yibao.clearing.cli import app as clearing_app
from yibao.cli.platform import db_app, serve
from yibao.cli.settle import settle_command
from yibao.demo.cli import demo_command
from yibao.filings.cli import app as filings_app
from yibao.identity import install_log_masking
from yibao.policies.cli import catalog_app, policy_app
from yibao.reconciliation.cli import reconcile_command
from yibao.reimbursements.cli import app as reimbursements_app
from yibao.reimbursements.cli import audit_app as audit_checks_app
from yibao.settlements.cli import app as settlements_app
from yibao.settlements.cli import recovery_app
from yibao.users.cli import app as users_app

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """Yibao 医保: off-site medical insurance filings, settlement, reimbursement, clearing."""
    install_log_masking()


app.command("settle")(settle_command)
app.add_typer(db_app, name="db")
app.command("serve")(serve)
app.command("demo")(demo_command)
app.add_typer(users_app, name="users")
app.add_typer(policy_app, name="policy")
app.add_typer(catalog_app, name="catalog")
app.add_typer(filings_app, name="filings")
app.add_typer(settlements_app, name="settlements")
app.add_typer(recovery_app, name="recovery")
app.add_typer(reimbursements_app, name="reimbursements")
app.add_typer(audit_checks_app, name="audit-checks")
app.add_typer(clearing_app, name="clearing")
app.command("reconcile")(reconcile_command)
