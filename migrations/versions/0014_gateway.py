"""The national interface's gateway (国家医保信息平台 定点医药机构接口, ``yibao.nhsa``).

- ``nhsa_credentials``: an institution's pass id (``x-tif-paasid``), its secret encrypted at
  rest (AES-GCM, with a key derived from the platform's secret key), the system user of
  the institution it acts as, whether it is active, when it was issued;
- ``nhsa_nonces``: the nonces (``x-tif-nonce``) already used under a pass id, so a request
  cannot be replayed while its timestamp is fresh;
- ``fee_lines.hospital_code``: the hospital's own code of an item (``medins_list_codg``),
  kept beside the catalog code for reconciliation;
- ``encounters.discharged_on``: the discharge day a HIS records (2402) before settling.

Revision ID: 0014_gateway
Revises: 0013_filing_contact
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_gateway"
down_revision: str | None = "0013_filing_contact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nhsa_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.String(64), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(400), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_nhsa_credentials_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_nhsa_credentials_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nhsa_credentials")),
        sa.UniqueConstraint("pass_id", name=op.f("uq_nhsa_credentials_pass_id")),
    )
    op.create_index(
        "ix_nhsa_credentials_institution_id", "nhsa_credentials", ["institution_id"], unique=False
    )
    op.create_table(
        "nhsa_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nhsa_nonces")),
        sa.UniqueConstraint("pass_id", "nonce", name="uq_nhsa_nonces_pass_id_nonce"),
    )
    op.create_index("ix_nhsa_nonces_used_at", "nhsa_nonces", ["used_at"], unique=False)
    op.add_column("fee_lines", sa.Column("hospital_code", sa.String(60), nullable=True))
    op.add_column("encounters", sa.Column("discharged_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("encounters") as batch:
        batch.drop_column("discharged_on")
    with op.batch_alter_table("fee_lines") as batch:
        batch.drop_column("hospital_code")
    op.drop_index("ix_nhsa_nonces_used_at", table_name="nhsa_nonces")
    op.drop_table("nhsa_nonces")
    op.drop_index("ix_nhsa_credentials_institution_id", table_name="nhsa_credentials")
    op.drop_table("nhsa_credentials")
