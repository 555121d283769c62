"""Four-eyes approvals: the second user's side. Thin: the service decides."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from yibao.approvals import service
from yibao.approvals.schemas import ApprovalRead, ApprovalReject
from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User

router = APIRouter(tags=["approvals"])

Decider = Annotated[User, require_roles("agency", "admin")]


@router.get("/approvals", summary="Requests waiting for a second person (双人复核)")
def list_approvals(
    session: SessionDep,
    user: Decider,
    state: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApprovalRead]:
    rows = service.list_approvals(session, actor=user, state=state, limit=limit)
    return [ApprovalRead.of(a) for a in rows]


@router.get("/approvals/{approval_id}")
def get_approval(approval_id: int, session: SessionDep, user: Decider) -> ApprovalRead:
    return ApprovalRead.of(service.get_approval(session, actor=user, approval_id=approval_id))


@router.post(
    "/approvals/{approval_id}/approve",
    summary="Approve another user's request; the act is carried out now",
)
def approve(approval_id: int, session: SessionDep, user: Decider) -> ApprovalRead:
    return ApprovalRead.of(service.approve(session, actor=user, approval_id=approval_id))


@router.post("/approvals/{approval_id}/reject", summary="Reject another user's request")
def reject(
    approval_id: int, body: ApprovalReject, session: SessionDep, user: Decider
) -> ApprovalRead:
    return ApprovalRead.of(
        service.reject(session, actor=user, approval_id=approval_id, reason=body.reason)
    )
