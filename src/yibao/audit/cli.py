"""``yibao audit verify``: walk the audit log's hash chain and name the first broken entry."""

from __future__ import annotations

import typer

from yibao.audit.identity_reads import list_identity_reads
from yibao.audit.service import verify_chain
from yibao.commands import command_session, load_settings, reports_errors

app = typer.Typer(help="The audit log (审计日志): check its hash chain.", no_args_is_help=True)


@app.command("verify")
@reports_errors
def verify() -> None:
    """Recompute every entry's hash in chain order; exit 1 naming the first entry that was
    changed, removed or written around the platform, 0 when the chain holds. Operator's
    command: no token. Note the head it prints somewhere outside the database: a later run
    showing the same head proves nothing was cut from the end."""
    with command_session(load_settings()) as session:
        report = verify_chain(session)
    if report.broken is not None:
        typer.echo(
            f"audit chain BROKEN at {report.broken.describe()}"
            f" ({report.links} link(s) read, head at position {report.head_seq})"
        )
        raise typer.Exit(1)
    typer.echo(
        f"audit chain intact: {report.links} entries; head {report.head_seq} {report.head_hash}"
    )


@app.command("identity-reads")
@reports_errors
def identity_reads(
    person: int | None = typer.Option(None, help="Only the reads of this person's number."),
    user: int | None = typer.Option(None, help="Only the reads by this user id."),
    limit: int = typer.Option(100, min=1, max=10000, help="At most this many, newest first."),
) -> None:
    """Every read of a full identity number (身份证号查阅记录), newest first: when, who (user
    id and role), whose (person id) and why (the route or command). Operator's command: no
    token."""
    with command_session(load_settings()) as session:
        rows = list_identity_reads(session, person_id=person, user_id=user, limit=limit)
        for row in rows:
            who = f"user {row.user_id} ({row.actor_role})" if row.user_id else row.actor
            typer.echo(f"{row.at:%Y-%m-%d %H:%M:%S%z}  {who}  person {row.person_id}  {row.why}")
    if not rows:
        typer.echo("no reads of full identity numbers recorded")
