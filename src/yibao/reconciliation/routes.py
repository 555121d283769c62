"""HTTP routes of reconciliation with hospitals, under ``/api/v1/reconciliations``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.reconciliation import service
from yibao.reconciliation.schemas import ReconciliationCreate, ReconciliationRead

router = APIRouter(prefix="/reconciliations", tags=["reconciliation"])

Reconciler = Annotated[User, require_roles("hospital", "agency", "admin")]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Submit totals (and details)")
def submit(body: ReconciliationCreate, session: SessionDep, user: Reconciler) -> ReconciliationRead:
    row = service.submit_reconciliation(
        session,
        actor=user,
        institution_id=body.institution_id,
        period_from=body.period_from,
        period_to=body.period_to,
        count=body.count,
        total=body.total,
        fund_pay=body.fund_pay,
        details_csv=body.details_csv,
    )
    return ReconciliationRead.of(row)


@router.get("", summary="Reconciliations the caller may see")
def list_reconciliations(
    session: SessionDep,
    user: Reconciler,
    institution_id: Annotated[int | None, Query()] = None,
) -> list[ReconciliationRead]:
    rows = service.list_reconciliations(session, actor=user, institution_id=institution_id)
    return [ReconciliationRead.of(r) for r in rows]


@router.get("/{reconciliation_id}", summary="One reconciliation with every difference")
def get_reconciliation(
    reconciliation_id: int, session: SessionDep, user: Reconciler
) -> ReconciliationRead:
    row = service.get_reconciliation(session, actor=user, reconciliation_id=reconciliation_id)
    return ReconciliationRead.of(row)
