"""``yibao synth`` and ``yibao simulate``: synthetic years, and a year settled under two sets
of policies and compared (issue 12; ``docs/batch.md``).

numpy, pyarrow and :mod:`yibao.batch` are imported inside the commands, so ``yibao --help``
does not load them.
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from yibao.cli.settle import _read, load_catalogs, load_claims, load_policies
from yibao.commands import collector_paused, say_error
from yibao.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from yibao.batch.simulate import Simulation
    from yibao.batch.synth import Figure
    from yibao.engine import Catalog, Policy


def _catalog(files: list[Path] | None) -> Catalog:
    """The catalogs named, else the packaged demo catalogs."""
    from yibao.data import demo_path

    return load_catalogs(files or sorted(demo_path("catalogs").glob("*.csv")))


def _policy_folder(folder: Path, option: str) -> list[Policy]:
    if not folder.is_dir():
        raise InvalidInput(option, str(folder), "not a folder")
    policies = load_policies([], [folder])
    if not policies:
        raise InvalidInput(option, str(folder), "holds no policy (*.yaml)")
    return policies


# --- yibao synth --------------------------------------------------------------------------


def _figures_table(figures: list[Figure]) -> Table:
    table = Table(title="Calibration 校准 (targets: docs/batch.md)")
    table.add_column("figure")
    table.add_column("target", justify="right")
    table.add_column("generated", justify="right")
    table.add_column("source")
    for f in figures:
        if f.unit == "share":
            value = f"{f.achieved:.2%}"
        elif f.unit == "yuan":
            value = f"{f.achieved:,.2f}"
        else:
            value = f"{f.achieved:,.0f}"
        table.add_row(f.name, f.target, value, f.source)
    return table


def synth_command(
    persons: Annotated[
        int, typer.Option("--persons", help="How many insured persons to generate.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Claims Parquet file to write; the lines go to X.lines.parquet beside it."
        ),
    ],
    year: Annotated[int, typer.Option("--year", help="The calendar year of the claims.")] = 2026,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed writes the same files.")
    ] = 0,
    policies: Annotated[
        Path | None,
        typer.Option(
            "--policies",
            help="Folder of policies: the home regions and person types (default: the demo's).",
        ),
    ] = None,
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            help="Catalog CSV the lines draw their codes from (repeatable; default: the demo's).",
        ),
    ] = None,
) -> None:
    """Generate a synthetic year of claims (a population and its claims) as Parquet.

    Calibrated to the published shares of cross-province direct settlement (NHSA, Q1 2025):
    inpatient, ordinary and chronic outpatient and pharmacy claims in those counts and at
    those averages, with a long tail of large bills, class B items, lines above price
    ceilings, repeated admissions, off-site filers, emergencies and unfiled off-site cases.
    The operator's command: files only, no token.
    """
    from yibao.batch import synth
    from yibao.batch.formats import check_out_path, lines_path

    try:
        if persons < 1:
            raise InvalidInput("--persons", str(persons), "must be at least 1")
        if not 1900 <= year <= 2200:
            raise InvalidInput("--year", str(year), "not a plausible calendar year")
        if out.suffix.lower() not in (".parquet", ".pq"):
            raise InvalidInput("--out", str(out), "name a .parquet file")
        check_out_path(out, "--out")
        if policies is None and catalog is None:
            loaded_policies, loaded_catalog = synth.demo_inputs()
        else:
            loaded_policies = (
                _policy_folder(policies, "--policies") if policies else synth.demo_inputs()[0]
            )
            loaded_catalog = _catalog(catalog)
        started = time.perf_counter()
        with collector_paused():
            try:
                claims, lines = synth.synth_tables(
                    persons, year, seed, policies=loaded_policies, catalog=loaded_catalog
                )
            except ValueError as exc:
                raise InvalidInput("--policies", "", str(exc)) from None
            synth.write_tables(claims, lines, out)
        seconds = time.perf_counter() - started
    except InvalidInput as exc:
        say_error(str(exc))
        raise typer.Exit(2) from None
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(_figures_table(synth.calibration(claims, lines, loaded_catalog)))
    for kind, count in sorted(synth.uncovered(claims, loaded_policies, year).items()):
        console.print(
            f"note: no policy of {year} for {kind}: its {count:,} claims will be rejected"
        )
    console.print(
        f"{claims.num_rows:,} claims, {lines.num_rows:,} lines of "
        f"{persons:,} persons in {seconds:.1f} s: {out} and {lines_path(out)}"
    )


# --- yibao simulate -----------------------------------------------------------------------


def _read_claims(path: Path, catalog: Catalog) -> tuple[pa.Table, pa.Table]:
    """CLAIMS as ``yibao batch settle`` reads them: contract JSON, JSON Lines or Parquet."""
    from yibao.batch import formats

    kind = formats.claims_format(path)
    if kind == "json":
        return formats.tables_of(load_claims(path, catalog))
    if kind == "jsonl":
        return formats.tables_of(formats.claims_from_json_lines(_read(path), str(path), catalog))
    return formats.read_parquet_claims(path, catalog)


def _summary(sim: Simulation, out: Path, person_diff: Path | None) -> Table:
    from yibao.batch.simulate import percent, yuan

    h = sim.headline
    table = Table(title="Policy simulation 政策模拟", show_header=True)
    table.add_column("figure")
    table.add_column("baseline 现行", justify="right")
    table.add_column("reform 改革", justify="right")
    table.add_column("difference 差额", justify="right")
    table.add_row(
        "claims settled",
        f"{h.settled[0]:,}",
        f"{h.settled[1]:,}",
        f"{h.settled[1] - h.settled[0]:+,}",
    )
    fund_change = (
        f"{yuan(h.fund_fen[1] - h.fund_fen[0])} ({percent(h.fund_fen[1], h.fund_fen[0]) or '—'})"
    )
    table.add_row("fund total 基金支付", yuan(h.fund_fen[0]), yuan(h.fund_fen[1]), fund_change)
    table.add_row(
        "personal burden 个人负担",
        yuan(h.burden_fen[0]),
        yuan(h.burden_fen[1]),
        yuan(h.burden_fen[1] - h.burden_fen[0]),
    )
    table.caption = (
        f"{h.claims:,} claims of {h.persons:,} persons; {h.pay_more:,} pay more "
        f"(+{yuan(h.pay_more_fen)}), {h.pay_less:,} pay less (−{yuan(h.pay_less_fen)}). "
        f"Report: {out / 'index.html'}" + (f"; person diff: {person_diff}" if person_diff else "")
    )
    return table


def simulate_command(
    claims: Annotated[
        Path,
        typer.Argument(
            help="Claims: contract JSON, JSON Lines (.jsonl), or Parquet (X.parquet with "
            "X.lines.parquet beside it, as `yibao synth` writes)."
        ),
    ],
    baseline: Annotated[
        Path, typer.Option("--baseline", help="Folder of the policies in force (every *.yaml).")
    ],
    reform: Annotated[
        Path, typer.Option("--reform", help="Folder of the reformed policies (every *.yaml).")
    ],
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            help="Catalog CSV of a treatment region (repeatable; default: the demo's).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Report folder: index.html and one CSV per table (replaced whole)."
        ),
    ] = Path("report"),
    person_diff: Annotated[
        Path | None,
        typer.Option(
            "--person-diff", help="Also write one CSV row per person: burden and fund, both ways."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Settle on this Dask scheduler, e.g. tcp://HOST:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Settle on a local Dask cluster of N worker processes."),
    ] = None,
) -> None:
    """Settle the same claims under two sets of policies and report the difference.

    To the fen: the fund's cost by setting, scheme, person type, off-site status, treatment
    region and month; the personal burden per person (mean, median, p90, p99), who pays
    more or less and by how much; how many persons reach each cap. Writes an HTML report
    with charts and a CSV per table. In this process, or by person on a Dask cluster
    (--workers, --scheduler) as `yibao batch settle`. The operator's command: files only, no
    token.
    """
    from yibao.batch import formats
    from yibao.batch.clearing import atomic_path
    from yibao.batch.run import dask_client
    from yibao.batch.simulate import by_person, simulate
    from yibao.batch.simulate_report import check_report_folder, person_diff_csv, write_report
    from yibao.engine.columnar import settle_tables

    console = Console(stderr=True)
    try:
        check_report_folder(out)
        if person_diff is not None:
            formats.check_out_path(person_diff, "--person-diff")
            if person_diff.resolve().parent == out.resolve():
                raise InvalidInput(
                    "--person-diff",
                    str(person_diff),
                    "is inside the report folder, which is replaced whole",
                )
        baseline_policies = _policy_folder(baseline, "--baseline")
        reform_policies = _policy_folder(reform, "--reform")
        loaded_catalog = _catalog(catalog)
        if workers is not None and workers < 1:
            raise InvalidInput("--workers", str(workers), "must be at least 1")
        if scheduler is not None and workers is not None:
            raise InvalidInput("--scheduler", scheduler, "give either --scheduler or --workers")
        with collector_paused():
            claims_table, lines_table = _read_claims(claims, loaded_catalog)
            with (
                dask_client(scheduler=scheduler, workers=workers) as client,
                console.status("settling under both sets of policies…"),
            ):
                sim = simulate(
                    claims_table,
                    lines_table,
                    catalog=loaded_catalog,
                    baseline=baseline_policies,
                    reform=reform_policies,
                    settle=settle_tables if client is None else by_person(client),
                )
        sources = {"claims": str(claims), "baseline": str(baseline), "reform": str(reform)}
        with ExitStack() as stack:
            if person_diff is not None:  # renamed into place only once the report is
                staged = stack.enter_context(atomic_path(person_diff))
                staged.write_text(person_diff_csv(sim.persons), encoding="utf-8")
            write_report(sim, out, title="Policy simulation 政策模拟", sources=sources)
    except InvalidInput as exc:
        say_error(str(exc))
        raise typer.Exit(2) from None
    (Console() if sys.stdout.isatty() else Console(width=160)).print(
        _summary(sim, out, person_diff)
    )
