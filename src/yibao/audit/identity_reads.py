"""Every read of a full identity number, recorded: who, whose, when, why (身份证号查阅记录).

A full identity number leaves the system in one place only,
:func:`yibao.registry.access.identity_number_for`, which decides whether the caller may
see it (the person, the centre of their insured region, admins) and, when it answers the
full number, calls :func:`record_identity_read` in the same transaction. Everything else
shows the number masked. The table is insert-only: triggers refuse ``UPDATE``,
``DELETE`` (and on PostgreSQL ``TRUNCATE``), as for the audit log. Auditors and admins
read it through ``GET /api/v1/audit/identity-reads`` and ``yibao audit identity-reads``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from yibao.audit.service import Actor, newest_first
from yibao.db import Base


class IdentityRead(Base):
    """One full identity number shown to one caller."""

    __tablename__ = "identity_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    why: Mapped[str] = mapped_column(String(200))


def record_identity_read(
    session: Session, *, actor: Actor, person_id: int, why: str, at: datetime | None = None
) -> IdentityRead:
    """Note that ``actor`` was shown person ``person_id``'s full number, for ``why`` (the
    route or command). Flushed with the caller's transaction, never committed here."""
    if actor is None:
        label, user_id, role = "system", None, None
    elif isinstance(actor, str):
        label, user_id, role = actor, None, None
    else:
        label, user_id, role = f"{actor.role}:{actor.id} {actor.name}", actor.id, actor.role
    row = IdentityRead(
        at=at or datetime.now(UTC),
        user_id=user_id,
        actor=label[:200],
        actor_role=role,
        person_id=person_id,
        why=why[:200],
    )
    session.add(row)
    return row


def list_identity_reads(
    session: Session,
    *,
    person_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IdentityRead]:
    """Reads matching every given filter, newest first."""
    equal = {"person_id": person_id, "user_id": user_id}
    return newest_first(
        session, IdentityRead, equal=equal, since=since, until=until, limit=limit, offset=offset
    )
