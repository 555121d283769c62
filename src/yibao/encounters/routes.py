"""HTTP routes of the hospital window (医院窗口), under ``/api/v1/encounters``. Thin:
services decide.

Settling moves money: it needs an ``Idempotency-Key`` header (see
:func:`yibao.settlements.routes.idempotent`). The answers of settling are the stored
settlement explained (:func:`yibao.settlements.service.settlement_explained`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import LangDep, SessionDep, require_roles
from yibao.auth.models import User
from yibao.encounters import access, repository, service
from yibao.encounters.models import Encounter
from yibao.encounters.schemas import (
    EncounterCancel,
    EncounterCreate,
    EncounterRead,
    FeeBatch,
    FeeLineRead,
    SettleRequest,
)
from yibao.engine import explanation_lines, result_to_dict
from yibao.money import from_e4, from_fen, to_fen
from yibao.registry.access import institution_of
from yibao.settlements import service as settlements
from yibao.settlements.routes import IdempotencyKeyHeader, Now, Today, idempotent
from yibao.settlements.states import deposit_outcome

# The same tag as the settlement routes: the API documentation is unchanged by the move.
router = APIRouter(tags=["settlements"])

Hospital = Annotated[User, require_roles("hospital")]
HospitalOrAdmin = Annotated[User, require_roles("hospital", "admin")]


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
                quantity=format(from_e4(line.quantity_e4).normalize(), "f"),  # 10, not 1E+1
                unit_price=format(from_e4(line.unit_price_e4).normalize(), "f"),
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
    encounter = service.register_encounter(
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
        today=today,
        actor=user,
    )
    return _encounter_read(session, encounter)


@router.get("/encounters", summary="The hospital's encounters, newest first, filtered and paged")
def list_encounters(
    session: SessionDep,
    user: HospitalOrAdmin,
    started_from: date | None = None,
    started_to: date | None = None,
    state: Annotated[Literal["open", "settled", "cancelled"] | None, Query()] = None,
    setting: Annotated[Literal["inpatient", "outpatient"] | None, Query()] = None,
    person_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[EncounterRead]:
    rows = service.list_encounters(
        session,
        actor=user,
        started_from=started_from,
        started_to=started_to,
        state=state,
        setting=setting,
        person_id=person_id,
        limit=limit,
        offset=offset,
    )
    return [_encounter_read(session, encounter) for encounter in rows]


@router.post(
    "/encounters/{encounter_id}/cancel",
    summary="Cancel a registration or admission made by mistake (no standing settlement)",
)
def cancel(
    encounter_id: int, body: EncounterCancel, session: SessionDep, user: Hospital
) -> EncounterRead:
    encounter = service.cancel_encounter(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        reason=body.reason,
        actor=user,
    )
    return _encounter_read(session, encounter)


@router.get("/encounters/{encounter_id}", summary="One encounter with its fee lines")
def get_encounter(encounter_id: int, session: SessionDep, user: HospitalOrAdmin) -> EncounterRead:
    encounter = service.own_encounter(
        session, encounter_id=encounter_id, institution_id=access.encounter_scope(user)
    )
    return _encounter_read(session, encounter)


@router.post(
    "/encounters/{encounter_id}/fees",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a batch of fee details (each line with the hospital's own line id)",
)
def upload_fees(
    encounter_id: int, body: FeeBatch, session: SessionDep, user: Hospital
) -> EncounterRead:
    service.upload_fees(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        lines=[
            service.FeeLineIn(line.line_id, line.code, line.quantity, line.unit_price)
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
    service.withdraw_fee(
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
    encounter_id: int,
    body: SettleRequest,
    request: Request,
    session: SessionDep,
    user: Hospital,
    today: Today,
    lang: LangDep,
) -> dict[str, Any]:
    result = service.pre_settle_encounter(
        session,
        encounter_id=encounter_id,
        institution_id=institution_of(user),
        on=body.on,
        liability=body.liability,
        local_use_while_filed=_local_use(request),
        today=today,
    )
    encounter = repository.get_encounter(session, encounter_id)
    out = result_to_dict(result, explain=True)
    out["explanation"] = explanation_lines(result, lang=lang)
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
    lang: LangDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    institution_id = institution_of(user)

    def operation() -> tuple[int, Any]:
        stored, _result = service.settle_encounter(
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
        return 201, settlements.settlement_explained(session, record_=stored, lang=lang)

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload={"encounter_id": encounter_id, **body.model_dump(mode="json")},
        operation=operation,
    )
