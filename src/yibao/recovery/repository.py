"""Queries of recovery cases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.errors import NotFound
from yibao.recovery.models import RecoveryCase


def get_case(session: Session, case_id: int, *, lock: bool = False) -> RecoveryCase:
    stmt = select(RecoveryCase).where(RecoveryCase.id == case_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    case = session.execute(stmt).scalar_one_or_none()
    if case is None:
        raise NotFound(f"recovery case {case_id} not found", code="recovery.not_found")
    return case


def case_for_settlement(session: Session, settlement_id: int) -> RecoveryCase | None:
    return session.execute(
        select(RecoveryCase).where(RecoveryCase.settlement_id == settlement_id)
    ).scalar_one_or_none()


def list_cases(
    session: Session,
    *,
    insured_region: str | None = None,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RecoveryCase]:
    stmt = select(RecoveryCase)
    if insured_region is not None:
        stmt = stmt.where(RecoveryCase.insured_region == insured_region)
    if state is not None:
        stmt = stmt.where(RecoveryCase.state == state)
    return list(session.scalars(stmt.order_by(RecoveryCase.id.desc()).limit(limit).offset(offset)))
