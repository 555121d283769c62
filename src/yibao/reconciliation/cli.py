"""``yibao reconcile``: a hospital's totals (and details CSV) against Yibao's settlements."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from yibao.auth.tokens import authenticate
from yibao.commands import TokenOpt, command_session, reports_errors
from yibao.errors import InvalidInput
from yibao.money import parse_decimal
from yibao.reconciliation import service
from yibao.reconciliation.schemas import ReconciliationRead


@reports_errors
def reconcile_command(
    token: TokenOpt,
    period_from: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD.")
    ],
    period_to: Annotated[
        datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, YYYY-MM-DD.")
    ],
    count: Annotated[int, typer.Option(help="Settlements and reversals the hospital has.")],
    total: Annotated[str, typer.Option(help="Their total, yuan.")],
    fund_pay: Annotated[str, typer.Option(help="The funds' share, yuan.")],
    details: Annotated[
        Path | None, typer.Option(help="Details CSV: ref,total,fund_pay (ref = message id).")
    ] = None,
    institution_id: Annotated[
        int | None, typer.Option(help="Admins: the hospital (hospitals: their own).")
    ] = None,
) -> None:
    """Reconcile a hospital's totals (and details) for a period with Yibao's settlements:
    answer matched, or list every difference (missing, extra, amount differs). Exit status
    1 when there are differences."""
    amounts = {
        name: _amount(name, text) for name, text in (("--total", total), ("--fund-pay", fund_pay))
    }
    with command_session() as session:
        row = service.submit_reconciliation(
            session,
            actor=authenticate(session, token=token),
            institution_id=institution_id,
            period_from=period_from.date(),
            period_to=period_to.date(),
            count=count,
            total=amounts["--total"],
            fund_pay=amounts["--fund-pay"],
            details_csv=_text(details) if details else None,
        )
        out = ReconciliationRead.of(row)
    typer.echo(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=2))
    if out.status != "matched":
        raise typer.Exit(1)


def _amount(option: str, text: str) -> Decimal:
    try:
        return parse_decimal(text, max_places=2)
    except ValueError as exc:
        raise InvalidInput(option, "", str(exc)) from None


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), "", getattr(exc, "strerror", None) or str(exc)) from None
