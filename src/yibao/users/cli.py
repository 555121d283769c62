"""``yibao users``: create users and print their token once; issue, rotate, revoke and list
tokens (``yibao users token``); give a user a password for the pages."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from yibao.auth.models import ROLES
from yibao.auth.tokens import token_expires_at
from yibao.commands import command_session, reports_errors
from yibao.users import service, tokens
from yibao.users.service import IssuedToken

app = typer.Typer(
    help="Platform users and their bearer tokens (the operator's commands: no token).",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="Bearer tokens: issue, rotate, revoke and list them (the operator's commands: no "
    "token). A token is printed once, when it is made; only its hash is stored.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")

ExpiresIn = Annotated[
    str | None,
    typer.Option(
        "--expires-in",
        help="How long the token lives: 90d, 12h, 30m (default: YIBAO_LIMIT_TOKEN_LIFETIME_DAYS"
        " days, 90).",
    ),
]
UserId = Annotated[int, typer.Argument(help="The user's id (`yibao users list`).")]


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
    expires_in: ExpiresIn = None,
) -> None:
    """Create a user; the bearer token is printed once and stored only as a hash.
    Operator's command: no token (it makes the first admin)."""
    lifetime = tokens.parse_lifetime(expires_in) if expires_in is not None else None
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
        if lifetime is not None:
            tokens.set_token_expiry(session, user=issued.user, expires_in=lifetime)
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


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if value is not None else "-"


def _shown(issued: IssuedToken) -> tuple[str, str]:
    """What to print once the transaction committed: the line for stderr, and the token."""
    user = issued.user
    replaced = f" (replaces {user.token_rotated_from})" if user.token_rotated_from else ""
    line = (
        f"user {user.id} ({user.role}): token {user.token_id}{replaced}, expires "
        f"{_when(token_expires_at(user))}; token (shown once):"
    )
    return line, issued.token


def _print(shown: tuple[str, str]) -> None:
    typer.echo(shown[0], err=True)
    typer.echo(shown[1])


@token_app.command("create")
@reports_errors
def token_create(user_id: UserId, expires_in: ExpiresIn = None) -> None:
    """A new token for a user whose token was revoked or has expired (a valid one is
    rotated instead). Printed once. Operator's command: no token."""
    lifetime = tokens.parse_lifetime(expires_in) if expires_in is not None else None
    with command_session() as session:
        shown = _shown(
            tokens.issue_token(session, user_id=user_id, expires_in=lifetime, actor="cli")
        )
    _print(shown)


@token_app.command("rotate")
@reports_errors
def token_rotate(user_id: UserId, expires_in: ExpiresIn = None) -> None:
    """Replace a user's token: the new one is printed once, the old one stops working at
    once. Operator's command: no token."""
    lifetime = tokens.parse_lifetime(expires_in) if expires_in is not None else None
    with command_session() as session:
        shown = _shown(
            tokens.rotate_token(session, user_id=user_id, expires_in=lifetime, actor="cli")
        )
    _print(shown)


@token_app.command("revoke")
@reports_errors
def token_revoke(user_id: UserId) -> None:
    """End a user's token at once (requests with it answer 401 auth.token_revoked).
    Operator's command: no token."""
    with command_session() as session:
        user = tokens.revoke_token(session, user_id=user_id, actor="cli")
        shown = f"user {user.id} ({user.role}): token {user.token_id} revoked"
    typer.echo(shown, err=True)


@token_app.command("list")
@reports_errors
def token_list() -> None:
    """Every user's token: its public id, state, issue, expiry, last use (to the hour) and
    the token it replaced; never the token. Operator's command: no token."""
    with command_session() as session:
        rows = tokens.list_tokens(session)
    typer.echo("user\trole\ttoken_id\tstate\tissued\texpires\tlast_used\trotated_from")
    for row in rows:
        state = str(row.state) if row.active else f"{row.state} (user inactive)"
        typer.echo(
            f"{row.user_id}\t{row.role}\t{row.token_id}\t{state}\t{_when(row.issued_at)}\t"
            f"{_when(row.expires_at)}\t{_when(row.last_used_at)}\t{row.rotated_from or '-'}"
        )
