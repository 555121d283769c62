"""Filing journeys: withdrawn filings, two more long-term categories, hospital stamps.

- ``filings.state`` may be ``withdrawn`` (an application withdrawn before a decision is
  kept for the history) and ``filings.withdrawn_on`` records the day.
- ``filings.category`` may be ``minor_with_parents`` (未成年人随父母异地居住) and
  ``resident_mother_postnatal`` (城乡居民产后随配偶或父母异地居住的女性), seed 001.
- ``filing_hospitals.stamped_at`` / ``stamped_by_user_id``: each chosen hospital's medical
  insurance office stamps a resettlement form (seed 000) where the region requires it.

Downgrading refuses while a row uses a value the older schema does not know.

Revision ID: 0008_filing_journeys
Revises: 0007_documents
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_filing_journeys"
down_revision: str | None = "0007_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CATEGORIES = (
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
    "referral",
    "emergency",
    "other_temporary",
)
NEW_CATEGORIES = ("minor_with_parents", "resident_mother_postnatal")
# Same order as yibao.filings.rules.CATEGORIES (long-term first), so the model's
# constraint text and this one agree.
CATEGORIES = (*OLD_CATEGORIES[:3], *NEW_CATEGORIES, *OLD_CATEGORIES[3:])
OLD_STATES = (
    "draft",
    "submitted",
    "returned",
    "resubmitted",
    "approved",
    "rejected",
    "cancelled",
    "expired",
)
STATES = (*OLD_STATES, "withdrawn")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _sqlite_set_check(bind: sa.Connection, name: str, column: str, values: Sequence[str]) -> None:
    """SQLite cannot alter a CHECK, and rebuilding ``filings`` would break the foreign keys
    of the rows pointing at it (``documents``, ``filing_hospitals``). The table's stored
    definition is rewritten instead, the procedure SQLite documents for changing a
    constraint without touching the stored rows (https://sqlite.org/lang_altertable.html,
    "making other kinds of table schema changes"); every row satisfies both checks."""
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'filings'"
    ).scalar_one()
    pattern = re.compile(rf"CONSTRAINT {name} CHECK \({column} IN \([^)]*\)\)")
    if len(pattern.findall(sql)) != 1:
        raise RuntimeError(f"filings: constraint {name} not found as expected (nothing changed)")
    new_sql = pattern.sub(f"CONSTRAINT {name} CHECK ({_one_of(column, values)})", sql)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'filings'"),
        {"sql": new_sql},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _set_checks(categories: Sequence[str], states: Sequence[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_set_check(bind, "ck_filings_category", "category", categories)
        _sqlite_set_check(bind, "ck_filings_state", "state", states)
        return
    for name, column, values in (
        ("ck_filings_category", "category", categories),
        ("ck_filings_state", "state", states),
    ):
        op.drop_constraint(op.f(name), "filings", type_="check")
        op.create_check_constraint(op.f(name), "filings", _one_of(column, values))


def upgrade() -> None:
    op.add_column("filings", sa.Column("withdrawn_on", sa.Date(), nullable=True))
    _set_checks(CATEGORIES, STATES)
    # Nothing points at filing_hospitals: SQLite may rebuild it.
    with op.batch_alter_table("filing_hospitals") as batch:
        batch.add_column(sa.Column("stamped_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stamped_by_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_filing_hospitals_stamped_by_user_id_users"),
            "users",
            ["stamped_by_user_id"],
            ["id"],
        )


def downgrade() -> None:
    bind = op.get_bind()
    filings = sa.table("filings", sa.column("category", sa.String()), sa.column("state"))
    newer = bind.execute(
        sa.select(sa.func.count()).where(
            sa.or_(filings.c.category.in_(NEW_CATEGORIES), filings.c.state == "withdrawn")
        )
    ).scalar_one()
    if newer:
        raise RuntimeError(
            f"{newer} filing(s) are withdrawn or of a category added in 0008_filing_journeys;"
            " the older schema cannot hold them (nothing was changed)"
        )
    with op.batch_alter_table("filing_hospitals") as batch:
        batch.drop_constraint(
            op.f("fk_filing_hospitals_stamped_by_user_id_users"), type_="foreignkey"
        )
        batch.drop_column("stamped_by_user_id")
        batch.drop_column("stamped_at")
    _set_checks(OLD_CATEGORIES, OLD_STATES)
    op.drop_column("filings", "withdrawn_on")
