"""``yibao db upgrade`` and ``yibao serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from yibao.config import Settings
from yibao.db import upgrade_database

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    url: Annotated[
        str | None, typer.Option(help="Database URL (default: YIBAO_DATABASE_URL)")
    ] = None,
) -> None:
    """Apply every migration to the database of ``YIBAO_DATABASE_URL``."""
    target = url or Settings().database_url
    upgrade_database(target)
    typer.echo(f"database at head: {_safe(target)}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
) -> None:
    """Run the API server (OpenAPI at /docs) on ``YIBAO_DATABASE_URL``."""
    import uvicorn

    from yibao.api.app import create_app

    app = create_app(Settings())
    typer.echo(f"Yibao API on http://{host}:{port}/api/v1 (docs: http://{host}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
