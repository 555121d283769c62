"""The audit log as a hash chain, and the application's restricted role.

``audit_chain`` holds one link per audit entry: its position (``seq``), the entry, the
previous link's hash and its own (SHA-256 over the entry as stored and the previous hash,
:mod:`yibao.audit.hashing`). The entries already written are chained here, in id order;
from now on each transaction seals its own entries when it commits.

Both tables are append-only in the database: UPDATE and DELETE are refused by triggers (the
log's were already), and on PostgreSQL TRUNCATE too. The application's role is then given
only INSERT and SELECT on them (``yibao db grant-app-role``), so it cannot drop, alter or
disable any of this: only the owner that runs the migrations could, and the chain shows it.

Revision ID: 0018_audit_chain
Revises: 0017_token_lifecycle
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from yibao.audit.hashing import GENESIS, HASHED_COLUMNS, entry_hash

revision: str = "0018_audit_chain"
down_revision: str | None = "0017_token_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000

_audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("actor_user_id", sa.Integer),
    sa.column("actor_role", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)
_audit_chain = sa.table(
    "audit_chain",
    sa.column("seq", sa.BigInteger),
    sa.column("entry_id", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_chain_seq")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["audit_log.id"], name=op.f("fk_audit_chain_entry_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_audit_chain_entry_id")),
    )
    _chain_existing_entries()
    _append_only()


def _chain_existing_entries() -> None:
    """Link every entry written so far, oldest id first (one pass, in batches)."""
    bind = op.get_bind()
    columns = [_audit_log.c[name] for name in HASHED_COLUMNS]
    rows = bind.execute(
        sa.select(*columns).order_by(_audit_log.c.id), execution_options={"yield_per": _BATCH}
    )
    prev = GENESIS
    links: list[dict[str, Any]] = []
    for seq, row in enumerate(rows, start=1):
        digest = entry_hash(row._mapping, prev)
        links.append({"seq": seq, "entry_id": row.id, "prev_hash": prev, "hash": digest})
        prev = digest
        if len(links) >= _BATCH:
            bind.execute(sa.insert(_audit_chain), links)
            links = []
    if links:
        bind.execute(sa.insert(_audit_chain), links)


def _append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION yibao_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_chain_no_change BEFORE UPDATE OR DELETE ON audit_chain "
            "FOR EACH ROW EXECUTE FUNCTION yibao_append_only()"
        )
        for table in ("audit_log", "audit_chain"):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION yibao_append_only()"
            )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_chain_no_{event.lower()} BEFORE {event} ON audit_chain "
                "BEGIN SELECT RAISE(ABORT, 'audit_chain is append-only'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in ("audit_log", "audit_chain"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_change ON audit_chain")
        op.execute("DROP FUNCTION IF EXISTS yibao_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_chain_no_{event}")
    op.drop_table("audit_chain")
