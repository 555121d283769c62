"""The audit chain's arithmetic: one canonical form of an entry and its SHA-256 hash.

Pure (standard library only), so the migration that hashed the entries written before the
chain existed, the sealing at commit and ``yibao audit verify`` all compute the same thing.
The form is fixed: changing it would break every stored hash, so a new form would need a
new version of the chain, never an edit here.

An entry's hash covers every column of the entry as stored (id, time, actor, action,
entity, before and after) and the previous link's hash, so altering, removing or
reordering any entry changes the hash of every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# The ``prev_hash`` of the first link.
GENESIS = "0" * 64

# The columns of ``audit_log`` a hash covers, in the order they are listed here.
HASHED_COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_user_id",
    "actor_role",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
)


def _instant(value: datetime) -> str:
    # PostgreSQL hands back an aware time in the session's zone, SQLite a naive one written
    # in UTC: both become the same UTC text.
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes hashed for ``entry`` (a row of ``audit_log`` as read back) after
    ``prev_hash``: sorted-key JSON, no spaces, UTF-8."""
    doc: dict[str, Any] = {name: entry[name] for name in HASHED_COLUMNS}
    at = doc["at"]
    doc["at"] = _instant(at) if isinstance(at, datetime) else str(at)
    doc["prev_hash"] = prev_hash
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """The SHA-256 (hex) of ``entry`` chained after ``prev_hash``."""
    return hashlib.sha256(canonical(entry, prev_hash)).hexdigest()
