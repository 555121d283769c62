"""``yibao settlements``: list, show, totals, reverse (``yibao recovery`` is in
:mod:`yibao.recovery.cli`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from yibao.auth.tokens import authenticate
from yibao.commands import TokenOpt, command_session, reports_errors
from yibao.engine.phrases import DEFAULT_LANGUAGE, Lang
from yibao.engine.render import localise_explanation
from yibao.money import from_fen
from yibao.settlements import service

app = typer.Typer(
    help="Direct settlements (直接结算): list, explain, totals, reverse.", no_args_is_help=True
)

SettlementId = Annotated[int, typer.Argument(help="The settlement's id.")]


@app.command("list")
@reports_errors
def list_settlements(
    token: TokenOpt,
    year_month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """The settlements the acting user may see, newest first: id, kind, state, person,
    regions, total, fund, account, cash."""
    with command_session() as session:
        actor = authenticate(session, token=token)
        for row in service.list_settlements(
            session, actor=actor, year_month=year_month, limit=limit
        ):
            typer.echo(
                f"{row.id}\t{row.kind}\t{row.state}\tperson {row.person_id}\t"
                f"{row.insured_region}->{row.treatment_region}\t{from_fen(row.total_fen)}\t"
                f"fund {from_fen(row.fund_pay_total_fen)}\taccount {from_fen(row.account_pay_fen)}"
                f"\tcash {from_fen(row.cash_pay_fen)}"
            )


@app.command("show")
@reports_errors
def show(
    settlement_id: SettlementId,
    token: TokenOpt,
    lang: Annotated[
        Lang, typer.Option(help="Language of the explanation: zh (default) or en.")
    ] = DEFAULT_LANGUAGE,
) -> None:
    """One settlement explained line by line (JSON), as GET /settlements/ID."""
    with command_session() as session:
        actor = authenticate(session, token=token)
        row = service.get_settlement(session, actor=actor, settlement_id=settlement_id)
        out = service.settlement_explained(session, record_=row)
    out["explanation"] = localise_explanation(out.get("explanation", []), lang)
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@app.command("totals")
@reports_errors
def totals(
    year_month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")], token: TokenOpt
) -> None:
    """Per region pair on the acting agency's side: settlements, reversals, per-fund sums."""
    with command_session() as session:
        actor = authenticate(session, token=token)
        rows = service.clearing_totals(session, actor=actor, year_month=year_month)
    for r in rows:
        typer.echo(
            f"{r.insured_region}->{r.treatment_region}\t{r.settlements} settled\t"
            f"{r.reversals} reversed\tpool {from_fen(r.pool_fund_pay_fen)}\t"
            f"supplementary {from_fen(r.supplementary_pay_fen)}\t"
            f"assistance {from_fen(r.assistance_pay_fen)}\taccount {from_fen(r.account_pay_fen)}"
        )


@app.command("reverse")
@reports_errors
def reverse(
    settlement_id: SettlementId,
    reason: Annotated[str, typer.Option(help="Why (kept in the record).")],
    token: TokenOpt,
) -> None:
    """Reverse a settlement once (冲正): the hospital that made it, or an admin."""
    with command_session() as session:
        actor = authenticate(session, token=token)
        reversal = service.reverse_settlement(
            session, settlement_id=settlement_id, reason=reason, actor=actor
        )
        typer.echo(f"settlement {settlement_id} reversed by {reversal.id}")
