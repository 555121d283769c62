"""Indexes for the pages' lists: a hospital's settlements of one day (the window's
settlement list) are found by ``(institution_id, created_at)`` instead of walking the
hospital's settlements newest first; an agency's year of settlements is summed from
``ix_settlements_region_figures`` (``insured_region, year``, with the figures as included
columns on PostgreSQL: an index-only scan instead of reading the wide rows).

Revision ID: 0016_page_indexes
Revises: 0015_password_change
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_page_indexes"
down_revision: str | None = "0015_password_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FIGURE_COLUMNS = [
    "id",
    "treatment_region",
    "year_month",
    "setting",
    "offsite_status",
    "source",
    "kind",
    "total_fen",
    "pool_fund_pay_fen",
    "supplementary_pay_fen",
    "assistance_pay_fen",
    "fund_pay_total_fen",
    "account_pay_fen",
    "cash_pay_fen",
]


def upgrade() -> None:
    op.create_index(
        "ix_settlements_institution_created", "settlements", ["institution_id", "created_at"]
    )
    op.create_index(
        "ix_settlements_region_figures",
        "settlements",
        ["insured_region", "year"],
        postgresql_include=FIGURE_COLUMNS,
    )


def downgrade() -> None:
    op.drop_index("ix_settlements_region_figures", table_name="settlements")
    op.drop_index("ix_settlements_institution_created", table_name="settlements")
