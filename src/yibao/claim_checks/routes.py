"""HTTP routes of the audit checks, under ``/api/v1/audit-findings`` (reviewers only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.claim_checks import repository as repo
from yibao.claim_checks import service
from yibao.reimbursements.schemas import FindingRead

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
    if subject_kind is not None and subject_id is not None:
        rows = service.findings_for(session, subject_kind=subject_kind, subject_id=subject_id)
    elif person_id is not None:
        rows = repo.findings_of_person(session, person_id=person_id)
    else:
        rows = []
    return [FindingRead.model_validate(r) for r in rows]


@router.post("/run", summary="Check the direct settlements not checked yet")
def run(
    session: SessionDep,
    user: Reviewer,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> AuditRunRead:
    checked, found = service.audit_settlements(session, year_month=month, now=datetime.now(UTC))
    return AuditRunRead(settlements_checked=checked, findings=found)
