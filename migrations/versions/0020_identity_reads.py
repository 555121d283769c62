"""Every read of a full identity number recorded: who, whose, when, why.

``identity_reads``: one row each time a full identity number was shown (who: the user id
and a label; whose: the person; when; why: the route or command). Written only by
``yibao.registry.access.identity_number_for`` and insert-only, as the audit log is:
triggers refuse ``UPDATE`` and ``DELETE`` on both databases, and ``TRUNCATE`` on
PostgreSQL.

Revision ID: 0020_identity_reads
Revises: 0019_check_constraints
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_identity_reads"
down_revision: str | None = "0019_check_constraints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("why", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_identity_reads_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_reads")),
    )
    op.create_index("ix_identity_reads_at", "identity_reads", ["at"], unique=False)
    op.create_index("ix_identity_reads_user_id", "identity_reads", ["user_id"], unique=False)
    op.create_index("ix_identity_reads_person_id", "identity_reads", ["person_id"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION identity_reads_insert_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'identity_reads is insert-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER identity_reads_no_change BEFORE UPDATE OR DELETE ON identity_reads "
            "FOR EACH ROW EXECUTE FUNCTION identity_reads_insert_only()"
        )
        op.execute(
            "CREATE TRIGGER identity_reads_no_truncate BEFORE TRUNCATE ON identity_reads "
            "FOR EACH STATEMENT EXECUTE FUNCTION identity_reads_insert_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER identity_reads_no_{event.lower()} BEFORE {event} "
                "ON identity_reads BEGIN SELECT RAISE(ABORT, 'identity_reads is insert-only'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS identity_reads_no_truncate ON identity_reads")
        op.execute("DROP TRIGGER IF EXISTS identity_reads_no_change ON identity_reads")
        op.execute("DROP FUNCTION IF EXISTS identity_reads_insert_only()")
    op.drop_index("ix_identity_reads_person_id", table_name="identity_reads")
    op.drop_index("ix_identity_reads_user_id", table_name="identity_reads")
    op.drop_index("ix_identity_reads_at", table_name="identity_reads")
    op.drop_table("identity_reads")
