"""``yibao documents``: finish or remove uploads a crash interrupted."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from yibao.commands import command_session, load_settings, reports_errors
from yibao.config import Settings
from yibao.documents.service import ORPHAN_AGE, UploadCleanup, clean_up_uploads

app = typer.Typer(help="Uploaded documents (材料).", no_args_is_help=True)


def clean_up_at_start(settings: Settings) -> UploadCleanup | None:
    """The start-up clean-up of ``yibao serve`` and ``yibao demo``: never stops the start;
    a database that cannot answer yet is said out loud and skipped."""
    try:
        with command_session(settings) as session:
            done = clean_up_uploads(session, upload_dir=settings.upload_dir)
    except Exception as exc:  # the server must still start; the command can be rerun
        typer.echo(f"upload clean-up skipped: {exc}", err=True)
        return None
    if done.published or done.removed:
        typer.echo(_summary(done))
    return done


def _summary(done: UploadCleanup) -> str:
    return (
        f"uploads: {len(done.published)} committed file(s) published,"
        f" {len(done.removed)} orphan temporary file(s) removed"
    )


@app.command("cleanup")
@reports_errors
def cleanup(
    older_than_minutes: Annotated[
        int, typer.Option(min=1, help="Only temporary files older than this many minutes.")
    ] = int(ORPHAN_AGE.total_seconds() // 60),
) -> None:
    """Publish committed uploads a crash left under their temporary name; delete the rest.
    Operator's command: no token."""
    settings = load_settings()
    with command_session(settings) as session:
        done = clean_up_uploads(
            session,
            upload_dir=settings.upload_dir,
            older_than=timedelta(minutes=older_than_minutes),
        )
    for path in done.published:
        typer.echo(f"published {path}")
    for path in done.removed:
        typer.echo(f"removed {path}")
    typer.echo(_summary(done))
