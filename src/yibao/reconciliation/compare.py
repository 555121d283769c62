"""Reconciliation (对账): a hospital's totals and details against Yibao's records.

Pure: standard library only. The hospital states, for a period, how many settlements it
made and their sums, and optionally lists them one by one. The answer is ``matched`` or
every difference: a record Yibao has that the hospital's list lacks (``missing``), one the
hospital lists that Yibao does not have (``extra``), one on both sides whose amounts differ
(``amount_differs``), and totals that differ (``totals_differ``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from yibao.money import FEN, parse_decimal

_ZERO = Decimal("0.00")
DETAIL_COLUMNS = ("ref", "total", "fund_pay")

DifferenceKind = Literal["missing", "extra", "amount_differs", "totals_differ"]


@dataclass(frozen=True, slots=True)
class Record:
    """One settlement (or reversal, negative amounts) as either side knows it."""

    ref: str
    total: Decimal
    fund_pay: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    total: Decimal
    fund_pay: Decimal


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    ref: str | None
    field: str | None = None
    ours: str | None = None
    theirs: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "field": self.field,
            "ours": self.ours,
            "theirs": self.theirs,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    ours: Totals
    theirs: Totals
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def status(self) -> Literal["matched", "differences"]:
        return "differences" if self.differences else "matched"


def totals_of(records: Sequence[Record]) -> Totals:
    return Totals(
        count=len(records),
        total=sum((r.total for r in records), _ZERO),
        fund_pay=sum((r.fund_pay for r in records), _ZERO),
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def reconcile(
    ours: Sequence[Record], *, theirs: Totals, details: Sequence[Record] | None = None
) -> Outcome:
    """Compare totals, then (when given) every detail by ``ref``, in a stable order."""
    our_totals = totals_of(ours)
    differences: list[Difference] = []
    for name in ("count", "total", "fund_pay"):
        mine, other = getattr(our_totals, name), getattr(theirs, name)
        if mine != other:
            show = str if name == "count" else _money
            differences.append(Difference("totals_differ", None, name, show(mine), show(other)))
    if details is not None:
        by_ref = {r.ref: r for r in ours}
        their_refs = {r.ref: r for r in details}
        for ref in sorted(by_ref.keys() - their_refs.keys()):
            record = by_ref[ref]
            differences.append(Difference("missing", ref, "total", _money(record.total), None))
        for ref in sorted(their_refs.keys() - by_ref.keys()):
            record = their_refs[ref]
            differences.append(Difference("extra", ref, "total", None, _money(record.total)))
        for ref in sorted(by_ref.keys() & their_refs.keys()):
            mine, other = by_ref[ref], their_refs[ref]
            for name in ("total", "fund_pay"):
                a, b = getattr(mine, name), getattr(other, name)
                if a != b:
                    differences.append(
                        Difference("amount_differs", ref, name, _money(a), _money(b))
                    )
    return Outcome(our_totals, theirs, tuple(differences))


def parse_details_csv(text: str, source: str) -> list[Record]:
    """The hospital's details (``ref,total,fund_pay``; yuan as text).

    Raises ``ValueError`` with the place and the reason; the service turns it into
    ``InvalidInput``.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in DETAIL_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{source}: header: missing columns {', '.join(missing)}")
    records: list[Record] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        ref = (row.get("ref") or "").strip()
        if not ref:
            raise ValueError(f"{source}: line {number}: ref is empty")
        if ref in seen:
            raise ValueError(f"{source}: line {number}: ref {ref!r} appears twice")
        seen.add(ref)
        amounts: list[Decimal] = []
        for column in ("total", "fund_pay"):
            text_value = (row.get(column) or "").strip()
            try:
                value = parse_decimal(text_value, max_places=2)
            except ValueError:
                raise ValueError(
                    f"{source}: line {number}, {column}: {text_value!r} is not an amount"
                ) from None
            amounts.append(value.quantize(FEN))
        records.append(Record(ref, amounts[0], amounts[1]))
    return records


# --- entries known by the settlement's own id, with the account payment ----------------
# The national interface's detail reconciliation (3202) lists each settlement by the id
# Yibao answered, with its encounter, its person, the account payment and whether it is a
# reversal; its totals (3201) include the account payment.

ENTRY_FIELDS = ("encounter", "person", "total", "fund_pay", "account_pay", "reversal")


@dataclass(frozen=True, slots=True)
class Entry:
    """One settlement (or reversal, negative amounts) known by its settlement id."""

    ref: str
    encounter: str
    person: str
    total: Decimal
    fund_pay: Decimal
    account_pay: Decimal
    reversal: bool


def entry_totals(entries: Sequence[Entry]) -> tuple[Totals, Decimal]:
    """(count, total, fund pay) and the account payments, summed."""
    records = [Record(e.ref, e.total, e.fund_pay) for e in entries]
    return totals_of(records), sum((e.account_pay for e in entries), _ZERO)


def reconcile_entries(
    ours: Sequence[Entry],
    *,
    theirs: Totals,
    account_pay: Decimal | None = None,
    details: Sequence[Entry] | None = None,
) -> Outcome:
    """Compare totals (and the account payments when stated), then every detail by its
    settlement id, field by field, in a stable order."""
    outcome = reconcile([Record(e.ref, e.total, e.fund_pay) for e in ours], theirs=theirs)
    differences = list(outcome.differences)
    _, our_account = entry_totals(ours)
    if account_pay is not None and our_account != account_pay:
        differences.append(
            Difference(
                "totals_differ", None, "account_pay", _money(our_account), _money(account_pay)
            )
        )
    if details is not None:
        by_ref = {e.ref: e for e in ours}
        theirs_by_ref = {e.ref: e for e in details}
        for ref in sorted(by_ref.keys() - theirs_by_ref.keys(), key=_ref_order):
            differences.append(Difference("missing", ref, "total", _money(by_ref[ref].total)))
        for ref in sorted(theirs_by_ref.keys() - by_ref.keys(), key=_ref_order):
            differences.append(
                Difference("extra", ref, "total", None, _money(theirs_by_ref[ref].total))
            )
        for ref in sorted(by_ref.keys() & theirs_by_ref.keys(), key=_ref_order):
            mine, other = by_ref[ref], theirs_by_ref[ref]
            for name in ENTRY_FIELDS:
                a, b = getattr(mine, name), getattr(other, name)
                if a != b:
                    show = _money if isinstance(a, Decimal) else str
                    differences.append(Difference("amount_differs", ref, name, show(a), show(b)))
    return Outcome(outcome.ours, theirs, tuple(differences))


def _ref_order(ref: str) -> tuple[int, str]:
    return (int(ref), "") if ref.isdigit() else (1 << 62, ref)
