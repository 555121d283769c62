"""HTTP routes of stored settlements and their reversal (冲正). Thin: services decide.
The hospital window's routes (``/encounters...``) are in :mod:`yibao.encounters.routes`.

Every request that moves money needs an ``Idempotency-Key`` header: a retry gets the first
response back unchanged (header ``Idempotent-Replayed: true``), a different request under
the same key gets 409.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import LangDep, SessionDep, require_roles
from yibao.auth.models import User
from yibao.clock import china_today
from yibao.money import from_fen
from yibao.registry.access import institution_of
from yibao.settlements import idempotency, service
from yibao.settlements.models import SettlementRecord
from yibao.settlements.schemas import (
    ClearingTotalsRead,
    ReverseByMessage,
    ReverseRequest,
    SettlementSummary,
)

router = APIRouter(tags=["settlements"])

Hospital = Annotated[User, require_roles("hospital")]
HospitalOrAdmin = Annotated[User, require_roles("hospital", "admin")]
Reader = Annotated[User, require_roles("insured", "agency", "street_office", "hospital", "admin")]
Clearing = Annotated[User, require_roles("agency", "admin")]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]


# async: without I/O they run on the event loop; a plain ``def`` dependency would cost a
# worker-thread hop on every request.
async def get_today() -> date:
    """Today's date; tests override this dependency."""
    return china_today()


async def get_now() -> datetime:
    return datetime.now(UTC)


Today = Annotated[date, Depends(get_today)]
Now = Annotated[datetime, Depends(get_now)]


def idempotent(
    request: Request,
    session: Session,
    *,
    user: User,
    key: str | None,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
    key_required: bool = True,
) -> Response:
    """Run a money-moving ``operation`` once per (user, Idempotency-Key).

    With ``key_required=False`` a request without the header runs as it is (a retry of it
    is not recognised); one with the header is exactly-once like the others.
    """

    def run() -> tuple[int, str]:
        code, body = operation()
        try:
            # The services answer with plain JSON types already: no encoder walk needed.
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        except TypeError:
            text = json.dumps(jsonable_encoder(body), ensure_ascii=False, separators=(",", ":"))
        return code, text

    if key is None and not key_required:
        code, text = run()
        return Response(content=text, status_code=code, media_type="application/json")
    checked = idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.url.path, jsonable_encoder(payload))
    stored = idempotency.run_once(
        session, user_id=user.id, key=checked, digest=digest, operation=run
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(
        content=stored.body,
        status_code=stored.status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/settlements/{settlement_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse a settlement (冲正) once; needs an Idempotency-Key",
    response_model=None,
)
def reverse(
    settlement_id: int,
    body: ReverseRequest,
    request: Request,
    session: SessionDep,
    user: HospitalOrAdmin,
    now: Now,
    lang: LangDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    def operation() -> tuple[int, Any]:
        reversal = service.reverse_settlement(
            session,
            settlement_id=settlement_id,
            msg_id=body.msg_id,
            reason=body.reason,
            actor=user,
            now=now,
        )
        return 201, service.settlement_explained(session, record_=reversal, lang=lang)

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        operation=operation,
    )


@router.post(
    "/settlements/reverse-by-message",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse by the hospital's original message id (like 2601); needs an Idempotency-Key",
    response_model=None,
)
def reverse_by_message(
    body: ReverseByMessage,
    request: Request,
    session: SessionDep,
    user: Hospital,
    now: Now,
    lang: LangDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    institution_id = institution_of(user)

    def operation() -> tuple[int, Any]:
        reversal = service.reverse_by_message(
            session,
            institution_id=institution_id,
            original_msg_id=body.original_msg_id,
            msg_id=body.msg_id,
            reason=body.reason,
            actor=user,
            now=now,
        )
        return 201, service.settlement_explained(session, record_=reversal, lang=lang)

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        operation=operation,
    )


def _summary(row: SettlementRecord) -> SettlementSummary:
    return SettlementSummary(
        id=row.id,
        kind=row.kind,
        state=row.state,
        source=row.source,
        reverses_id=row.reverses_id,
        encounter_id=row.encounter_id,
        person_id=row.person_id,
        institution_id=row.institution_id,
        claim_date=row.claim_date,
        setting=row.setting,
        insured_region=row.insured_region,
        treatment_region=row.treatment_region,
        total=str(from_fen(row.total_fen)),
        fund_pay_total=str(from_fen(row.fund_pay_total_fen)),
        account_pay=str(from_fen(row.account_pay_fen)),
        cash_pay=str(from_fen(row.cash_pay_fen)),
    )


@router.get("/settlements", summary="Settlements the caller may see (an insured person: own)")
def list_settlements(
    session: SessionDep,
    user: Reader,
    year_month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    kind: Annotated[str | None, Query(pattern="^(settlement|reversal)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[SettlementSummary]:
    rows = service.list_settlements(
        session, actor=user, year_month=year_month, kind=kind, limit=limit, offset=offset
    )
    return [_summary(row) for row in rows]


@router.get("/settlements/totals", summary="Per-fund totals for clearing, by month and regions")
def clearing_totals(
    session: SessionDep,
    user: Clearing,
    year_month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    insured_region: str | None = None,
    treatment_region: str | None = None,
) -> list[ClearingTotalsRead]:
    rows = service.clearing_totals(
        session,
        actor=user,
        year_month=year_month,
        insured_region=insured_region,
        treatment_region=treatment_region,
    )
    return [
        ClearingTotalsRead(
            year_month=r.year_month,
            insured_region=r.insured_region,
            treatment_region=r.treatment_region,
            settlements=r.settlements,
            reversals=r.reversals,
            total=str(from_fen(r.total_fen)),
            pool_fund_pay=str(from_fen(r.pool_fund_pay_fen)),
            supplementary_pay=str(from_fen(r.supplementary_pay_fen)),
            assistance_pay=str(from_fen(r.assistance_pay_fen)),
            fund_pay_total=str(from_fen(r.fund_pay_total_fen)),
            account_pay=str(from_fen(r.account_pay_fen)),
            cash_pay=str(from_fen(r.cash_pay_fen)),
        )
        for r in rows
    ]


@router.get(
    "/settlements/{settlement_id}",
    summary="One settlement explained line by line, as the engine reasoned",
)
def get_settlement(
    settlement_id: int, session: SessionDep, user: Reader, lang: LangDep
) -> dict[str, Any]:
    row = service.get_settlement(session, actor=user, settlement_id=settlement_id)
    return service.settlement_explained(session, record_=row, lang=lang)
