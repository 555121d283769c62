"""``yibao batch``: settle files of claims by person (in-process or on Dask), and clear a
month from millions of settlement rows.

The heavy libraries (pyarrow, polars, dask) and :mod:`yibao.batch` are imported inside the
commands, so ``yibao --help`` does not load them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from yibao.cli.settle import _read, load_catalogs, load_claims, load_policies
from yibao.commands import TokenOpt, collector_paused, command_session, reports_errors, say_error
from yibao.errors import InvalidInput
from yibao.money import fmt, from_fen

if TYPE_CHECKING:
    import polars as pl

    from yibao.batch.run import RunSummary

app = typer.Typer(
    help="Batch work at volume: settle files of claims on Dask, clear a month from Parquet.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_PROGRESS_AFTER = 1.0
"""Seconds: a progress bar appears only on work that lasts longer than this."""


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback; the bar shows once a second has passed."""
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    started = time.monotonic()
    task: TaskID | None = None

    def tick(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            if time.monotonic() - started < _PROGRESS_AFTER:
                return
            bar.start()
            task = bar.add_task(description, total=max(total, 1))
        bar.update(task, completed=done, total=max(total, 1))

    try:
        yield tick
    finally:
        if task is not None:
            bar.stop()


def _summary_table(summary: RunSummary, *, elapsed: float) -> Table:
    """The run's figures; time and claims/s end to end (reading, settling, writing)."""
    table = Table(title="Batch settlement 批量结算", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("claims", f"{summary.claims:,}"),
        ("settled", f"{summary.settled:,}"),
        ("rejected", f"{summary.rejected:,}"),
        ("total", fmt(from_fen(summary.total_fen))),
        ("fund pay", fmt(from_fen(summary.fund_pay_fen))),
        ("personal burden", fmt(from_fen(summary.personal_burden_fen))),
        ("time", f"{elapsed:.2f} s"),
        ("of which settling", f"{summary.seconds:.2f} s"),
        ("claims/s", f"{summary.claims / elapsed if elapsed > 0 else 0:,.0f}"),
        ("partitions", str(summary.partitions)),
        ("workers", str(summary.workers)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@app.command("settle")
def settle(
    claims: Annotated[
        Path,
        typer.Argument(
            help="Claims: contract JSON (a claim or a list; '-' = stdin), JSON Lines (.jsonl), "
            "or Parquet (X.parquet with X.lines.parquet beside it, or a folder holding "
            "claims.parquet and lines.parquet)."
        ),
    ],
    catalog: Annotated[
        list[Path],
        typer.Option("--catalog", help="Catalog CSV of a treatment region (repeatable)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Results Parquet file (one row a claim).")],
    policies: Annotated[
        list[Path] | None, typer.Option("--policies", help="Folder: every *.yaml in it.")
    ] = None,
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", help="Policy YAML (repeatable).")
    ] = None,
    lines_out: Annotated[
        Path | None,
        typer.Option("--lines-out", help="Also write the result lines to this Parquet file."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run on this Dask scheduler, e.g. tcp://HOST:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Start a local Dask cluster of N worker processes."),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            "--partitions", help="Split the claims by person into K parts (default: by size)."
        ),
    ] = None,
) -> None:
    """Settle CLAIMS as `yibao settle` does, by person, and write the results as Parquet
    (files only: no token)."""
    from yibao.batch import formats
    from yibao.batch.run import dask_client, settle_batch

    console = Console()
    started = time.perf_counter()
    try:
        if partitions is not None and partitions < 1:
            raise InvalidInput("--partitions", str(partitions), "must be at least 1")
        if workers is not None and workers < 1:
            raise InvalidInput("--workers", str(workers), "must be at least 1")
        if scheduler is not None and workers is not None:
            raise InvalidInput("--scheduler", scheduler, "give either --scheduler or --workers")
        if not catalog:
            raise InvalidInput("--catalog", "", "at least one catalog file is needed")
        if not policy and not policies:
            raise InvalidInput(
                "--policy", "", "at least one policy (--policy or --policies) is needed"
            )
        formats.check_out_path(out, "--out")
        if lines_out is not None:
            formats.check_out_path(lines_out, "--lines-out")
            if lines_out.resolve() == out.resolve():
                raise InvalidInput("--lines-out", str(lines_out), "is the same file as --out")
        kind = formats.claims_format(claims)
        loaded_policies = load_policies(policy or [], policies or [])
        loaded_catalog = load_catalogs(catalog)
        with collector_paused():
            if kind == "json":
                claims_table, lines_table = formats.tables_of(load_claims(claims, loaded_catalog))
            elif kind == "jsonl":
                claims_table, lines_table = formats.tables_of(
                    formats.claims_from_json_lines(_read(claims), str(claims), loaded_catalog)
                )
            else:
                claims_table, lines_table = formats.read_parquet_claims(claims, loaded_catalog)
            with (
                dask_client(scheduler=scheduler, workers=workers) as client,
                _progress("settling") as tick,
            ):
                results, result_lines, summary = settle_batch(
                    claims_table,
                    lines_table,
                    catalog=loaded_catalog,
                    policies=loaded_policies,
                    partitions=partitions,
                    client=client,
                    progress=tick,
                )
            formats.write_results(results, result_lines, out=out, lines_out=lines_out)
    except InvalidInput as exc:
        # the same one line as `yibao settle`: "error: FILE: PLACE: REASON", exit status 2
        say_error(str(exc))
        raise typer.Exit(2) from None
    console.print(_summary_table(summary, elapsed=time.perf_counter() - started))
    written = f"results: {out}" + (f", lines: {lines_out}" if lines_out is not None else "")
    console.print(written)


@app.command("export-settlements")
@reports_errors
def export_settlements(
    month: Annotated[str, typer.Option("--month", help="The month to clear, YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="Settlement rows Parquet file to write.")],
    token: TokenOpt,
) -> None:
    """Export the settlement rows a month's clearing reads (the user's region pairs; every
    pair for an admin) to Parquet, for `yibao batch clearing`."""
    from yibao.auth.tokens import authenticate
    from yibao.batch import clearing, formats

    formats.check_out_path(out, "--out")
    with command_session() as session, _progress("exporting") as tick:
        user = authenticate(session, token=token)
        count = clearing.export_settlements(
            session, actor=user, month=month, out=out, progress=tick
        )
    Console().print(f"{count:,} settlement rows of clearing up to {month}: {out}")


def _statements_table(frame: pl.DataFrame, month: str) -> Table:
    table = Table(title=f"Clearing statements {month} 清算单")
    headers = (
        ("insured → treatment", None),
        ("settled", "settlements"),
        ("reversed", "reversals"),
        ("late", "late_entries"),
        ("total", "total_fen"),
        ("pool", "pool_fen"),
        ("supplementary", "supplementary_fen"),
        ("assistance", "assistance_fen"),
        ("account", "account_fen"),
        ("cash", "cash_fen"),
        ("amount due", "amount_due_fen"),
    )
    for title, _ in headers:
        table.add_column(title, justify="left" if _ is None else "right")
    for row in frame.iter_rows(named=True):
        cells = [f"{row['insured_region']} → {row['treatment_region']}"]
        for _, key in headers[1:]:
            assert key is not None
            value = row[key]
            cells.append(fmt(from_fen(value)) if key.endswith("_fen") else f"{value:,}")
        table.add_row(*cells)
    return table


@app.command("clearing")
@reports_errors
def clearing_command(
    rows: Annotated[
        Path,
        typer.Argument(help="Settlement rows Parquet (from `yibao batch export-settlements`)."),
    ],
    month: Annotated[str, typer.Option("--month", help="The month to clear, YYYY-MM.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the statements: .csv, else Parquet."),
    ] = None,
) -> None:
    """Build a month's clearing statements (the clearing service's sums per region pair)
    from a Parquet file of settlement rows; print them, and write them with --out (files
    only: no token)."""
    from yibao.batch import clearing, formats

    if out is not None:
        formats.check_out_path(out, "--out")
    started = time.perf_counter()
    frame = clearing.build_statements_frame(rows, month=month)
    seconds = time.perf_counter() - started
    if out is not None:
        clearing.write_statements(frame, out)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(_statements_table(frame, clearing.month_arg(month)))
    console.print(f"{frame.height} statements in {seconds:.2f} s" + (f": {out}" if out else ""))
