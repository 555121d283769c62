"""Reconciliation: matched, or every difference named."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from yibao.reconciliation.compare import Record, Totals, parse_details_csv, reconcile

OURS = [
    Record("S1", D("1000.00"), D("700.00")),
    Record("S2", D("250.50"), D("100.00")),
    Record("S3", D("80.00"), D("0.00")),
]


def test_totals_and_details_that_agree_match() -> None:
    outcome = reconcile(OURS, theirs=Totals(3, D("1330.50"), D("800.00")), details=list(OURS))
    assert outcome.status == "matched"
    assert outcome.ours == Totals(3, D("1330.50"), D("800.00"))


def test_totals_only() -> None:
    outcome = reconcile(OURS, theirs=Totals(3, D("1330.00"), D("800.00")))
    assert outcome.status == "differences"
    [diff] = outcome.differences
    assert diff.as_dict() == {
        "kind": "totals_differ",
        "ref": None,
        "field": "total",
        "ours": "1330.50",
        "theirs": "1330.00",
    }


def test_every_difference_is_listed() -> None:
    theirs = [
        Record("S1", D("1000.00"), D("700.00")),
        Record("S2", D("250.00"), D("100.00")),
        Record("H9", D("45.00"), D("30.00")),
    ]
    outcome = reconcile(OURS, theirs=Totals(3, D("1295.00"), D("830.00")), details=theirs)
    kinds = [(d.kind, d.ref, d.field) for d in outcome.differences]
    assert kinds == [
        ("totals_differ", None, "total"),
        ("totals_differ", None, "fund_pay"),
        ("missing", "S3", "total"),
        ("extra", "H9", "total"),
        ("amount_differs", "S2", "total"),
    ]
    assert outcome.differences[-1].ours == "250.50"
    assert outcome.differences[-1].theirs == "250.00"


def test_details_csv() -> None:
    text = "\ufeffref,total,fund_pay\nS1,1000.00,700\nS2,250.5,100.00\n"
    assert parse_details_csv(text, "h.csv") == [
        Record("S1", D("1000.00"), D("700.00")),
        Record("S2", D("250.50"), D("100.00")),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ref,total\nS1,1\n", "missing columns fund_pay"),
        ("ref,total,fund_pay\nS1,1.005,0\n", "line 2, total"),
        ("ref,total,fund_pay\nS1,1,0\nS1,2,0\n", "line 3: ref 'S1' appears twice"),
        ("ref,total,fund_pay\nS1,abc,0\n", "is not an amount"),
        ("ref,total,fund_pay\nS1,NaN,0\n", "is not an amount"),
    ],
)
def test_details_csv_mistakes(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_details_csv(text, "h.csv")
