"""The ``yibao`` command line."""

import typer

from yibao.cli.settle import settle_command

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """Yibao 医保: off-site medical insurance filings, settlement, reimbursement, clearing."""


app.command("settle")(settle_command)
