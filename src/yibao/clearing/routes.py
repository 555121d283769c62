"""HTTP routes of clearing between regions, under ``/api/v1/clearing`` (agency, admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.clearing import service
from yibao.clearing.schemas import StatementRead

router = APIRouter(prefix="/clearing", tags=["clearing"])

Clearer = Annotated[User, require_roles(*service.CLEARERS)]


@router.post("/months/{month}", summary="Build the month's statements (confirm=true: freeze)")
def build_month(
    month: str,
    session: SessionDep,
    user: Clearer,
    confirm: Annotated[bool, Query()] = False,
) -> list[StatementRead]:
    rows = service.build_month(session, actor=user, month=month, confirm=confirm)
    return [StatementRead.of(r) for r in rows]


@router.get("/statements", summary="Statements of the caller's region (or all, admin)")
def list_statements(
    session: SessionDep,
    user: Clearer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> list[StatementRead]:
    return [StatementRead.of(r) for r in service.list_statements(session, actor=user, month=month)]


@router.get("/statements/{statement_id}", summary="One statement")
def get_statement(statement_id: int, session: SessionDep, user: Clearer) -> StatementRead:
    return StatementRead.of(service.get_statement(session, actor=user, statement_id=statement_id))


@router.get("/statements/{statement_id}/settlements", summary="The settlements it holds")
def statement_settlements(statement_id: int, session: SessionDep, user: Clearer) -> list[int]:
    return service.statement_items(session, actor=user, statement_id=statement_id)


@router.post("/statements/{statement_id}/confirm", summary="Freeze one statement")
def confirm(statement_id: int, session: SessionDep, user: Clearer) -> StatementRead:
    row = service.confirm_statement(session, actor=user, statement_id=statement_id)
    return StatementRead.of(row)
