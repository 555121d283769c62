"""HTTP routes of third-party recovery cases, under ``/api/v1/recovery``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.money import from_fen
from yibao.recovery import access, service
from yibao.recovery import repository as repo
from yibao.recovery.models import RecoveryCase
from yibao.recovery.schemas import CaseClose, CaseRead
from yibao.settlements.routes import IdempotencyKeyHeader, Now, idempotent

router = APIRouter(prefix="/recovery", tags=["recovery"])

AgencyUser = Annotated[User, require_roles("agency", "admin")]


def _read(case: RecoveryCase) -> CaseRead:
    return CaseRead(
        id=case.id,
        settlement_id=case.settlement_id,
        person_id=case.person_id,
        insured_region=case.insured_region,
        treatment_region=case.treatment_region,
        amount=str(from_fen(case.amount_fen)),
        recovered=str(from_fen(case.recovered_fen)),
        outstanding=str(from_fen(case.amount_fen - case.recovered_fen)),
        state=case.state,
        note=case.note,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
    )


@router.get("/cases", summary="Recovery cases of the agency's insured region")
def list_cases(
    session: SessionDep,
    user: AgencyUser,
    state: Annotated[str | None, Query(pattern="^(open|closed|cancelled)$")] = None,
) -> list[CaseRead]:
    rows = repo.list_cases(session, insured_region=access.case_region(session, user), state=state)
    return [_read(case) for case in rows]


@router.get("/cases/{case_id}", summary="One recovery case")
def get_case(case_id: int, session: SessionDep, user: AgencyUser) -> CaseRead:
    return _read(access.readable_case(session, user, session.get(RecoveryCase, case_id), case_id))


@router.post(
    "/cases/{case_id}/close",
    summary="Close a case with the amount recovered; needs an Idempotency-Key",
    response_model=None,
)
def close_case(
    case_id: int,
    body: CaseClose,
    request: Request,
    session: SessionDep,
    user: AgencyUser,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    region = access.case_region(session, user)

    def operation() -> tuple[int, Any]:
        case = service.close_case(
            session,
            case_id=case_id,
            recovered=body.recovered,
            note=body.note,
            insured_region=region,
            actor=user,
            now=now,
        )
        return 200, _read(case).model_dump(mode="json")

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        operation=operation,
    )
