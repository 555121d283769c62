"""HTTP routes of pharmacy sales, under ``/api/v1/pharmacy``. Money moves: Idempotency-Key."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.encounters.service import FeeLineIn
from yibao.pharmacy import service
from yibao.pharmacy.models import PharmacySale
from yibao.pharmacy.schemas import RefusedLine, SaleCreate, SaleRead
from yibao.registry.access import institution_of, own_institution
from yibao.settlements import repository as settlement_repo
from yibao.settlements import service as settlements
from yibao.settlements.routes import IdempotencyKeyHeader, Now, idempotent
from yibao.settlements.schemas import ReverseRequest

router = APIRouter(prefix="/pharmacy", tags=["pharmacy"])

Pharmacy = Annotated[User, require_roles("hospital")]
PharmacyOrAdmin = Annotated[User, require_roles("hospital", "admin")]


def _read(session: Session, sale: PharmacySale, notes: list[str] | None = None) -> SaleRead:
    record = settlement_repo.get_settlement(session, sale.settlement_id)
    return SaleRead(
        id=sale.id,
        state=sale.state,
        institution_id=sale.institution_id,
        holder_person_id=sale.holder_person_id,
        patient_person_id=sale.patient_person_id,
        account_person_id=sale.account_person_id,
        buyer_identity_masked=sale.buyer_identity_masked,
        refused=[RefusedLine(**r) for r in json.loads(sale.refused)],
        notes=notes or [],
        settlement=settlements.settlement_explained(session, record_=record),
    )


@router.post(
    "/sales",
    status_code=status.HTTP_201_CREATED,
    summary="Sell catalog drugs against the card; refused lines listed with reasons",
    response_model=None,
)
def sell(
    body: SaleCreate,
    request: Request,
    session: SessionDep,
    user: Pharmacy,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    institution_id = institution_of(user)

    def operation() -> tuple[int, Any]:
        outcome = service.sell(
            session,
            institution_id=institution_id,
            lines=[FeeLineIn(x.line_id, x.code, x.quantity, x.unit_price) for x in body.lines],
            identity_number=body.identity_number,
            card_number=body.card_number,
            patient_identity_number=body.patient_identity_number,
            msg_id=body.msg_id,
            on=body.on,
            actor=user,
            now=now,
        )
        return 201, _read(session, outcome.sale, outcome.notes).model_dump(mode="json")

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        operation=operation,
    )


@router.get("/sales/{sale_id}", summary="One sale with its settlement")
def get_sale(sale_id: int, session: SessionDep, user: PharmacyOrAdmin) -> SaleRead:
    sale = service.get_sale(session, sale_id=sale_id, institution_id=own_institution(user))
    return _read(session, sale)


@router.post(
    "/sales/{sale_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    summary="Reverse a sale (退药) once; needs an Idempotency-Key",
    response_model=None,
)
def reverse_sale(
    sale_id: int,
    body: ReverseRequest,
    request: Request,
    session: SessionDep,
    user: Pharmacy,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    institution_id = institution_of(user)

    def operation() -> tuple[int, Any]:
        sale = service.get_sale(session, sale_id=sale_id, institution_id=institution_id)
        settlements.reverse_settlement(
            session,
            settlement_id=sale.settlement_id,
            institution_id=institution_id,
            msg_id=body.msg_id,
            reason=body.reason,
            actor=user,
            now=now,
        )
        return 201, _read(session, sale).model_dump(mode="json")

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        operation=operation,
    )
