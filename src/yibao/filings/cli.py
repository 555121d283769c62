"""``yibao filings``: the daily expiry job, certificates and the regions' filing rules."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from yibao.config import get_settings
from yibao.db import make_engine, session_scope
from yibao.errors import NotFound, YibaoError
from yibao.filings import repository as repo
from yibao.filings import service
from yibao.filings.certificate import certificate_pdf
from yibao.filings.policy import filing_policy_for, known_regions

app = typer.Typer(help="Off-site filings (备案).", no_args_is_help=True)


def _fail(error: YibaoError) -> None:
    typer.echo(f"error [{error.code}]: {error}", err=True)
    raise typer.Exit(2)


@app.command("expire")
def expire(
    today: Annotated[
        str | None, typer.Option(help="Day to expire against, YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Mark approved filings past their validity as expired (run daily)."""
    day = date.fromisoformat(today) if today else date.today()
    with session_scope(make_engine(get_settings().database_url)) as session:
        expired = service.expire_filings(session, today=day)
        for filing in expired:
            typer.echo(f"expired {filing.number} (valid to {filing.valid_to})")
    typer.echo(f"{len(expired)} filing(s) expired on {day}")


@app.command("certificate")
def certificate(
    number: Annotated[str, typer.Argument(help="Filing number, e.g. BA110000-2026-000001")],
    pdf: Annotated[Path | None, typer.Option(help="Also write the printable PDF here")] = None,
) -> None:
    """Print a filing certificate as JSON (and write its PDF)."""
    try:
        with session_scope(make_engine(get_settings().database_url)) as session:
            filing = repo.get_by_number(session, number)
            if filing is None:
                raise NotFound(f"filing {number} not found", code="filing.not_found")
            cert = service.certificate_data(session, filing=filing)
    except YibaoError as error:
        _fail(error)
        return
    typer.echo(json.dumps(cert, ensure_ascii=False, indent=2))
    if pdf is not None:
        pdf.write_bytes(certificate_pdf(cert))
        typer.echo(f"wrote {pdf}", err=True)


@app.command("rules")
def rules(
    region: Annotated[
        str | None, typer.Argument(help="Insured region code; omitted: list the regions")
    ] = None,
) -> None:
    """Show an insured region's filing rules (validity, lock, documents, hospital choice)."""
    if region is None:
        for code in known_regions():
            typer.echo(f"{code} {filing_policy_for(code).name}")
        return
    typer.echo(filing_policy_for(region).model_dump_json(indent=2))
