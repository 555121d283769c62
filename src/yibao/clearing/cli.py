"""``yibao clearing``: build a month's statements with a progress display, confirm, list."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from yibao.auth.tokens import authenticate
from yibao.clearing import service
from yibao.clearing.models import ClearingStatement
from yibao.commands import TokenOpt, command_session, reports_errors
from yibao.money import fmt, from_fen

app = typer.Typer(
    help="Clearing (清算) between insured and treatment regions.", no_args_is_help=True
)


def _out() -> Console:
    """The terminal, or a wide page when the output goes to a file or a pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _table(rows: list[ClearingStatement], title: str) -> Table:
    table = Table(title=title)
    for column in (
        "id",
        "month",
        "insured → treatment",
        "state",
        "settled",
        "reversed",
        "pool",
        "supplementary",
        "assistance",
        "account",
        "amount due",
    ):
        table.add_column(column, justify="right" if column not in ("state",) else "left")
    for r in rows:
        table.add_row(
            str(r.id),
            r.year_month,
            f"{r.insured_region} → {r.treatment_region}",
            r.state,
            str(r.settlements),
            str(r.reversals),
            fmt(from_fen(r.pool_fen)),
            fmt(from_fen(r.supplementary_fen)),
            fmt(from_fen(r.assistance_fen)),
            fmt(from_fen(r.account_fen)),
            fmt(from_fen(service.amount_due_fen(r))),
        )
    return table


@app.command("build")
@reports_errors
def build(
    month: Annotated[str, typer.Argument(help="The month to clear, YYYY-MM.")],
    token: TokenOpt,
    confirm: Annotated[
        bool, typer.Option(help="Also ask to freeze the statements the user owes (four eyes).")
    ] = False,
) -> None:
    """Audit the month's settlements, then build (and optionally confirm) its statements."""
    console = Console(stderr=True)
    with (
        command_session() as session,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        tasks: dict[str, TaskID] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done if total else 1, total=max(total, 1))

        user = authenticate(session, token=token)
        rows = service.build_month(session, actor=user, month=month, confirm=confirm, progress=tick)
    _out().print(_table(rows, f"Clearing statements {month}"))


@app.command("list")
@reports_errors
def list_statements(
    token: TokenOpt,
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
) -> None:
    """Statements of the user's region (all for an admin)."""
    with command_session() as session:
        user = authenticate(session, token=token)
        rows = service.list_statements(session, actor=user, month=month)
    _out().print(_table(rows, "Clearing statements"))


@app.command("confirm")
@reports_errors
def confirm(
    statement_id: Annotated[int, typer.Argument(help="The statement's id.")], token: TokenOpt
) -> None:
    """Ask to freeze one draft statement of an ended month; a second user of the centre
    approves the request (POST /api/v1/approvals/ID/approve)."""
    with command_session() as session:
        user = authenticate(session, token=token)
        approval = service.confirm_statement(session, actor=user, statement_id=statement_id)
        typer.echo(
            f"statement {statement_id}: confirmation requested as approval {approval.id}; "
            "a second user approves it"
        )
