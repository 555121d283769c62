"""``yibao policy`` and ``yibao catalog``: load (the operator's) and list (a user's)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from yibao.auth.tokens import authenticate
from yibao.commands import TokenOpt, command_session, reports_errors
from yibao.errors import InvalidInput
from yibao.policies import repository as repo
from yibao.policies import service

policy_app = typer.Typer(
    help="Policies of insured regions (YAML), versioned.", no_args_is_help=True
)
catalog_app = typer.Typer(
    help="Catalogs of treatment regions (CSV), versioned.", no_args_is_help=True
)

RegionOpt = Annotated[
    str | None, typer.Option(help="Only this region (GB/T 2260 code, e.g. 110000).")
]


@policy_app.command("load")
@reports_errors
def load_policies(
    paths: Annotated[list[Path], typer.Argument(help="Policy files or folders of *.yaml.")],
) -> None:
    """Load policy versions; a file loaded before with the same text is left as it is.
    Operator's command: no token."""
    with command_session() as session:
        results = service.load_policy_paths(session, paths=paths, actor="cli")
    for item in results:
        typer.echo(f"policy {item.key}: {item.outcome}")


@policy_app.command("list")
@reports_errors
def list_policies(token: TokenOpt, region: RegionOpt = None) -> None:
    """Policy versions: id, region, scheme, person types, period (as GET /policies)."""
    with command_session() as session:
        authenticate(session, token=token)
        for row in repo.list_policies(session, region=region):
            until = row.effective_to.isoformat() if row.effective_to else "open"
            typer.echo(
                f"{row.id}\t{row.region}\t{row.scheme}\t{row.person_types}\t"
                f"{row.effective_from.isoformat()}..{until}"
            )


@catalog_app.command("load")
@reports_errors
def load_catalog(
    file: Annotated[Path, typer.Argument(help="Catalog CSV (the engine's format).")],
    effective_from: Annotated[
        str, typer.Option("--effective-from", help="First day in force, YYYY-MM-DD.")
    ],
) -> None:
    """Load a catalog version of each region in the file, in force from the given day.
    Operator's command: no token."""
    try:
        day = date.fromisoformat(effective_from)
    except ValueError:
        raise InvalidInput("--effective-from", "", "must be a date YYYY-MM-DD") from None
    if not file.is_file():
        raise InvalidInput(str(file), "", "not a file")
    with command_session() as session:
        results = service.load_catalog_text(
            session,
            text=file.read_text(encoding="utf-8"),
            source=str(file),
            effective_from=day,
            actor="cli",
        )
    for item in results:
        typer.echo(f"catalog {item.key}: {item.outcome}")


@catalog_app.command("list")
@reports_errors
def list_catalogs(token: TokenOpt, region: RegionOpt = None) -> None:
    """Catalog versions: region, first day in force, source file (as GET /catalogs)."""
    with command_session() as session:
        authenticate(session, token=token)
        for row in repo.list_catalogs(session, region=region):
            typer.echo(f"{row.region}\t{row.effective_from.isoformat()}\t{row.source}")
