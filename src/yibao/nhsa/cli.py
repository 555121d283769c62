"""``yibao institutions credentials``: an institution's pass id and secret for the national
interface (the operator's commands: no token). Mounted by :mod:`yibao.cli.main`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from yibao.commands import command_session, load_settings, reports_errors
from yibao.errors import NotFound
from yibao.nhsa import credentials
from yibao.registry.models import Institution

app = typer.Typer(
    help="Institutions' credentials for the national interface (docs/nhsa.md).",
    no_args_is_help=True,
)
credentials_app = typer.Typer(
    help="Pass ids and secrets of the gateway (x-tif-paasid): issue, list, revoke.",
    no_args_is_help=True,
)
app.add_typer(credentials_app, name="credentials")


@credentials_app.command("issue")
@reports_errors
def issue(
    code: Annotated[str, typer.Argument(help="The institution's code (fixmedins_code).")],
    pass_id: Annotated[
        str | None, typer.Option(help="The pass id to give (default: a generated one).")
    ] = None,
) -> None:
    """Issue a pass id and secret for the institution, acting as a new system user of it.
    The secret is printed once and stored encrypted with the platform's secret key. The
    operator's command: no token."""
    settings = load_settings()
    with command_session() as session:
        institution = session.scalar(select(Institution).where(Institution.code == code))
        if institution is None:
            raise NotFound(f"no institution with code {code!r}", code="institution.not_found")
        issued = credentials.issue_credential(
            session,
            institution_id=institution.id,
            secret_key=settings.secret_key,
            pass_id=pass_id,
            actor="cli",
        )
        line = f"{issued.institution.code}\t{issued.pass_id}\t{issued.secret}"
    typer.echo("fixmedins_code, pass id, secret (shown once):", err=True)
    typer.echo(line)


@credentials_app.command("list")
@reports_errors
def list_(
    code: Annotated[str | None, typer.Option(help="Only this institution's (its code).")] = None,
) -> None:
    """The pass ids, their institution and whether they are active (never the secrets).
    The operator's command: no token."""
    with command_session() as session:
        institution_id = None
        if code is not None:
            institution = session.scalar(select(Institution).where(Institution.code == code))
            if institution is None:
                raise NotFound(f"no institution with code {code!r}", code="institution.not_found")
            institution_id = institution.id
        rows = credentials.list_credentials(session, institution_id=institution_id)
        codes = {i.id: i.code for i in session.scalars(select(Institution))}
        lines = [
            f"{c.pass_id}\t{codes.get(c.institution_id, '?')}\t"
            f"{'active' if c.active else 'revoked'}\tuser {c.user_id}"
            for c in rows
        ]
    typer.echo("\n".join(lines) if lines else "no credentials")


@credentials_app.command("revoke")
@reports_errors
def revoke(
    pass_id: Annotated[str, typer.Argument(help="The pass id to revoke.")],
) -> None:
    """The pass id no longer signs in; its system user is deactivated. The operator's
    command: no token."""
    with command_session() as session:
        credentials.revoke_credential(session, pass_id=pass_id, actor="cli")
    typer.echo(f"pass id {pass_id} revoked")
