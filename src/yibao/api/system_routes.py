"""Health and the caller's own identity; the probes of an orchestrator or load balancer.

``/healthz`` and ``/readyz`` sit at the root (``probes``), outside ``/api/v1``:

- ``/healthz``: the process answers (no database): restart it when this fails;
- ``/readyz``: the database answers and its schema is at the code's migration: send it
  traffic only then. Otherwise 503, a problem+json naming what is wrong
  (``ready.database_unreachable``, ``ready.schema_outdated``) with ``checks``.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from yibao.api.errors import problem
from yibao.auth.deps import CurrentUser
from yibao.db import alembic_config, is_missing_table

router = APIRouter(tags=["system"])
probes = APIRouter(tags=["system"])
_log = logging.getLogger("yibao.api")


class Health(BaseModel):
    status: str


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    person_id: int | None
    unit_id: int | None
    agency_id: int | None
    institution_id: int | None
    region_code: str | None


@router.get("/health", response_model=Health)
def health() -> Health:
    """Open to everyone: the service answers."""
    return Health(status="ok")


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The caller's user record and scope."""
    return Me.model_validate(user)


class Ready(BaseModel):
    status: str
    checks: dict[str, str]


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The migration heads the code ships (read once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_heads(engine: Engine) -> frozenset[str]:
    """The migrations the database is at: one connection, one small read of Alembic's
    table (read directly: Alembic's own context logs two lines per call, and a probe
    runs every few seconds). Empty when the schema was never migrated."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(str(row[0]) for row in rows)
        except DBAPIError as exc:
            if is_missing_table(exc):
                return frozenset()
            raise


@probes.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> Health:
    """Open to everyone; touches no database."""
    return Health(status="ok")


@probes.get(
    "/readyz",
    response_model=Ready,
    summary="Readiness: the database answers and its schema is current",
    responses={
        503: {
            "description": "Not ready: the problem names the failed check",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    },
)
def readyz(request: Request) -> Any:
    """Open to everyone; names no database, user or data, only which check failed."""
    engine: Engine = request.app.state.engine
    checks = {"database": "ok", "schema": "ok"}
    try:
        current = database_heads(engine)
    except SQLAlchemyError as exc:
        _log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks.update(database="unreachable", schema="unknown")
        return _not_ready("ready.database_unreachable", "the database does not answer", checks)
    expected = code_heads()
    if current != expected:
        checks["schema"] = "outdated"
        at = ", ".join(sorted(current)) or "no migration"
        return _not_ready(
            "ready.schema_outdated",
            f"the database schema is at {at}, the code needs {', '.join(sorted(expected))}: "
            "run `yibao db upgrade`",
            checks,
        )
    return Ready(status="ready", checks=checks)


def _not_ready(code: str, detail: str, checks: dict[str, str]) -> JSONResponse:
    return problem(
        503, title="Not ready", detail=detail, code=code, instance="/readyz", checks=checks
    )
