"""HTTP routes of the hospital window and of stored settlements. Thin: services decide.

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

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.engine import result_to_dict
from yibao.errors import Forbidden, NotFound
from yibao.money import from_fen, to_fen
from yibao.registry.models import Agency
from yibao.settlements import encounters, idempotency, repository, service
from yibao.settlements.models import Encounter, SettlementRecord
from yibao.settlements.schemas import (
    ClearingTotalsRead,
    EncounterCreate,
    EncounterRead,
    FeeBatch,
    FeeLineRead,
    ReverseByMessage,
    ReverseRequest,
    SettlementSummary,
    SettleRequest,
)
from yibao.settlements.states import deposit_outcome

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
    return date.today()


async def get_now() -> datetime:
    return datetime.now(UTC)


Today = Annotated[date, Depends(get_today)]
Now = Annotated[datetime, Depends(get_now)]


def institution_of(user: User) -> int:
    if user.institution_id is None:
        raise Forbidden("this user is not bound to an institution", code="auth.no_institution")
    return user.institution_id


def region_of(session: Session, user: User) -> str:
    """The region an agency or street office user answers for."""
    if user.region_code:
        return user.region_code
    agency = session.get(Agency, user.agency_id) if user.agency_id is not None else None
    if agency is None:
        raise Forbidden("this user is not bound to a region", code="auth.no_region")
    return agency.region_code


def idempotent(
    request: Request,
    session: Session,
    *,
    user: User,
    key: str | None,
    payload: Any,
    operation: Callable[[], tuple[int, Any]],
) -> Response:
    """Run a money-moving ``operation`` once per (user, Idempotency-Key)."""
    checked = idempotency.check_key(key)
    digest = idempotency.request_hash(request.method, request.url.path, jsonable_encoder(payload))

    def run() -> tuple[int, str]:
        code, body = operation()
        try:
            # The services answer with plain JSON types already: no encoder walk needed.
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        except TypeError:
            text = json.dumps(jsonable_encoder(body), ensure_ascii=False, separators=(",", ":"))
        return code, text

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


def _encounter_read(session: Session, encounter: Encounter) -> EncounterRead:
    settled = (
        repository.current_settlement_id(session, encounter.id)
        if encounter.state == "settled"
        else None
    )
    return EncounterRead(
        id=encounter.id,
        institution_id=encounter.institution_id,
        person_id=encounter.person_id,
        setting=encounter.setting,
        state=encounter.state,
        hospital_ref=encounter.hospital_ref,
        started_on=encounter.started_on,
        deposit=str(from_fen(encounter.deposit_fen)),
        emergency=encounter.emergency,
        liability=encounter.liability,
        fee_lines=[
            FeeLineRead(
                line_id=line.line_id,
                batch_no=line.batch_no,
                code=line.code,
                quantity=format(service.from_e4(line.quantity_e4).normalize(), "f"),  # 10, not 1E+1
                unit_price=format(service.from_e4(line.unit_price_e4).normalize(), "f"),
                state=line.state,
            )
            for line in repository.fee_lines(session, encounter.id, active_only=False)
        ],
        settlement_id=settled,
    )


def _local_use(request: Request) -> bool | None:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "policy_local_use_while_filed", None)


@router.post(
    "/encounters",
    status_code=status.HTTP_201_CREATED,
    summary="Register an outpatient visit or admit an inpatient (with the deposit)",
)
def register(
    body: EncounterCreate, session: SessionDep, user: Hospital, today: Today
) -> EncounterRead:
    encounter = encounters.register_encounter(
        session,
        institution_id=institution_of(user),
        setting=body.setting,
        started_on=body.started_on or today,
        identity_number=body.identity_number,
        card_number=body.card_number,
        deposit=body.deposit,
        emergency=body.emergency,
        liability=body.liability,
        hospital_ref=body.hospital_ref,
        diagnosis=body.diagnosis,
        actor=user,
    )
    return _encounter_read(session, encounter)


@router.get("/encounters/{encounter_id}", summary="One encounter with its fee lines")
def get_encounter(encounter_id: int, session: SessionDep, user: HospitalOrAdmin) -> EncounterRead:
    scope = institution_of(user) if user.role == "hospital" else None
    encounter = encounters.own_encounter(session, encounter_id=encounter_id, institution_id=scope)
    return _encounter_read(session, encounter)


@router.post(
    "/encounters/{encounter_id}/fees",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a batch of fee details (each line with the hospital's own line id)",
)
def upload_fees(
    encounter_id: int, body: FeeBatch, session: SessionDep, user: Hospital
) -> EncounterRead:
    encounters.upload_fees(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        lines=[
            encounters.FeeLineIn(line.line_id, line.code, line.quantity, line.unit_price)
            for line in body.lines
        ],
        actor=user,
    )
    encounter = repository.get_encounter(session, encounter_id)
    return _encounter_read(session, encounter)


@router.delete(
    "/encounters/{encounter_id}/fees/{line_id}", summary="Withdraw a fee line before settlement"
)
def withdraw_fee(
    encounter_id: int, line_id: str, session: SessionDep, user: Hospital
) -> EncounterRead:
    encounters.withdraw_fee(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        line_id=line_id,
        actor=user,
    )
    return _encounter_read(session, repository.get_encounter(session, encounter_id))


@router.post(
    "/encounters/{encounter_id}/pre-settle",
    summary="Pre-settlement (预结算): the full result, nothing changes",
)
def pre_settle(
    encounter_id: int, body: SettleRequest, request: Request, session: SessionDep, user: Hospital
) -> dict[str, Any]:
    result = encounters.pre_settle_encounter(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        on=body.on,
        liability=body.liability,
        local_use_while_filed=_local_use(request),
    )
    encounter = repository.get_encounter(session, encounter_id)
    out = result_to_dict(result, explain=True)
    if result.status == "settled":
        refund, due = deposit_outcome(encounter.deposit_fen, to_fen(result.cash_pay))
        out["deposit"] = str(from_fen(encounter.deposit_fen))
        out["deposit_refund"] = str(from_fen(refund))
        out["cash_due"] = str(from_fen(due))
    return out


@router.post(
    "/encounters/{encounter_id}/settle",
    status_code=status.HTTP_201_CREATED,
    summary="Discharge settlement (出院结算); needs an Idempotency-Key",
    response_model=None,
)
def settle(
    encounter_id: int,
    body: SettleRequest,
    request: Request,
    session: SessionDep,
    user: Hospital,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    institution_id = institution_of(user)

    def operation() -> tuple[int, Any]:
        stored, _result = encounters.settle_encounter(
            session,
            encounter_id=encounter_id,
            institution_id=institution_id,
            on=body.on,
            liability=body.liability,
            msg_id=body.msg_id,
            invoice_no=body.invoice_no,
            local_use_while_filed=_local_use(request),
            actor=user,
            now=now,
        )
        return 201, service.settlement_explained(session, record_=stored)

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload={"encounter_id": encounter_id, **body.model_dump(mode="json")},
        operation=operation,
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
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    scope = institution_of(user) if user.role == "hospital" else None

    def operation() -> tuple[int, Any]:
        reversal = service.reverse_settlement(
            session,
            settlement_id=settlement_id,
            institution_id=scope,
            msg_id=body.msg_id,
            reason=body.reason,
            actor=user,
            now=now,
        )
        return 201, service.settlement_explained(session, record_=reversal)

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
        return 201, service.settlement_explained(session, record_=reversal)

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


def _scope(session: Session, user: User) -> dict[str, Any]:
    if user.role == "insured":
        if user.person_id is None:
            raise Forbidden("this user is not bound to a person", code="auth.no_person")
        return {"person_id": user.person_id}
    if user.role == "hospital":
        return {"institution_id": institution_of(user)}
    if user.role in ("agency", "street_office"):
        return {"region": region_of(session, user)}
    return {}


@router.get("/settlements", summary="Settlements the caller may see (an insured person: own)")
def list_settlements(
    session: SessionDep,
    user: Reader,
    year_month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    kind: Annotated[str | None, Query(pattern="^(settlement|reversal)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[SettlementSummary]:
    rows = repository.list_settlements(
        session,
        year_month=year_month,
        kind=kind,
        limit=limit,
        offset=offset,
        **_scope(session, user),
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
    if user.role == "agency":
        region = region_of(session, user)
        if insured_region is None and treatment_region is None:
            insured_region = region
        elif region not in (insured_region, treatment_region):
            raise Forbidden("an agency sees the totals of its own region", code="auth.region")
    rows = repository.clearing_totals(
        session,
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
def get_settlement(settlement_id: int, session: SessionDep, user: Reader) -> dict[str, Any]:
    row = repository.get_settlement(session, settlement_id)
    scope = _scope(session, user)
    visible = (
        ("person_id" not in scope or row.person_id == scope["person_id"])
        and ("institution_id" not in scope or row.institution_id == scope["institution_id"])
        and ("region" not in scope or scope["region"] in (row.insured_region, row.treatment_region))
    )
    if not visible:
        raise NotFound(f"settlement {settlement_id} not found", code="settlement.not_found")
    return service.settlement_explained(session, record_=row)
