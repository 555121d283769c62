"""HTTP routes of the audit checks, under ``/api/v1/audit-findings`` (reviewers only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.claim_checks import service
from yibao.claim_checks.schemas import FindingRead

router = APIRouter(prefix="/audit-findings", tags=["audit checks"])

Reviewer = Annotated[User, require_roles("agency", "admin")]


class AuditRunRead(BaseModel):
    settlements_checked: int
    findings: int


@router.get("", summary="Findings of one subject, or of one person")
def list_findings(
    session: SessionDep,
    user: Reviewer,
    subject_kind: Annotated[Literal["reimbursement", "settlement"] | None, Query()] = None,
    subject_id: Annotated[int | None, Query()] = None,
    person_id: Annotated[int | None, Query()] = None,
) -> list[FindingRead]:
    rows = service.list_findings(
        session, actor=user, subject_kind=subject_kind, subject_id=subject_id, person_id=person_id
    )
    return [FindingRead.model_validate(r) for r in rows]


@router.post("/run", summary="Check the direct settlements not checked yet")
def run(
    session: SessionDep,
    user: Reviewer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> AuditRunRead:
    checked, found = service.run_checks_for(
        session, actor=user, year_month=month, now=datetime.now(UTC)
    )
    return AuditRunRead(settlements_checked=checked, findings=found)
