"""``yibao settlements`` (list, show, totals, reverse) and ``yibao recovery`` (list, close)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer

from yibao.cli.support import command_session, reports_errors
from yibao.money import from_fen
from yibao.recovery import repository as recovery_repo
from yibao.recovery import service as recovery_service
from yibao.settlements import repository as repo
from yibao.settlements import service

app = typer.Typer(
    help="Direct settlements (直接结算): list, explain, totals, reverse.", no_args_is_help=True
)
recovery_app = typer.Typer(help="Third-party recovery cases (第三方追偿).", no_args_is_help=True)


@app.command("list")
def list_settlements(
    person_id: Annotated[int | None, typer.Option()] = None,
    year_month: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    limit: Annotated[int, typer.Option()] = 50,
) -> None:
    """Newest first: id, kind, state, person, regions, total, fund, account, cash."""
    with command_session() as session:
        for row in repo.list_settlements(
            session, person_id=person_id, year_month=year_month, limit=limit
        ):
            typer.echo(
                f"{row.id}\t{row.kind}\t{row.state}\tperson {row.person_id}\t"
                f"{row.insured_region}->{row.treatment_region}\t{from_fen(row.total_fen)}\t"
                f"fund {from_fen(row.fund_pay_total_fen)}\taccount {from_fen(row.account_pay_fen)}"
                f"\tcash {from_fen(row.cash_pay_fen)}"
            )


@app.command("show")
@reports_errors
def show(settlement_id: int) -> None:
    """One settlement explained line by line (JSON)."""
    with command_session() as session:
        row = repo.get_settlement(session, settlement_id)
        out = service.settlement_explained(session, record_=row)
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@app.command("totals")
def totals(year_month: Annotated[str, typer.Argument(help="YYYY-MM")]) -> None:
    """Per region pair: settlements, reversals and per-fund sums of the month."""
    with command_session() as session:
        rows = repo.clearing_totals(session, year_month=year_month)
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
    settlement_id: int, reason: Annotated[str, typer.Option(help="Why (kept in the record)")]
) -> None:
    """Reverse a settlement once (冲正)."""
    with command_session() as session:
        reversal = service.reverse_settlement(
            session, settlement_id=settlement_id, reason=reason, actor="cli"
        )
        typer.echo(f"settlement {settlement_id} reversed by {reversal.id}")


@recovery_app.command("list")
def list_cases(
    region: Annotated[str | None, typer.Option(help="Insured region")] = None,
    state: Annotated[str | None, typer.Option()] = None,
) -> None:
    with command_session() as session:
        for case in recovery_repo.list_cases(session, insured_region=region, state=state):
            typer.echo(
                f"{case.id}\t{case.state}\tsettlement {case.settlement_id}\t"
                f"{case.insured_region}\tamount {from_fen(case.amount_fen)}\t"
                f"recovered {from_fen(case.recovered_fen)}"
            )


@recovery_app.command("close")
@reports_errors
def close_case(
    case_id: int,
    recovered: Annotated[str, typer.Option(help="Amount recovered, yuan")],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    with command_session() as session:
        case = recovery_service.close_case(
            session, case_id=case_id, recovered=Decimal(recovered), note=note, actor="cli"
        )
        typer.echo(f"case {case.id} {case.state}: recovered {from_fen(case.recovered_fen)}")
