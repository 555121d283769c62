"""``yibao filings``: the daily expiry job, certificates and the regions' filing rules."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from yibao.auth.tokens import authenticate
from yibao.clock import china_today
from yibao.commands import TokenOpt, command_session, load_settings, reports_errors
from yibao.errors import InvalidInput, NotFound
from yibao.filings import repository as repo
from yibao.filings import service
from yibao.filings.certificate import certificate_pdf
from yibao.filings.policy import filing_policy_for, known_regions

app = typer.Typer(help="Off-site filings (备案).", no_args_is_help=True)


@app.command("expire")
@reports_errors
def expire(
    today: Annotated[
        str | None, typer.Option(help="Day to expire against, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Mark approved filings past their validity as expired (the daily job). Operator's
    command: no token."""
    try:
        day = date.fromisoformat(today) if today else china_today()
    except ValueError:
        raise InvalidInput("--today", "", f"{today!r} is not a date YYYY-MM-DD") from None
    with command_session() as session:
        expired = service.expire_filings(session, today=day)
        for filing in expired:
            typer.echo(f"expired {filing.number} (valid to {filing.valid_to})")
    typer.echo(f"{len(expired)} filing(s) expired on {day}")


@app.command("certificate")
@reports_errors
def certificate(
    number: Annotated[str, typer.Argument(help="Filing number, e.g. BA110000-2026-000001.")],
    token: TokenOpt,
    pdf: Annotated[Path | None, typer.Option(help="Also write the printable PDF here.")] = None,
) -> None:
    """Print a filing certificate as JSON (and write its PDF), for a user who may see the
    filing, as the API's GET /filings/ID/certificate."""
    settings = load_settings()
    with command_session(settings) as session:
        user = authenticate(session, token=token)
        filing = repo.get_by_number(session, number)
        try:
            if filing is None:
                raise NotFound(f"filing {number} not found", code="filing.not_found")
            cert = service.certificate(
                session, actor=user, filing_id=filing.id, secret=settings.secret_key
            )
        except NotFound:  # the same answer whether it does not exist or may not be seen
            raise NotFound(f"filing {number} not found", code="filing.not_found") from None
    typer.echo(json.dumps(cert, ensure_ascii=False, indent=2))
    if pdf is not None:
        pdf.write_bytes(certificate_pdf(cert))
        typer.echo(f"wrote {pdf}", err=True)


@app.command("rules")
def rules(
    region: Annotated[
        str | None, typer.Argument(help="Insured region code; omitted: list the regions.")
    ] = None,
) -> None:
    """Show an insured region's filing rules (validity, lock, documents, hospital choice)
    from the packaged rule files. No database, no token."""
    if region is None:
        for code in known_regions():
            typer.echo(f"{code} {filing_policy_for(code).name}")
        return
    typer.echo(filing_policy_for(region).model_dump_json(indent=2))
