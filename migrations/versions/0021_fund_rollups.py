"""Fund totals kept as settlements are stored, for the agency's dashboard and the advance
fund's part in use: ``fund_rollups`` (the settlements' figures per insured and treatment
region, month, setting, off-site status and source, in a few slots per key) and
``cleared_months`` (what confirmed clearing statements took of each pair's months). Both are
filled from the rows already stored.

Revision ID: 0021_fund_rollups
Revises: 0020_identity_reads
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_fund_rollups"
down_revision: str | None = "0020_identity_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # yibao.settlements.models.ROLLUP_SLOTS when this migration was written


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "fund_rollups",
        sa.Column("insured_region", sa.String(6), primary_key=True),
        sa.Column("treatment_region", sa.String(6), primary_key=True),
        sa.Column("year_month", sa.String(7), primary_key=True),
        sa.Column("setting", sa.String(12), primary_key=True),
        sa.Column("offsite_status", sa.String(12), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        _money("settlements"),
        _money("reversals"),
        _money("total_fen"),
        _money("pool_fen"),
        _money("supplementary_fen"),
        _money("assistance_fen"),
        _money("fund_fen"),
        _money("account_fen"),
    )
    op.create_table(
        "cleared_months",
        sa.Column("insured_region", sa.String(6), primary_key=True),
        sa.Column("treatment_region", sa.String(6), primary_key=True),
        sa.Column("year_month", sa.String(7), primary_key=True),
        _money("entries"),
        _money("fund_fen"),
        _money("account_fen"),
    )
    op.execute(
        "INSERT INTO fund_rollups (insured_region, treatment_region, year_month, setting, "
        "offsite_status, source, slot, settlements, reversals, total_fen, pool_fen, "
        "supplementary_fen, assistance_fen, fund_fen, account_fen) "
        "SELECT insured_region, treatment_region, year_month, setting, "
        f"COALESCE(offsite_status, ''), source, id % {SLOTS}, "
        "SUM(CASE WHEN kind = 'reversal' THEN 0 ELSE 1 END), "
        "SUM(CASE WHEN kind = 'reversal' THEN 1 ELSE 0 END), "
        "SUM(total_fen), SUM(pool_fund_pay_fen), SUM(supplementary_pay_fen), "
        "SUM(assistance_pay_fen), SUM(fund_pay_total_fen), SUM(account_pay_fen) "
        "FROM settlements GROUP BY insured_region, treatment_region, year_month, setting, "
        f"COALESCE(offsite_status, ''), source, id % {SLOTS}"
    )
    op.execute(
        "INSERT INTO cleared_months (insured_region, treatment_region, year_month, entries, "
        "fund_fen, account_fen) "
        "SELECT s.insured_region, s.treatment_region, s.year_month, COUNT(s.id), "
        "SUM(s.fund_pay_total_fen), SUM(s.account_pay_fen) "
        "FROM settlements s JOIN clearing_items i ON i.settlement_id = s.id "
        "JOIN clearing_statements c ON c.id = i.statement_id WHERE c.state = 'confirmed' "
        "GROUP BY s.insured_region, s.treatment_region, s.year_month"
    )


def downgrade() -> None:
    op.drop_table("cleared_months")
    op.drop_table("fund_rollups")
