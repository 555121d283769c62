"""HTTP routes of clearing between regions, under ``/api/v1/clearing`` (agency, admin)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response

from yibao.approvals.schemas import ApprovalRead
from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.clearing import advance, service
from yibao.clearing.schemas import AdvanceFundCreate, AdvanceUsageRead, StatementRead

router = APIRouter(prefix="/clearing", tags=["clearing"])

Clearer = Annotated[User, require_roles(*service.CLEARERS)]


@router.post(
    "/months/{month}",
    summary="Build the month's statements; confirm=true also asks to freeze the ones owed "
    "(202: a second user approves each)",
)
def build_month(
    month: str,
    session: SessionDep,
    user: Clearer,
    response: Response,
    confirm: Annotated[bool, Query()] = False,
) -> list[StatementRead]:
    rows = service.build_month(session, actor=user, month=month, confirm=confirm)
    if confirm:
        response.status_code = 202
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


@router.post(
    "/statements/{statement_id}/confirm",
    status_code=202,
    summary="Ask to freeze one statement of an ended month; a second user approves (四眼原则)",
)
def confirm(statement_id: int, session: SessionDep, user: Clearer) -> ApprovalRead:
    approval = service.confirm_statement(session, actor=user, statement_id=statement_id)
    return ApprovalRead.of(approval)


@router.get(
    "/advance-funds",
    summary="The advance fund (预付金) of each region pair of the caller, the part in use and "
    "its warning level (70%, 90%)",
)
def advance_funds(
    session: SessionDep, user: Clearer, on: Annotated[date | None, Query()] = None
) -> list[AdvanceUsageRead]:
    return [AdvanceUsageRead.of(row) for row in advance.usage(session, actor=user, on=on)]


@router.post(
    "/advance-funds",
    status_code=202,
    summary="Ask to record the advance fund paid to a treatment region; a second user of the "
    "centre approves (四眼原则)",
)
def record_advance_fund(
    body: AdvanceFundCreate, session: SessionDep, user: Clearer
) -> ApprovalRead:
    approval = advance.request_advance_fund(
        session,
        actor=user,
        treatment_region=body.treatment_region,
        amount=Decimal(body.amount),
        effective_from=body.effective_from,
        note=body.note,
        insured_region=body.insured_region,
    )
    return ApprovalRead.of(approval)
