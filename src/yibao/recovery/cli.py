"""``yibao recovery``: third-party recovery cases (第三方追偿): list, close.

The same users as the API's /recovery routes: the insured region's centre (an agency user)
and admins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import typer

from yibao.auth.tokens import authenticate
from yibao.commands import TokenOpt, command_session, reports_errors
from yibao.errors import Forbidden, InvalidInput
from yibao.money import from_fen
from yibao.recovery import access
from yibao.recovery import repository as recovery_repo
from yibao.recovery import service as recovery_service

recovery_app = typer.Typer(help="Third-party recovery cases (第三方追偿).", no_args_is_help=True)

# The API's roles for recovery cases (the centre's agency users and admins).
HANDLERS = ("agency", "admin")


@recovery_app.command("list")
@reports_errors
def list_cases(
    token: TokenOpt,
    region: Annotated[
        str | None,
        typer.Option(help="Admins: only this insured region (others see their own region's)."),
    ] = None,
    state: Annotated[
        Literal["open", "closed", "cancelled"] | None,
        typer.Option(help="Only cases in this state."),
    ] = None,
) -> None:
    """Recovery cases of the user's insured region (all for an admin): id, state,
    settlement, region, amount advanced, amount recovered."""
    with command_session() as session:
        user = authenticate(session, token=token)
        _require_handler(user.role)
        scope = access.case_region(session, user)
        if scope is not None and region is not None and region != scope:
            raise Forbidden(f"you handle the cases of region {scope}", code="recovery.forbidden")
        for case in recovery_repo.list_cases(session, insured_region=scope or region, state=state):
            typer.echo(
                f"{case.id}\t{case.state}\tsettlement {case.settlement_id}\t"
                f"{case.insured_region}\tamount {from_fen(case.amount_fen)}\t"
                f"recovered {from_fen(case.recovered_fen)}"
            )


@recovery_app.command("close")
@reports_errors
def close_case(
    case_id: Annotated[int, typer.Argument(help="The recovery case's id.")],
    recovered: Annotated[str, typer.Option(help="Amount recovered, yuan (e.g. 1200.00).")],
    token: TokenOpt,
    note: Annotated[str | None, typer.Option(help="A note kept with the case.")] = None,
) -> None:
    """Close a case with the amount recovered (0 up to the amount advanced)."""
    try:
        amount = Decimal(recovered)
    except InvalidOperation:
        raise InvalidInput("--recovered", "", f"{recovered!r} is not an amount") from None
    with command_session() as session:
        user = authenticate(session, token=token)
        _require_handler(user.role)
        case = recovery_service.close_case(
            session,
            case_id=case_id,
            recovered=amount,
            note=note,
            insured_region=access.case_region(session, user),
            actor=user,
            now=datetime.now(UTC),
        )
        typer.echo(f"case {case.id} {case.state}: recovered {from_fen(case.recovered_fen)}")


def _require_handler(role: str) -> None:
    if role not in HANDLERS:
        raise Forbidden(
            f"role {role!r} may not do this; allowed: {', '.join(HANDLERS)}",
            code="auth.role_forbidden",
        )
