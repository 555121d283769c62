"""Direct settlement: encounters, fee lines, settlements and their lines, accumulators,
idempotency keys, pharmacy sales and third-party recovery cases.

Money columns are whole fen; quantities and unit prices are integers of 1/10,000.

Revision ID: 0003_settlements
Revises: 0002_filings
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_settlements"
down_revision: str | None = "0002_filings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "recovery_cases",
    "pharmacy_sales",
    "idempotency_keys",
    "accumulators",
    "settlement_lines",
    "settlements",
    "fee_lines",
    "encounters",
)


def upgrade() -> None:
    op.create_table(
        "encounters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("setting", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("hospital_ref", sa.String(length=60), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("liability", sa.String(length=30), nullable=True),
        sa.Column("diagnosis", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "setting IN ('inpatient', 'outpatient')", name=op.f("ck_encounters_setting")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'settled', 'cancelled')", name=op.f("ck_encounters_state")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_encounters_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_encounters_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_encounters_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
        sa.UniqueConstraint("institution_id", "hospital_ref", name="uq_encounters_hospital_ref"),
    )
    op.create_index(
        op.f("ix_encounters_institution_id"), "encounters", ["institution_id"], unique=False
    )
    op.create_index(op.f("ix_encounters_person_id"), "encounters", ["person_id"], unique=False)
    op.create_table(
        "fee_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=60), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("quantity_e4", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_e4", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("state IN ('active', 'withdrawn')", name=op.f("ck_fee_lines_state")),
        sa.CheckConstraint(
            "quantity_e4 >= 0 AND unit_price_e4 >= 0", name=op.f("ck_fee_lines_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_fee_lines_encounter_id_encounters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_lines")),
        sa.UniqueConstraint("encounter_id", "line_id", name="uq_fee_lines_line_id"),
    )
    op.create_index(op.f("ix_fee_lines_encounter_id"), "fee_lines", ["encounter_id"], unique=False)
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("encounter_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_person_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("msg_id", sa.String(length=60), nullable=True),
        sa.Column("claim_id", sa.String(length=80), nullable=False),
        sa.Column("claim_date", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("year_month", sa.String(length=7), nullable=False),
        sa.Column("setting", sa.String(length=12), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("treatment_region", sa.String(length=6), nullable=False),
        sa.Column("offsite_status", sa.String(length=12), nullable=True),
        sa.Column("policy_id", sa.String(length=100), nullable=True),
        sa.Column("liability", sa.String(length=30), nullable=True),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("full_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("over_limit_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("pre_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("in_scope_fen", sa.BigInteger(), nullable=False),
        sa.Column("deductible_fen", sa.BigInteger(), nullable=False),
        sa.Column("pool_fund_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("supplementary_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("assistance_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_pay_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("personal_burden_fen", sa.BigInteger(), nullable=False),
        sa.Column("account_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("recoverable_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("cash_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("acc_delta", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('settlement', 'reversal')", name=op.f("ck_settlements_kind")),
        sa.CheckConstraint(
            "source IN ('direct', 'pharmacy', 'reimbursement')", name=op.f("ck_settlements_source")
        ),
        sa.CheckConstraint(
            "state IN ('settled', 'reversed', 'reversal')", name=op.f("ck_settlements_state")
        ),
        sa.ForeignKeyConstraint(
            ["account_person_id"],
            ["persons.id"],
            name=op.f("fk_settlements_account_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_settlements_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_settlements_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_settlements_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_settlements_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["settlements.id"], name=op.f("fk_settlements_reverses_id_settlements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint("institution_id", "msg_id", name="uq_settlements_msg_id"),
        sa.UniqueConstraint("reverses_id", name="uq_settlements_reverses_id"),
    )
    op.create_index(
        op.f("ix_settlements_encounter_id"), "settlements", ["encounter_id"], unique=False
    )
    op.create_index(
        op.f("ix_settlements_institution_id"), "settlements", ["institution_id"], unique=False
    )
    op.create_index(
        "ix_settlements_clearing",
        "settlements",
        ["year_month", "insured_region", "treatment_region"],
        unique=False,
    )
    op.create_index(
        "ix_settlements_person_year", "settlements", ["person_id", "year"], unique=False
    )
    op.create_table(
        "settlement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.String(length=60), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_class", sa.String(length=1), nullable=False),
        sa.Column("quantity_e4", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_e4", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("full_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("over_limit_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("pre_self_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("in_scope_fen", sa.BigInteger(), nullable=False),
        sa.Column("not_eligible_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_lines_settlement_id_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
        sa.UniqueConstraint("settlement_id", "line_no", name="uq_settlement_lines_no"),
    )
    op.create_index(
        op.f("ix_settlement_lines_settlement_id"),
        "settlement_lines",
        ["settlement_id"],
        unique=False,
    )
    # ### end Alembic commands ###
    op.create_table(
        "accumulators",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("inpatient_in_scope_cum_fen", sa.BigInteger(), nullable=False),
        sa.Column("inpatient_deductible_met_fen", sa.BigInteger(), nullable=False),
        sa.Column("inpatient_pool_paid_cum_fen", sa.BigInteger(), nullable=False),
        sa.Column("inpatient_admissions", sa.Integer(), nullable=False),
        sa.Column("outpatient_in_scope_cum_fen", sa.BigInteger(), nullable=False),
        sa.Column("outpatient_deductible_met_fen", sa.BigInteger(), nullable=False),
        sa.Column("outpatient_pool_paid_cum_fen", sa.BigInteger(), nullable=False),
        sa.Column("outpatient_admissions", sa.Integer(), nullable=False),
        sa.Column("assistance_paid_cum_fen", sa.BigInteger(), nullable=False),
        sa.Column("supplementary", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_accumulators_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", "year", name=op.f("pk_accumulators")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    )
    op.create_table(
        "pharmacy_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("holder_person_id", sa.Integer(), nullable=False),
        sa.Column("patient_person_id", sa.Integer(), nullable=False),
        sa.Column("account_person_id", sa.Integer(), nullable=True),
        sa.Column("buyer_identity_masked", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("refused", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('settled', 'reversed')", name=op.f("ck_pharmacy_sales_state")
        ),
        sa.ForeignKeyConstraint(
            ["account_person_id"],
            ["persons.id"],
            name=op.f("fk_pharmacy_sales_account_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["holder_person_id"],
            ["persons.id"],
            name=op.f("fk_pharmacy_sales_holder_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_pharmacy_sales_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_person_id"],
            ["persons.id"],
            name=op.f("fk_pharmacy_sales_patient_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_pharmacy_sales_settlement_id_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pharmacy_sales")),
        sa.UniqueConstraint("settlement_id", name=op.f("uq_pharmacy_sales_settlement_id")),
    )
    op.create_index(
        op.f("ix_pharmacy_sales_holder_person_id"),
        "pharmacy_sales",
        ["holder_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pharmacy_sales_institution_id"), "pharmacy_sales", ["institution_id"], unique=False
    )
    op.create_index(
        op.f("ix_pharmacy_sales_patient_person_id"),
        "pharmacy_sales",
        ["patient_person_id"],
        unique=False,
    )
    op.create_table(
        "recovery_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("treatment_region", sa.String(length=6), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'closed', 'cancelled')", name=op.f("ck_recovery_cases_state")
        ),
        sa.CheckConstraint(
            "recovered_fen >= 0", name=op.f("ck_recovery_cases_recovered_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["users.id"], name=op.f("fk_recovery_cases_closed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_recovery_cases_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_recovery_cases_settlement_id_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_cases")),
        sa.UniqueConstraint("settlement_id", name=op.f("uq_recovery_cases_settlement_id")),
    )
    op.create_index(
        op.f("ix_recovery_cases_insured_region"), "recovery_cases", ["insured_region"], unique=False
    )
    op.create_index(
        op.f("ix_recovery_cases_person_id"), "recovery_cases", ["person_id"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
