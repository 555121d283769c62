"""``yibao reconcile``: a hospital's totals (and details CSV) against Yibao's settlements."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from yibao.auth.tokens import authenticate
from yibao.cli.support import command_session, reports_errors
from yibao.reconciliation import service
from yibao.reconciliation.schemas import ReconciliationRead

TokenOpt = Annotated[
    str, typer.Option("--token", envvar="YIBAO_TOKEN", help="Bearer token of the acting user")
]


@reports_errors
def reconcile_command(
    token: TokenOpt,
    period_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    period_to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"])],
    count: Annotated[int, typer.Option(help="Settlements and reversals the hospital has")],
    total: Annotated[str, typer.Option(help="Their total, yuan")],
    fund_pay: Annotated[str, typer.Option(help="The funds' share, yuan")],
    details: Annotated[Path | None, typer.Option(help="CSV: ref,total,fund_pay")] = None,
    institution_id: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Answer matched, or list every difference (missing, extra, amount differs). Exit 1
    when there are differences."""
    with command_session() as session:
        row = service.submit_reconciliation(
            session,
            actor=authenticate(session, token=token),
            institution_id=institution_id,
            period_from=period_from.date(),
            period_to=period_to.date(),
            count=count,
            total=Decimal(total),
            fund_pay=Decimal(fund_pay),
            details_csv=details.read_text(encoding="utf-8") if details else None,
        )
        out = ReconciliationRead.of(row)
    typer.echo(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=2))
    if out.status != "matched":
        raise typer.Exit(1)
