"""``yibao demo``: a fresh demo database under ./var, a printed guide, and the server."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.api.app import create_app
from yibao.cli.settle import show_demo_settlements
from yibao.clock import china_today
from yibao.config import Settings
from yibao.db import make_engine, session_scope, upgrade_database
from yibao.demo.guide import render_guide
from yibao.demo.loader import load_demo
from yibao.documents.cli import clean_up_at_start


def demo_command(
    host: Annotated[str, typer.Option(help="Interface for the server.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the server.")] = 8000,
    var_dir: Annotated[
        Path, typer.Option(help="Folder of the demo's database (demo.db) and uploads.")
    ] = Path("var"),
    serve: Annotated[bool, typer.Option(help="Start the server after loading.")] = True,
    settle: Annotated[
        bool, typer.Option(help="First settle the demo claims and explain each one.")
    ] = True,
) -> None:
    """Load the demo (regions, institutions, persons, policies, catalogs, filings, one user
    per role) into a fresh SQLite database, print a guide with a token per role, and start
    the server. Operator's command: no token.

    With the default --var-dir, the other commands then use ./var/demo.db as long as
    ./var/yibao.db does not exist (`yibao db status`)."""
    if settle:
        show_demo_settlements(Console(width=160))
    var_dir.mkdir(parents=True, exist_ok=True)
    db_file = var_dir / "demo.db"
    for leftover in (
        db_file,
        Path(f"{db_file}-wal"),
        Path(f"{db_file}-shm"),
        Path(f"{db_file}-journal"),
    ):
        leftover.unlink(missing_ok=True)
    upload_dir = var_dir / "demo-uploads"
    shutil.rmtree(upload_dir, ignore_errors=True)
    settings = Settings(
        database_url=f"sqlite:///{db_file.resolve()}", upload_dir=upload_dir.resolve()
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            result = load_demo(session, upload_dir=settings.upload_dir, today=china_today())
            guide = render_guide(result, base=f"http://{host}:{port}", db_file=db_file)
    finally:
        engine.dispose()
    guide_file = var_dir / "demo-guide.md"
    guide_file.write_text(guide, encoding="utf-8")
    typer.echo(guide)
    typer.echo(f"(this guide is also in {guide_file})")
    if not serve:
        return
    import uvicorn

    clean_up_at_start(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
