"""CHECK constraints: non-negative money, state values, per-row money identities.

What the services already keep true, now kept by the database as well, so no code path,
script or hand-made fix can store a row that breaks it:

- a settlement's money has one sign: every amount >= 0 for a settlement, <= 0 for its
  reversal (a reversal is the original with every amount negated); its kind, state and
  ``reverses_id`` agree; its figures add up (the contract's identities: total = full
  self-pay + over-limit + pre self-pay + in scope = fund pay total + personal burden;
  personal burden = account pay + cash pay; fund pay total = pool + supplementary +
  assistance); what may be recovered is nothing or the whole fund share; money taken from a
  personal account names that account; the deposit squares with what is refunded;
- a settlement line's amount is the sum of its four parts, all of one sign;
- balances, accumulators, deposits, declared and paid amounts, quantities, prices and
  price ceilings are never negative.

Every existing row is checked first; when one breaks a constraint the migration stops
naming the constraint and up to five row keys, and changes nothing. On SQLite, which cannot
add a constraint to a table, the stored table definition is extended (the procedure SQLite
documents and migration 0008 uses: rebuilding these tables would break the foreign keys
pointing at them).

Revision ID: 0019_check_constraints
Revises: 0018_audit_chain
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_check_constraints"
down_revision: str | None = "0018_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = (
    "total_fen",
    "full_self_pay_fen",
    "over_limit_self_pay_fen",
    "pre_self_pay_fen",
    "in_scope_fen",
    "deductible_fen",
    "pool_fund_pay_fen",
    "supplementary_pay_fen",
    "assistance_pay_fen",
    "fund_pay_total_fen",
    "personal_burden_fen",
    "account_pay_fen",
    "cash_pay_fen",
    "recoverable_fen",
)
_LINE_MONEY = (
    "amount_fen",
    "full_self_pay_fen",
    "over_limit_self_pay_fen",
    "pre_self_pay_fen",
    "in_scope_fen",
)
_ACCUMULATED = (
    "inpatient_in_scope_cum_fen",
    "inpatient_deductible_met_fen",
    "inpatient_pool_paid_cum_fen",
    "inpatient_admissions",
    "outpatient_in_scope_cum_fen",
    "outpatient_deductible_met_fen",
    "outpatient_pool_paid_cum_fen",
    "outpatient_admissions",
    "assistance_paid_cum_fen",
)


def _all(columns: Sequence[str], op_: str) -> str:
    return " AND ".join(f"{c} {op_} 0" for c in columns)


# (table, constraint name, condition, key columns named when a row breaks it)
CONSTRAINTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "settlements",
        "ck_settlements_kind_state",
        "(kind = 'settlement' AND state IN ('settled', 'reversed') AND reverses_id IS NULL)"
        " OR (kind = 'reversal' AND state = 'reversal' AND reverses_id IS NOT NULL)",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_sign",
        f"(kind = 'settlement' AND {_all(_MONEY, '>=')})"
        f" OR (kind = 'reversal' AND {_all(_MONEY, '<=')})",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_total_parts",
        "total_fen = full_self_pay_fen + over_limit_self_pay_fen + pre_self_pay_fen + in_scope_fen",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_total_split",
        "total_fen = fund_pay_total_fen + personal_burden_fen",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_personal_burden",
        "personal_burden_fen = account_pay_fen + cash_pay_fen",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_fund_pay_total",
        "fund_pay_total_fen = pool_fund_pay_fen + supplementary_pay_fen + assistance_pay_fen",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_recoverable",
        "recoverable_fen = 0 OR recoverable_fen = fund_pay_total_fen",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_account_named",
        "account_pay_fen = 0 OR account_person_id IS NOT NULL",
        "id",
    ),
    (
        "settlements",
        "ck_settlements_deposit",
        "deposit_fen >= 0 AND deposit_refund_fen >= 0 AND cash_due_fen >= 0"
        " AND deposit_refund_fen <= deposit_fen",
        "id",
    ),
    (
        "settlement_lines",
        "ck_settlement_lines_parts",
        "amount_fen = full_self_pay_fen + over_limit_self_pay_fen + pre_self_pay_fen"
        " + in_scope_fen",
        "id",
    ),
    (
        "settlement_lines",
        "ck_settlement_lines_sign",
        f"({_all(_LINE_MONEY, '>=')}) OR ({_all(_LINE_MONEY, '<=')})",
        "id",
    ),
    (
        "settlement_lines",
        "ck_settlement_lines_quantity",
        "quantity_e4 >= 0 AND unit_price_e4 >= 0",
        "id",
    ),
    ("accounts", "ck_accounts_balance", "balance_fen >= 0", "person_id"),
    (
        "account_movements",
        "ck_account_movements_balance_after",
        "balance_after_fen >= 0",
        "id",
    ),
    (
        "accumulators",
        "ck_accumulators_non_negative",
        _all(_ACCUMULATED, ">="),
        "person_id, year",
    ),
    ("encounters", "ck_encounters_deposit", "deposit_fen >= 0", "id"),
    ("recovery_cases", "ck_recovery_cases_amount", "amount_fen >= 0", "id"),
    (
        "reimbursement_claims",
        "ck_reimbursement_claims_amounts",
        "declared_total_fen >= 0 AND (payout_fen IS NULL OR payout_fen >= 0)",
        "id",
    ),
    ("reimbursement_invoices", "ck_reimbursement_invoices_amount", "amount_fen >= 0", "id"),
    (
        "reimbursement_lines",
        "ck_reimbursement_lines_quantity",
        "quantity_e4 >= 0 AND unit_price_e4 >= 0",
        "id",
    ),
    (
        "catalog_items",
        "ck_catalog_items_price_ceiling",
        "price_ceiling_fen IS NULL OR price_ceiling_fen >= 0",
        "id",
    ),
    (
        "clearing_statements",
        "ck_clearing_statements_counts",
        "settlements >= 0 AND reversals >= 0 AND late_entries >= 0",
        "id",
    ),
)


def _refuse_breaking_rows(bind: sa.Connection) -> None:
    for table, name, condition, key in CONSTRAINTS:
        rows = bind.execute(
            sa.text(f"SELECT {key} FROM {table} WHERE NOT ({condition}) LIMIT 5")
        ).all()
        if rows:
            keys = ", ".join("/".join(str(v) for v in row) for row in rows)
            raise RuntimeError(
                f"{table}: rows break {name} ({condition}): {key} {keys}; "
                "correct them, then run the migration again (nothing was changed)"
            )


def _sqlite_definition(bind: sa.Connection, table: str) -> str:
    return str(
        bind.exec_driver_sql(
            f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        ).scalar_one()
    )


def _sqlite_rewrite(bind: sa.Connection, changed: dict[str, str]) -> None:
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    for table, sql in changed.items():
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
            {"sql": sql, "t": table},
        )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _clause(name: str, condition: str) -> str:
    return f", CONSTRAINT {name} CHECK ({condition})"


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_breaking_rows(bind)
    if bind.dialect.name != "sqlite":
        for table, name, condition, _key in CONSTRAINTS:
            op.create_check_constraint(op.f(name), table, condition)
        return
    changed: dict[str, str] = {}
    for table, name, condition, _key in CONSTRAINTS:
        sql = changed.get(table) or _sqlite_definition(bind, table)
        body = sql.rstrip()
        if not body.endswith(")") or f"CONSTRAINT {name} " in body:
            raise RuntimeError(f"{table}: definition not as expected (nothing changed)")
        changed[table] = body[:-1].rstrip() + _clause(name, condition) + "\n)"
    _sqlite_rewrite(bind, changed)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for table, name, _condition, _key in reversed(CONSTRAINTS):
            op.drop_constraint(op.f(name), table, type_="check")
        return
    changed: dict[str, str] = {}
    for table, name, condition, _key in CONSTRAINTS:
        sql = changed.get(table) or _sqlite_definition(bind, table)
        clause = _clause(name, condition)
        if clause not in sql:
            raise RuntimeError(f"{table}: {name} not found as written (nothing changed)")
        changed[table] = sql.replace(clause, "")
    _sqlite_rewrite(bind, changed)
