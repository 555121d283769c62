"""Counters kept by adding: ``INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n``.

The rollups (the settlements' sums per month and region pair, what confirmed clearing
statements took) are added to in the transaction that stores what they count. PostgreSQL and
SQLite both have the statement; SQLAlchemy builds it per dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def adding_upsert(table: Table, *, key: Sequence[str], sums: Sequence[str], dialect: str) -> Any:
    """The statement for ``table``: a new key is inserted, an existing one has ``sums``
    added to it."""
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + stmt.excluded[name] for name in sums},
    )


class AddingUpsert:
    """:func:`adding_upsert` built once per dialect, executed on a session's connection."""

    def __init__(self, table: Table, *, key: Sequence[str], sums: Sequence[str]) -> None:
        self._statements = {
            dialect: adding_upsert(table, key=key, sums=sums, dialect=dialect)
            for dialect in ("postgresql", "sqlite")
        }

    def __call__(self, session: Session, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        session.connection().execute(self._statements[dialect], rows)
