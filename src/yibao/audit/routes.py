"""The audit log, for admins: who changed what, when, from what to what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from yibao.audit import service
from yibao.audit.identity_reads import list_identity_reads
from yibao.audit.schemas import AuditEntryRead, IdentityReadRead
from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditEntryRead])
def list_audit(
    session: SessionDep,
    _user: Annotated[User, require_roles("admin")],
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AuditEntryRead]:
    """Entries newest first, filtered by entity, id, action, actor and time."""
    entries = service.query(
        session,
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor_user_id=actor_user_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [AuditEntryRead.model_validate(e) for e in entries]


@router.get("/audit/identity-reads", response_model=list[IdentityReadRead])
def list_identity_reads_route(
    session: SessionDep,
    _user: Annotated[User, require_roles("admin")],
    person_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[IdentityReadRead]:
    """Every read of a full identity number, newest first: who (``user_id``), whose
    (``person_id``), when and why (the route or command). Filter by person, user and time."""
    rows = list_identity_reads(
        session,
        person_id=person_id,
        user_id=user_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [IdentityReadRead.model_validate(row) for row in rows]
