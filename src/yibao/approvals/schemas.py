"""Approvals as the API shows them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from yibao.approvals.models import Approval


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
            requested_at=_aware(approval.requested_at) or approval.requested_at,
            decided_by=approval.decided_by,
            decided_at=_aware(approval.decided_at),
            reason=approval.reason,
            request=json.loads(approval.payload),
            result=json.loads(approval.result) if approval.result else None,
        )


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive timestamps; they were written in UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


class ApprovalReject(BaseModel):
    reason: str = Field(min_length=1, max_length=400)
