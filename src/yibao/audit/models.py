"""The append-only audit log: who changed what, when, from what to what.

Each entry is sealed into a hash chain when its transaction commits (``audit_chain``, one
link per entry, see :mod:`yibao.audit.service`), so an entry altered, removed or slipped
in afterwards is found by ``yibao audit verify``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(80), index=True)
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditChainLink(Base):
    """One entry's place in the hash chain: ``hash`` = SHA-256 of the entry as stored and
    ``prev_hash`` (:mod:`yibao.audit.hashing`).

    ``seq`` counts from 1 without gaps in the order the entries' transactions committed
    (not always the order of their ids: two transactions may commit in either order). The
    last link is the chain's head. Append-only like the log itself.
    """

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
