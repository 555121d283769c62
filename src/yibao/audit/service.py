"""Recording state changes in the append-only audit log.

Every service that changes state calls :func:`record` in the same transaction, so the
change and its trace commit or roll back together. Identity numbers are masked on the way
in: the log never holds one in full.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from yibao.audit.models import AuditEntry
from yibao.identity import mask_identity_number

_IDENTITY_KEYS = frozenset({"identity_number", "id_number", "relative_identity_number"})


class ActorLike(Protocol):
    """Anything with a user's id, name and role (``yibao.auth.models.User`` fits)."""

    id: int
    name: str
    role: str


Actor = ActorLike | str | None


def _jsonable(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, key) for v in value]
    if isinstance(value, str) and key in _IDENTITY_KEYS:
        return mask_identity_number(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshot(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for ``before``/``after``)."""
    return {name: _jsonable(getattr(obj, name), name) for name in fields}


_AUDIT_LOG = AuditEntry.__table__
assert isinstance(_AUDIT_LOG, Table)
_INSERT_ENTRY = insert(_AUDIT_LOG).returning(_AUDIT_LOG.c.id)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry: ``actor`` did ``action`` to ``entity`` ``entity_id``."""
    if actor is None:
        label, user_id, role = "system", None, None
    elif isinstance(actor, str):
        label, user_id, role = actor, None, None
    else:
        label, user_id, role = f"{actor.role}:{actor.id} {actor.name}", actor.id, actor.role
    values: dict[str, Any] = {
        "at": at or datetime.now(UTC),
        "actor": label[:200],
        "actor_user_id": user_id,
        "actor_role": role,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
    }
    # Pending changes go first, as with a flush; the entry itself is one INSERT ... RETURNING
    # (no unit of work, which cost more than the insert on busy paths such as settlement).
    session.flush()
    entry = AuditEntry(id=session.execute(_INSERT_ENTRY, values).scalar_one(), **values)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def query(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Entries matching every given filter, newest first."""
    stmt = select(AuditEntry)
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if actor_user_id is not None:
        stmt = stmt.where(AuditEntry.actor_user_id == actor_user_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
