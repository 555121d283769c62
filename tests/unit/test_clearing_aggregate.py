"""Clearing aggregation: per pair and fund, frozen statements, late reversals, exact sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from yibao.clearing.aggregate import (
    ClearingEntry,
    build_statements,
    next_month,
    parse_month,
    sum_statements,
)


def entry(
    ref: str,
    day: date,
    *,
    pair: tuple[str, str] = ("110000", "460200"),
    total: str = "1000.00",
    pool: str = "600.00",
    supp: str = "100.00",
    assist: str = "0.00",
    account: str = "200.00",
    cash: str = "100.00",
    reversal: bool = False,
) -> ClearingEntry:
    sign = -1 if reversal else 1
    return ClearingEntry(
        "reversal" if reversal else "settlement",
        ref,
        pair[0],
        pair[1],
        day,
        sign * D(total),
        sign * D(pool),
        sign * D(supp),
        sign * D(assist),
        sign * D(account),
        sign * D(cash),
    )


def test_months() -> None:
    assert next_month("2026-12") == "2027-01"
    assert next_month("2026-05") == "2026-06"
    assert parse_month("2026-05") == "2026-05"


def test_one_statement_per_pair_with_counts_and_funds() -> None:
    entries = [
        entry("s1", date(2026, 5, 3)),
        entry(
            "s2",
            date(2026, 5, 9),
            total="500.00",
            pool="300.00",
            supp="0.00",
            account="50.00",
            cash="150.00",
        ),
        entry("s3", date(2026, 5, 9), pair=("130600", "110000"), assist="20.00", cash="80.00"),
        entry("local", date(2026, 5, 9), pair=("110000", "110000")),
        entry("june", date(2026, 6, 1)),
    ]
    bj_sy, bd_bj = build_statements("2026-05", entries)
    assert (bd_bj.insured_region, bd_bj.treatment_region) == ("130600", "110000")
    assert bj_sy.pair == ("110000", "460200")
    assert (bj_sy.settlements, bj_sy.reversals) == (2, 0)
    assert bj_sy.total == D("1500.00")
    assert bj_sy.pool == D("900.00")
    assert bj_sy.supplementary == D("100.00")
    assert bj_sy.account == D("250.00")
    assert bj_sy.cash == D("250.00")
    assert bj_sy.fund_total == D("1000.00")
    assert bj_sy.amount_due == D("1250.00")
    assert bd_bj.assistance == D("20.00")
    assert bj_sy.refs == ["s1", "s2"]


def test_reversal_in_the_same_month_nets_out() -> None:
    entries = [entry("s1", date(2026, 5, 3)), entry("r1", date(2026, 5, 20), reversal=True)]
    [statement] = build_statements("2026-05", entries)
    assert (statement.settlements, statement.reversals) == (1, 1)
    assert statement.pool == D("0.00")
    assert statement.amount_due == D("0.00")


def test_late_reversal_after_confirmation_falls_into_the_next_month() -> None:
    may = [entry("s1", date(2026, 5, 3))]
    [confirmed] = build_statements("2026-05", may)
    frozen = {("110000", "460200", "2026-05")}
    late = entry("r1", date(2026, 5, 28), reversal=True)
    assert build_statements("2026-05", [*may, late], cleared={"s1"}, confirmed=frozen) == []
    [june] = build_statements("2026-06", [*may, late], cleared={"s1"}, confirmed=frozen)
    assert june.reversals == 1
    assert june.late_entries == 1
    assert june.pool == D("-600.00")
    # frozen May plus June equal the settlement less its reversal: nothing left
    assert confirmed.pool + june.pool == D("0.00")


def test_unconfirmed_month_keeps_its_own_entries() -> None:
    may = [entry("s1", date(2026, 5, 3))]
    assert build_statements("2026-06", may) == []
    # another pair's frozen month does not move this pair's entries
    other = {("130600", "110000", "2026-05")}
    assert build_statements("2026-06", may, confirmed=other) == []


amounts = st.integers(min_value=0, max_value=10_000_000).map(lambda fen: D(fen) / 100)
pairs = st.sampled_from([("110000", "460200"), ("130600", "110000"), ("110000", "130600")])
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 4, 30))


@given(
    st.lists(
        st.tuples(pairs, days, amounts, amounts, amounts, amounts, st.booleans()), max_size=40
    ),
    st.sets(st.tuples(pairs, st.sampled_from(["2026-01", "2026-02", "2026-03"]))),
)
def test_statements_of_all_months_add_up_to_the_entries(
    rows: list[tuple[tuple[str, str], date, D, D, D, D, bool]],
    frozen_raw: set[tuple[tuple[str, str], str]],
) -> None:
    entries = [
        entry(
            f"e{i}",
            day,
            pair=pair,
            total=str(p + s + a + c),
            pool=str(p),
            supp=str(s),
            assist=str(a),
            account=str(c),
            cash="0.00",
            reversal=rev,
        )
        for i, (pair, day, p, s, a, c, rev) in enumerate(rows)
    ]
    confirmed = {(pair[0], pair[1], month) for pair, month in frozen_raw}
    statements = []
    month = "2026-01"
    while month <= "2026-06":
        statements += build_statements(month, entries, confirmed=confirmed)
        month = next_month(month)
    sums = sum_statements(statements)
    assert sums["pool"] == sum((e.pool for e in entries), D("0"))
    assert sums["account"] == sum((e.account for e in entries), D("0"))
    assert sums["total"] == sum((e.total for e in entries), D("0"))
    refs = [r for s in statements for r in s.refs]
    assert sorted(refs) == sorted(e.ref for e in entries)
