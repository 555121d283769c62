"""The database refuses rows that break the money rules (migration 0019), on both databases.

The demo's data is loaded first: every row of it satisfies every constraint (it could not be
stored otherwise). Then, for each constraint, one change that breaks that constraint and no
other is refused, naming it, and leaves the row as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.demo.loader import load_demo
from yibao.settlements.models import SettlementLine, SettlementRecord

MONEY = (
    "total_fen", "full_self_pay_fen", "over_limit_self_pay_fen", "pre_self_pay_fen",
    "in_scope_fen", "deductible_fen", "pool_fund_pay_fen", "supplementary_pay_fen",
    "assistance_pay_fen", "fund_pay_total_fen", "personal_burden_fen", "account_pay_fen",
    "cash_pay_fen", "recoverable_fen",
)  # fmt: skip


@pytest.fixture
def demo(session: Session, tmp_path: Path) -> dict[str, Any]:
    load_demo(session, upload_dir=tmp_path, today=date(2026, 6, 20))
    session.flush()
    paid = session.scalars(
        select(SettlementRecord)
        .where(SettlementRecord.account_pay_fen > 0, SettlementRecord.pool_fund_pay_fen > 0)
        .order_by(SettlementRecord.id)
    ).first()
    assert paid is not None, "the demo has a settlement the account and the pool paid"
    line = session.scalars(
        select(SettlementLine).where(SettlementLine.in_scope_fen > 0).order_by(SettlementLine.id)
    ).first()
    assert line is not None
    return {"settlement": paid, "line": line}


def _refused(session: Session, constraint: str, sql: str, **params: Any) -> None:
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.execute(text(sql), params)
    assert constraint in str(caught.value.orig), str(caught.value.orig)


def _accepted(session: Session, sql: str, **params: Any) -> None:
    with session.begin_nested() as savepoint:
        session.execute(text(sql), params)
        savepoint.rollback()


def test_each_constraint_refuses_a_row_that_breaks_it(
    session: Session, demo: dict[str, Any]
) -> None:
    s = demo["settlement"].id
    line = demo["line"].id
    negated = ", ".join(f"{c} = -{c}" for c in MONEY)
    breaking = [
        ("ck_settlements_kind_state", f"UPDATE settlements SET state = 'reversal' WHERE id = {s}"),
        ("ck_settlements_sign", f"UPDATE settlements SET {negated} WHERE id = {s}"),
        ("ck_settlements_total_parts", f"UPDATE settlements SET in_scope_fen = in_scope_fen + 1 WHERE id = {s}"),
        ("ck_settlements_total_split", f"UPDATE settlements SET personal_burden_fen = personal_burden_fen + 1, cash_pay_fen = cash_pay_fen + 1 WHERE id = {s}"),
        ("ck_settlements_personal_burden", f"UPDATE settlements SET cash_pay_fen = cash_pay_fen + 1 WHERE id = {s}"),
        ("ck_settlements_fund_pay_total", f"UPDATE settlements SET pool_fund_pay_fen = pool_fund_pay_fen + 1 WHERE id = {s}"),
        ("ck_settlements_recoverable", f"UPDATE settlements SET recoverable_fen = 1 WHERE id = {s}"),
        ("ck_settlements_account_named", f"UPDATE settlements SET account_person_id = NULL WHERE id = {s}"),
        ("ck_settlements_deposit", f"UPDATE settlements SET deposit_refund_fen = deposit_fen + 1 WHERE id = {s}"),
        ("ck_settlement_lines_parts", f"UPDATE settlement_lines SET amount_fen = amount_fen + 1 WHERE id = {line}"),
        ("ck_settlement_lines_sign", f"UPDATE settlement_lines SET full_self_pay_fen = -1, in_scope_fen = in_scope_fen + full_self_pay_fen + 1 WHERE id = {line}"),
        ("ck_settlement_lines_quantity", f"UPDATE settlement_lines SET quantity_e4 = -1 WHERE id = {line}"),
        ("ck_accounts_balance", "UPDATE accounts SET balance_fen = -1"),
        ("ck_account_movements_balance_after", "UPDATE account_movements SET balance_after_fen = -1"),
        ("ck_accumulators_non_negative", "UPDATE accumulators SET outpatient_pool_paid_cum_fen = -1"),
        ("ck_encounters_deposit", "UPDATE encounters SET deposit_fen = -1"),
        ("ck_reimbursement_claims_amounts", "UPDATE reimbursement_claims SET declared_total_fen = -1"),
        ("ck_reimbursement_claims_amounts", "UPDATE reimbursement_claims SET payout_fen = -1"),
        ("ck_reimbursement_invoices_amount", "UPDATE reimbursement_invoices SET amount_fen = -1"),
        ("ck_reimbursement_lines_quantity", "UPDATE reimbursement_lines SET unit_price_e4 = -1"),
        ("ck_catalog_items_price_ceiling", "UPDATE catalog_items SET price_ceiling_fen = -1"),
    ]  # fmt: skip
    for constraint, sql in breaking:
        _refused(session, constraint, sql)
    # the rows are as they were
    session.expire_all()
    assert session.get(SettlementRecord, s).state == "settled"  # type: ignore[union-attr]

    # tables the demo leaves empty: a good row goes in, the same row made bad does not
    settlement = demo["settlement"]
    case = (
        "INSERT INTO recovery_cases (settlement_id, person_id, insured_region, treatment_region,"
        " amount_fen, recovered_fen, state, opened_at) VALUES (:s, :p, :i, :t, :amount, 0,"
        " 'open', :at)"
    )
    values = {
        "s": settlement.id, "p": settlement.person_id, "i": settlement.insured_region,
        "t": settlement.treatment_region, "at": datetime(2026, 6, 1, tzinfo=UTC),
    }  # fmt: skip
    _accepted(session, case, amount=10, **values)
    _refused(session, "ck_recovery_cases_amount", case, amount=-10, **values)
    statement = (
        "INSERT INTO clearing_statements (year_month, insured_region, treatment_region, state,"
        " settlements, reversals, late_entries, total_fen, pool_fen, supplementary_fen,"
        " assistance_fen, account_fen, cash_fen, built_at) VALUES ('2026-06', '110000',"
        " '460200', 'draft', :n, 0, 0, 0, 0, 0, 0, 0, 0, :at)"
    )
    _accepted(session, statement, n=3, at=values["at"])
    _refused(session, "ck_clearing_statements_counts", statement, n=-3, at=values["at"])


def test_a_reversal_row_is_the_original_negated(session: Session, demo: dict[str, Any]) -> None:
    """A reversal's amounts are all <= 0; the same amounts on a settlement are refused."""
    s = demo["settlement"]
    columns = [c.name for c in SettlementRecord.__table__.columns if c.name != "id"]
    values = {c: getattr(s, c) for c in columns}
    values.update({c: -values[c] for c in MONEY})
    values.update(kind="reversal", state="reversal", reverses_id=s.id, msg_id=None)
    values.update(deposit_fen=0, deposit_refund_fen=0, cash_due_fen=0)
    insert = (
        f"INSERT INTO settlements ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    _accepted(session, insert, **values)
    values.update(kind="settlement", state="settled", reverses_id=None)
    _refused(session, "ck_settlements_sign", insert, **values)


parts = st.integers(min_value=0, max_value=10**9)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    split=st.tuples(parts, parts, parts, parts),
    funds=st.tuples(parts, parts, parts),
    account=parts,
    nudge=st.sampled_from(MONEY[:13]),
    by=st.integers(min_value=1, max_value=10**6),
)
def test_figures_that_add_up_are_stored_and_a_nudged_one_is_not(
    session: Session,
    split: tuple[int, int, int, int],
    funds: tuple[int, int, int],
    account: int,
    nudge: str,
    by: int,
) -> None:
    """Any settlement whose figures satisfy the contract's identities is accepted; moving
    any one figure (other than the deductible, which no identity holds) is refused."""
    total = sum(split)
    fund = min(sum(funds), total)
    pool = min(funds[0], fund)
    supplementary = min(funds[1], fund - pool)
    assistance = fund - pool - supplementary
    burden = total - fund
    account_pay = min(account, burden)
    figures = dict(
        zip(("full_self_pay_fen", "over_limit_self_pay_fen", "pre_self_pay_fen", "in_scope_fen"), split, strict=True),
        total_fen=total, deductible_fen=0, pool_fund_pay_fen=pool,
        supplementary_pay_fen=supplementary, assistance_pay_fen=assistance,
        fund_pay_total_fen=fund, personal_burden_fen=burden, account_pay_fen=account_pay,
        cash_pay_fen=burden - account_pay, recoverable_fen=0,
    )  # fmt: skip
    with session.begin_nested() as outer:
        person = session.execute(text("SELECT id FROM persons ORDER BY id LIMIT 1")).scalar()
        if person is None:
            session.execute(
                text(
                    "INSERT INTO regions (code, name, province_code) VALUES ('110000', 'x', '110000');"
                )
            )
            session.execute(
                text(
                    "INSERT INTO persons (identity_number, name, sex, birth_date, scheme,"
                    " person_type, insured_region, assistance_eligible)"
                    " VALUES ('110101199001011234', 'x', 'M', '1990-01-01', 'employee',"
                    " 'in_service', '110000', false)"
                )
            )
            person = session.execute(text("SELECT id FROM persons ORDER BY id LIMIT 1")).scalar()
        row = {
            "kind": "settlement", "state": "settled", "source": "direct", "person_id": person,
            "account_person_id": person, "claim_id": "c", "claim_date": date(2026, 1, 1),
            "year": 2026, "year_month": "2026-01", "setting": "outpatient",
            "insured_region": "110000", "treatment_region": "460200", "deposit_fen": 0,
            "deposit_refund_fen": 0, "cash_due_fen": 0, "acc_delta": "{}", "result_json": "{}",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC), **figures,
        }  # fmt: skip
        insert = (
            f"INSERT INTO settlements ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"
        )
        _accepted(session, insert, **row)
        if nudge != "deductible_fen":
            row[nudge] += by
            with pytest.raises(IntegrityError), session.begin_nested():
                session.execute(text(insert), row)
        outer.rollback()
