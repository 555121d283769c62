"""The applicant's contact details on a filing: the phone and the address at the treatment
place, as given in the application (备案申请表). Until now they lived only in the stored
application form.

Revision ID: 0013_filing_contact
Revises: 0012_advance_funds
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_filing_contact"
down_revision: str | None = "0012_advance_funds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("filings", sa.Column("contact_phone", sa.String(20), nullable=True))
    op.add_column("filings", sa.Column("contact_address", sa.String(200), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN on both databases (SQLite 3.35+): the table is not rebuilt, so the
    # tables that refer to filings keep their rows
    op.drop_column("filings", "contact_address")
    op.drop_column("filings", "contact_phone")
