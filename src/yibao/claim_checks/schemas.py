"""Claim-check findings as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subject_kind: str
    subject_id: int
    code: str
    severity: Literal["blocking", "warning"] = Field(
        description="blocking: stops the approval until a second reviewer overrides it"
    )
    message: str
    evidence: dict[str, Any]
