"""Recording state changes in the append-only audit log.

Every service that changes state calls :func:`record` in the same transaction, so the
change and its trace commit or roll back together. Identity numbers are masked on the way
in, also inside free text (reasons, notes, names): the log never holds one in full.

Tamper evidence (docs/audit.md): when a session that recorded entries commits, its entries
are chained (:func:`seal_pending`, one ``audit_chain`` link each, under a lock so two
committing transactions cannot fork the chain). Chaining at commit rather than in
:func:`record` keeps the chain's lock out of the middle of transactions: a service may
record, then lock more rows (an approval's entry, then the settlement's accumulators)
without any risk of a deadlock around the chain, and the lock is held for the commit only.
:func:`verify_chain` walks the chain and names the first entry that breaks it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import Table, event, exists, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from yibao.audit.hashing import GENESIS, HASHED_COLUMNS, entry_hash
from yibao.audit.models import AuditChainLink, AuditEntry
from yibao.identity import mask_identity_number, mask_identity_numbers

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
    if isinstance(value, str):
        # a number field masked as listings show it; free text (reasons, notes, names)
        # with every number inside it masked
        if key in _IDENTITY_KEYS:
            return mask_identity_number(value)
        return mask_identity_numbers(value)
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
        "actor": mask_identity_numbers(label)[:200],
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
    _remember_unsealed(session, entry.id)
    return entry


# --- the hash chain -------------------------------------------------------------------------

_CHAIN = cast(Table, AuditChainLink.__table__)
_UNSEALED = "yibao.audit.unsealed"  # session.info: ids recorded in this transaction
_HOOKED = "yibao.audit.hooked"
# One PostgreSQL advisory lock serialises sealing ("YIBAOAUD" as a number).
CHAIN_LOCK_KEY = 0x5949424141554944
_BATCH = 1000


def _remember_unsealed(session: Session, entry_id: int) -> None:
    pending: dict[int, None] = session.info.setdefault(_UNSEALED, {})
    pending[entry_id] = None
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", seal_pending)
        event.listen(session, "after_transaction_end", _forget_unsealed)
        session.info[_HOOKED] = True


def _forget_unsealed(session: Session, transaction: SessionTransaction) -> None:
    # The session's own transaction ended (committed, so sealed, or rolled back): what it
    # recorded is either in the chain or gone. Savepoints ending change nothing here: an
    # entry rolled back with one is simply not found when sealing.
    if transaction.parent is None:
        session.info.pop(_UNSEALED, None)


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    # SQLite: the transaction has written its entries, so it holds the database's write
    # lock already; no other transaction can seal until it ends.


def chain_head(session: Session) -> tuple[int, str]:
    """The last link: ``(seq, hash)``; ``(0, GENESIS)`` for an empty chain."""
    row = session.execute(
        select(_CHAIN.c.seq, _CHAIN.c.hash).order_by(_CHAIN.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


def seal_pending(session: Session) -> int:
    """Chain the entries this session recorded and has not sealed yet; the number sealed.

    Runs by itself just before the session commits (``before_commit``); call it directly
    only to seal early. Entries rolled back with a savepoint are skipped.
    """
    pending: dict[int, None] | None = session.info.get(_UNSEALED)
    if not pending:
        return 0
    ids = sorted(pending)
    session.flush()
    rows: list[Mapping[str, Any]] = []
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        stmt = select(*(_AUDIT_LOG.c[name] for name in HASHED_COLUMNS)).where(
            _AUDIT_LOG.c.id.in_(chunk)
        )
        rows.extend(dict(row._mapping) for row in session.execute(stmt))
    rows.sort(key=lambda row: int(row["id"]))
    sealed = append_links(session, rows)
    pending.clear()
    return sealed


def append_links(session: Session, entries: Sequence[Mapping[str, Any]]) -> int:
    """Add ``entries`` (rows of ``audit_log`` as stored) to the chain, in the given order,
    under the chain's lock. The migration that started the chain uses it too."""
    if not entries:
        return 0
    _lock_chain(session)
    seq, prev = chain_head(session)
    links: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        digest = entry_hash(entry, prev)
        links.append({"seq": seq, "entry_id": entry["id"], "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(links), _BATCH):
        session.execute(insert(_CHAIN), links[start : start + _BATCH])
    return len(links)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place the chain does not hold: which entry (or link) and why."""

    entry_id: int | None
    seq: int | None
    problem: str

    def describe(self) -> str:
        entry = f"entry {self.entry_id}" if self.entry_id is not None else "the chain"
        position = f" (chain position {self.seq})" if self.seq is not None else ""
        return f"{entry}{position}: {self.problem}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify_chain` found: links checked, the head, the first break."""

    links: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain from its first link and recompute every hash.

    Broken: a link whose entry is missing (deleted), whose hash does not match its entry as
    stored (altered), whose ``prev_hash`` is not the previous link's hash (links removed,
    reordered or forged), a gap in the positions, or an entry with no link at all (written
    around the platform). The first problem in chain order is reported.
    """
    columns = [_AUDIT_LOG.c[name] for name in HASHED_COLUMNS]
    stmt = (
        select(
            _CHAIN.c.seq,
            _CHAIN.c.entry_id,
            _CHAIN.c.prev_hash,
            _CHAIN.c.hash.label("link_hash"),
            _AUDIT_LOG.c.id.label("found_id"),
            *(c.label(f"e_{c.name}") for c in columns),
        )
        .select_from(_CHAIN.outerjoin(_AUDIT_LOG, _CHAIN.c.entry_id == _AUDIT_LOG.c.id))
        .order_by(_CHAIN.c.seq)
    )
    expected_seq, prev, links = 1, GENESIS, 0
    broken: ChainBreak | None = None
    result = session.execute(stmt, execution_options={"yield_per": _BATCH})
    for row in result:
        links += 1
        seq, entry_id = int(row.seq), int(row.entry_id)
        if seq != expected_seq:
            problem = f"links {expected_seq} to {seq - 1} are missing (removed from the chain)"
            broken = ChainBreak(entry_id, seq, problem)
        elif row.prev_hash != prev:
            broken = ChainBreak(
                entry_id,
                seq,
                "its link does not follow the previous one (links removed, reordered or forged)",
            )
        elif row.found_id is None:
            broken = ChainBreak(entry_id, seq, "the entry is missing (deleted from the log)")
        else:
            entry = {name: row._mapping[f"e_{name}"] for name in HASHED_COLUMNS}
            if entry_hash(entry, prev) != row.link_hash:
                broken = ChainBreak(
                    entry_id,
                    seq,
                    "the entry does not match its hash (changed after it was written)",
                )
        if broken is not None:
            result.close()
            break
        prev, expected_seq = str(row.link_hash), seq + 1
    head_seq, head_hash = chain_head(session)
    if broken is None:
        unlinked = session.scalars(
            select(_AUDIT_LOG.c.id)
            .where(~exists().where(_CHAIN.c.entry_id == _AUDIT_LOG.c.id))
            .order_by(_AUDIT_LOG.c.id)
            .limit(1)
        ).first()
        if unlinked is not None:
            broken = ChainBreak(
                int(unlinked),
                None,
                "the entry is not in the chain (written around the platform, or its link removed)",
            )
    return ChainReport(links=links, head_seq=head_seq, head_hash=head_hash, broken=broken)


def newest_first(
    session: Session,
    model: Any,
    *,
    equal: Mapping[str, object | None],
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Any]:
    """Rows of an insert-only log ``model`` (an ``id`` and an ``at`` column) matching every
    given filter — each column in ``equal`` whose value is not None, ``since <= at <
    until`` — newest first: the audit log's listing and that of the identity reads."""
    stmt = select(model)
    for name, value in equal.items():
        if value is not None:
            stmt = stmt.where(getattr(model, name) == value)
    if since is not None:
        stmt = stmt.where(model.at >= since)
    if until is not None:
        stmt = stmt.where(model.at < until)
    stmt = stmt.order_by(model.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


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
    equal = {
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "actor_user_id": actor_user_id,
    }
    return newest_first(
        session, AuditEntry, equal=equal, since=since, until=until, limit=limit, offset=offset
    )
