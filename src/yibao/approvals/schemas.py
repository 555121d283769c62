"""Approvals as the API shows them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from yibao.approvals.models import Approval
from yibao.clock import as_utc


class ApprovalRead(BaseModel):
    id: int
    kind: str
    subject: str
    summary: str
    state: str
    requested_by: int
    requested_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    reason: str | None
    request: dict[str, Any] = Field(description="The request as the first user made it")
    result: dict[str, Any] | None = Field(description="What approving it did")

    @classmethod
    def of(cls, approval: Approval) -> ApprovalRead:
        return cls(
            id=approval.id,
            kind=approval.kind,
            subject=approval.subject,
            summary=approval.summary,
            state=approval.state,
            requested_by=approval.requested_by,
            requested_at=as_utc(approval.requested_at),
            decided_by=approval.decided_by,
            decided_at=as_utc(approval.decided_at) if approval.decided_at else None,
            reason=approval.reason,
            request=json.loads(approval.payload),
            result=json.loads(approval.result) if approval.result else None,
        )


class ApprovalReject(BaseModel):
    reason: str = Field(min_length=1, max_length=400)
