"""``yibao settle``: settle claims offline from files, as the settlement contract defines."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from yibao.console import collector_paused, say_error
from yibao.data import demo_path
from yibao.engine import (
    Catalog,
    Claim,
    Policy,
    Settlement,
    UnknownCatalogCode,
    check_codes,
    explanation_lines,
    result_to_dict,
    settle_run,
)
from yibao.engine.models import CatalogItem
from yibao.errors import InvalidInput
from yibao.inputs import parse_catalog_text, parse_claims_text, parse_policy_text

if TYPE_CHECKING:  # Rich is loaded only for the table: JSON output starts without it
    from rich.console import Console


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(str(path), "", "no such file") from None
    except IsADirectoryError:
        raise InvalidInput(str(path), "", "is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(str(path), f"byte {exc.start}", "not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInput(str(path), "", exc.strerror or str(exc)) from None


def load_policies(files: Sequence[Path], folders: Sequence[Path]) -> list[Policy]:
    """Every policy named, and every ``*.yaml`` in the folders; ids must be unique."""
    paths = list(files)
    for folder in folders:
        if not folder.is_dir():
            raise InvalidInput(str(folder), "", "not a folder")
        paths.extend(sorted(folder.glob("*.yaml")))
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    for path in paths:
        policy = parse_policy_text(_read(path), str(path))
        if policy.id in seen:
            raise InvalidInput(
                str(path), "id", f"policy id {policy.id!r} is also defined in {seen[policy.id]}"
            )
        seen[policy.id] = str(path)
        policies.append(policy)
    return policies


def load_catalogs(files: Sequence[Path]) -> Catalog:
    """Catalog files merged; ``(region, code)`` stays unique across them."""
    items: dict[tuple[str, str], CatalogItem] = {}
    where: dict[tuple[str, str], str] = {}
    for path in files:
        for item in parse_catalog_text(_read(path), str(path)):
            key = (item.region, item.code)
            if key in items:
                raise InvalidInput(
                    str(path),
                    f"code {item.code}",
                    f"region {item.region} code {item.code} is also in {where[key]}",
                )
            items[key] = item
            where[key] = str(path)
    return Catalog(items)


def load_claims(path: Path, catalog: Catalog) -> list[Claim]:
    """Claims in order; a line whose code the treatment region's catalog lacks is invalid."""
    text = sys.stdin.read() if str(path) == "-" else _read(path)
    claims = parse_claims_text(text, str(path))
    for index, claim in enumerate(claims):
        try:
            check_codes(claim, catalog)
        except UnknownCatalogCode as exc:
            raise InvalidInput(
                str(path),
                f"[{index}].lines[{exc.line_index}].code (claim {claim.claim_id})",
                str(exc),
                code="catalog.unknown_code",
            ) from None
    return claims


def settle_files(
    claims_path: Path,
    *,
    catalogs: Sequence[Path],
    policy_files: Sequence[Path],
    policy_dirs: Sequence[Path],
) -> list[Settlement]:
    """Read and validate every input first, then settle: invalid input yields no result."""
    if not catalogs:
        raise InvalidInput("--catalog", "", "at least one catalog file is needed")
    if not policy_files and not policy_dirs:
        raise InvalidInput("--policy", "", "at least one policy (--policy or --policies) is needed")
    policies = load_policies(policy_files, policy_dirs)
    catalog = load_catalogs(catalogs)
    claims = load_claims(claims_path, catalog)
    with collector_paused():
        return settle_run(claims, policies=policies, catalog=catalog)


def render_table(results: Sequence[Settlement], *, explain: bool, console: Console) -> None:
    from rich.panel import Panel
    from rich.table import Table

    table = Table(title="Settlements 结算")
    for column, justify in (
        ("claim", "left"),
        ("status", "left"),
        ("off-site", "left"),
        ("policy", "left"),
        ("total", "right"),
        ("self-pay", "right"),
        ("in scope", "right"),
        ("deductible", "right"),
        ("pool", "right"),
        ("suppl.", "right"),
        ("assist.", "right"),
        ("account", "right"),
        ("cash", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        d = result_to_dict(r)
        self_pay = r.full_self_pay + r.over_limit_self_pay + r.pre_self_pay
        table.add_row(
            r.claim_id,
            r.status if r.status == "settled" else f"[red]{r.status}[/red]: {r.reason}",
            r.offsite_status or "",
            r.policy_id or "",
            d["total"],
            f"{self_pay:.2f}",
            d["in_scope"],
            d["deductible"],
            d["pool_fund_pay"],
            d["supplementary_pay"],
            d["assistance_pay"],
            d["account_pay"],
            d["cash_pay"],
        )
    console.print(table)
    if explain:
        for r in results:
            console.print(
                Panel(
                    "\n".join(explanation_lines(r)),
                    title=f"{r.claim_id} — {r.status}",
                    title_align="left",
                    expand=False,
                )
            )


def settle_command(
    claims: Annotated[Path, typer.Argument(help="Claims JSON: one claim or a list ('-' = stdin).")],
    catalog: Annotated[
        list[Path],
        typer.Option("--catalog", help="Catalog CSV of a treatment region (repeatable)."),
    ],
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", help="Policy YAML (repeatable).")
    ] = None,
    policies: Annotated[
        list[Path] | None, typer.Option("--policies", help="Folder: every *.yaml in it.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json (default) or table.")
    ] = "json",
    explain: Annotated[
        bool, typer.Option("--explain", help="Add the reasoning per claim.")
    ] = False,
) -> None:
    """Settle CLAIMS with the treatment place's catalog and the insured place's policy."""
    if output_format not in ("json", "table"):
        say_error(f"--format: {output_format!r} is not json or table")
        raise typer.Exit(2)
    # The whole run, reading included, with the cyclic collector paused: the parsed claims,
    # the results and their dictionaries are millions of objects without cycles, and the
    # collector would walk them again and again (a third of the command's time); the
    # process ends when the run does.
    with collector_paused():
        try:
            results = settle_files(
                claims, catalogs=catalog, policy_files=policy or [], policy_dirs=policies or []
            )
        except InvalidInput as exc:
            # The contract's form, "error: FILE: PLACE: REASON" (no code): its tools read it.
            say_error(str(exc))
            raise typer.Exit(2) from None
        if output_format == "table":
            from rich.console import Console

            render_table(results, explain=explain, console=Console(width=200))
            return
        write_json(results, explain=explain)


def write_json(results: Sequence[Settlement], *, explain: bool) -> None:
    """The results as the contract's JSON list on standard output."""
    payload: list[dict[str, Any]] = [result_to_dict(r, explain=explain) for r in results]
    # orjson writes the bytes json.dumps(payload, ensure_ascii=False, indent=2) would, several
    # times faster (tests/e2e/test_settle_cli.py compares the two)
    sys.stdout.flush()
    sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def show_demo_settlements(console: Console) -> None:
    """Settle the packaged demo claims and print the table with every explanation."""
    results = settle_files(
        demo_path("claims", "demo-claims.json"),
        catalogs=sorted(demo_path("catalogs").glob("*.csv")),
        policy_files=[],
        policy_dirs=[demo_path("policies")],
    )
    render_table(results, explain=True, console=console)
