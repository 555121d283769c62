"""``yibao users``: create users and print their token once; give a user a password for
the pages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from yibao.auth.models import ROLES
from yibao.commands import command_session, reports_errors
from yibao.users import service

app = typer.Typer(
    help="Platform users and their bearer tokens (the operator's commands: no token).",
    no_args_is_help=True,
)


@app.command("create")
@reports_errors
def create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the role).")] = None,
    person_id: Annotated[int | None, typer.Option(help="insured: the person's id.")] = None,
    unit_id: Annotated[int | None, typer.Option(help="unit: the insured unit's id.")] = None,
    agency_id: Annotated[
        int | None, typer.Option(help="agency, street_office: the id of the agency it works for.")
    ] = None,
    institution_id: Annotated[
        int | None, typer.Option(help="hospital: the institution's id.")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", help="agency, street_office: the region, checked against the agency's."
        ),
    ] = None,
) -> None:
    """Create a user; the bearer token is printed once and stored only as a hash.
    Operator's command: no token (it makes the first admin)."""
    with command_session() as session:
        issued = service.create_user(
            session,
            name=name or role,
            role=role,
            person_id=person_id,
            unit_id=unit_id,
            agency_id=agency_id,
            institution_id=institution_id,
            region_code=region,
            actor="cli",
        )
        user_id = issued.user.id
    typer.echo(f"user {user_id} ({role}) created; token (shown once):", err=True)
    typer.echo(issued.token)


@app.command("list")
@reports_errors
def list_() -> None:
    """Users, their login for the pages and their scope (never tokens or passwords).
    Operator's command: no token."""
    with command_session() as session:
        for user in service.list_users(session):
            scope = {
                "login": user.login,
                "person": user.person_id,
                "unit": user.unit_id,
                "agency": user.agency_id,
                "institution": user.institution_id,
                "region": user.region_code,
            }
            shown = " ".join(f"{k}={v}" for k, v in scope.items() if v is not None)
            state = "" if user.active else " (inactive)"
            typer.echo(f"{user.id}\t{user.role}\t{user.name}\t{shown}{state}")


@app.command("set-password")
@reports_errors
def set_password(
    user_id: Annotated[int, typer.Argument(help="The user's id (`yibao users list`).")],
    login: Annotated[
        str | None,
        typer.Option(help="Login name for the sign-in form (required the first time)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Give a user a password to sign in to the pages (asked twice, not echoed). Unlocks
    the account and signs its browsers out. Operator's command: no token."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_session() as session:
        user = service.set_password(
            session, user_id=user_id, password=password, login=login, actor="cli"
        )
        shown = f"user {user.id} ({user.role}) signs in as {user.login!r}"
    typer.echo(f"{shown}; password set", err=True)
