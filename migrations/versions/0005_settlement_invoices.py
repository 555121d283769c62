"""Direct settlements carry the invoice number (发票号) the hospital printed on the receipt.

Revision ID: 0005_settlement_invoices
Revises: 0004_reimbursements
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_settlement_invoices"
down_revision: str | None = "0004_reimbursements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("settlements") as batch:
        batch.add_column(sa.Column("invoice_no", sa.String(60), nullable=True))
        batch.create_index("ix_settlements_invoice_no", ["invoice_no"])


def downgrade() -> None:
    with op.batch_alter_table("settlements") as batch:
        batch.drop_index("ix_settlements_invoice_no")
        batch.drop_column("invoice_no")
