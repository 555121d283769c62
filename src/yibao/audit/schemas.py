"""Audit log entries as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class IdentityReadRead(BaseModel):
    """One full identity number shown: who saw it, whose it was, when and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    actor: str
    actor_role: str | None
    person_id: int
    why: str
