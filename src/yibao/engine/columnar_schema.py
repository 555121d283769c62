"""The Arrow schemas of the columnar layout (see :mod:`yibao.engine.columnar`)."""

from __future__ import annotations

import pyarrow as pa

from .render import LINE_FIELDS, MONEY_FIELDS

CLAIM_SCHEMA = pa.schema(
    [
        pa.field("claim_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("setting", pa.string(), nullable=False),
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("insured_region", pa.string(), nullable=False),
        pa.field("scheme", pa.string(), nullable=False),
        pa.field("person_type", pa.string(), nullable=False),
        pa.field("assistance_eligible", pa.bool_(), nullable=False),
        pa.field("account_balance_fen", pa.int64(), nullable=False),
        pa.field("year_to_date", pa.string()),
        pa.field("institution_id", pa.string(), nullable=False),
        pa.field("institution_region", pa.string(), nullable=False),
        pa.field("institution_level", pa.int8(), nullable=False),
        pa.field("filing_type", pa.string()),
        pa.field("filing_destination", pa.string()),
        pa.field("filing_valid_from", pa.date32()),
        pa.field("filing_valid_to", pa.date32()),
        pa.field("emergency", pa.bool_(), nullable=False),
        pa.field("liability", pa.string()),
    ]
)

LINE_SCHEMA = pa.schema(
    [
        pa.field("claim_row", pa.int64(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        pa.field("quantity_e4", pa.int64(), nullable=False),
        pa.field("unit_price_e4", pa.int64(), nullable=False),
        pa.field("line_id", pa.string()),
    ]
)

# The person's year after the claim: per setting (ip = inpatient, op = outpatient).
SETTING_ACC_FIELDS = ("in_scope_cum", "deductible_met", "pool_paid_cum")
ACC_COLUMNS = [f"acc_{s}_{name}_fen" for s in ("ip", "op") for name in SETTING_ACC_FIELDS] + [
    "acc_ip_admissions",
    "acc_op_admissions",
    "acc_assistance_paid_cum_fen",
]

RESULT_SCHEMA = pa.schema(
    [
        pa.field("claim_id", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("offsite_status", pa.string()),
        pa.field("policy_id", pa.string()),
        *(pa.field(f"{name}_fen", pa.int64(), nullable=False) for name in MONEY_FIELDS),
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("date", pa.date32(), nullable=False),
        pa.field("setting", pa.string(), nullable=False),
        pa.field("insured_region", pa.string(), nullable=False),
        pa.field("scheme", pa.string(), nullable=False),
        pa.field("person_type", pa.string(), nullable=False),
        pa.field("institution_region", pa.string(), nullable=False),
        pa.field("acc_year", pa.int32(), nullable=False),
        *(
            pa.field(f"acc_{s}_{name}_fen", pa.int64(), nullable=False)
            for s in ("ip", "op")
            for name in SETTING_ACC_FIELDS
        ),
        pa.field("acc_ip_admissions", pa.int32(), nullable=False),
        pa.field("acc_op_admissions", pa.int32(), nullable=False),
        pa.field("acc_assistance_paid_cum_fen", pa.int64(), nullable=False),
        # JSON {NAME: {"base_cum": "yuan", "paid_cum": "yuan"}}, as in the contract
        pa.field("acc_supplementary", pa.string(), nullable=False),
        # JSON {NAME: "yuan"}: what each supplementary item paid on this claim
        pa.field("supplementary_by_name", pa.string(), nullable=False),
    ]
)

RESULT_LINE_SCHEMA = pa.schema(
    [
        pa.field("claim_row", pa.int64(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        *(pa.field(f"{name}_fen", pa.int64(), nullable=False) for name in LINE_FIELDS),
    ]
)

# Text columns whose values repeat: with ``dictionary_text=True`` the engine gives them as
# dictionaries (int32 indices into their distinct values) instead of plain text.
TEXT = pa.dictionary(pa.int32(), pa.string())
DICTIONARY_RESULT_COLUMNS = (
    "status",
    "reason",
    "offsite_status",
    "policy_id",
    "setting",
    "insured_region",
    "scheme",
    "person_type",
    "institution_region",
)
DICTIONARY_LINE_COLUMNS = ("code",)


def _with_dictionaries(schema: pa.Schema, names: tuple[str, ...]) -> pa.Schema:
    return pa.schema(
        [f.with_type(TEXT) if f.name in names else f for f in schema], metadata=schema.metadata
    )


RESULT_SCHEMA_DICTIONARY = _with_dictionaries(RESULT_SCHEMA, DICTIONARY_RESULT_COLUMNS)
RESULT_LINE_SCHEMA_DICTIONARY = _with_dictionaries(RESULT_LINE_SCHEMA, DICTIONARY_LINE_COLUMNS)
