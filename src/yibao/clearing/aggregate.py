"""Clearing aggregation (清算汇总): direct settlements and reversals → statements per pair.

Pure: standard library only. For one month, every off-site direct settlement and reversal
lands in exactly one statement of its (insured region → treatment region) pair: the one
of its own month, or, when that month's statement for the pair was already confirmed
(frozen), the first later month whose statement is still open. Summing every statement
therefore gives exactly the sum of the settlements less their reversals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

_ZERO = Decimal("0.00")

EntryKind = Literal["settlement", "reversal"]
Pair = tuple[str, str]


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(month: str) -> str:
    year, mon = (int(part) for part in month.split("-"))
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def parse_month(text: str) -> str:
    """``YYYY-MM`` checked, or ``ValueError``."""
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, mon = int(parts[0]), int(parts[1])
    if not 1 <= mon <= 12:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    return f"{year:04d}-{mon:02d}"


@dataclass(frozen=True, slots=True)
class ClearingEntry:
    """A direct settlement or a reversal, with signed amounts (a reversal's are negative)."""

    kind: EntryKind
    ref: str
    insured_region: str
    treatment_region: str
    day: date
    total: Decimal
    pool: Decimal
    supplementary: Decimal
    assistance: Decimal
    account: Decimal
    cash: Decimal
    institution_id: str | None = None
    # The clearing period when the record carries one (the month it was stored in).
    period: str | None = None

    @property
    def pair(self) -> Pair:
        return (self.insured_region, self.treatment_region)

    @property
    def month(self) -> str:
        return self.period or month_of(self.day)


@dataclass(slots=True)
class Statement:
    """One pair's statement for a month: counts and sums per fund.

    ``amount_due`` is what the insured region repays the treatment region: the funds'
    share and the personal account's (the treatment region advanced both to its hospitals).
    """

    month: str
    insured_region: str
    treatment_region: str
    settlements: int = 0
    reversals: int = 0
    late_entries: int = 0
    total: Decimal = _ZERO
    pool: Decimal = _ZERO
    supplementary: Decimal = _ZERO
    assistance: Decimal = _ZERO
    account: Decimal = _ZERO
    cash: Decimal = _ZERO
    refs: list[str] = field(default_factory=list)

    @property
    def pair(self) -> Pair:
        return (self.insured_region, self.treatment_region)

    @property
    def fund_total(self) -> Decimal:
        return self.pool + self.supplementary + self.assistance

    @property
    def amount_due(self) -> Decimal:
        return self.fund_total + self.account

    def add(self, entry: ClearingEntry) -> None:
        if entry.kind == "settlement":
            self.settlements += 1
        else:
            self.reversals += 1
        if entry.month != self.month:
            self.late_entries += 1
        self.total += entry.total
        self.pool += entry.pool
        self.supplementary += entry.supplementary
        self.assistance += entry.assistance
        self.account += entry.account
        self.cash += entry.cash
        self.refs.append(entry.ref)


def target_month(entry: ClearingEntry, confirmed: AbstractSet[tuple[str, str, str]]) -> str:
    """The first month from the entry's own whose statement for its pair is not frozen."""
    month = entry.month
    while (entry.insured_region, entry.treatment_region, month) in confirmed:
        month = next_month(month)
    return month


def build_statements(
    month: str,
    entries: Iterable[ClearingEntry],
    *,
    cleared: AbstractSet[str] = frozenset(),
    confirmed: AbstractSet[tuple[str, str, str]] = frozenset(),
) -> list[Statement]:
    """The month's statements, one per pair with anything to clear, sorted by pair.

    ``cleared`` holds the refs already in a confirmed statement (they never move);
    ``confirmed`` the frozen ``(insured, treatment, month)`` statements. Local entries
    (same insured and treatment region) are not cleared between regions and are skipped.
    """
    statements: dict[Pair, Statement] = {}
    for entry in entries:
        if entry.insured_region == entry.treatment_region or entry.ref in cleared:
            continue
        if entry.month > month or target_month(entry, confirmed) != month:
            continue
        statement = statements.get(entry.pair)
        if statement is None:
            statement = statements[entry.pair] = Statement(month, *entry.pair)
        statement.add(entry)
    return [statements[pair] for pair in sorted(statements)]


def sum_statements(statements: Sequence[Statement]) -> dict[str, Decimal]:
    """Totals over statements, per fund: for checking them against the settlements."""
    return {
        "total": sum((s.total for s in statements), _ZERO),
        "pool": sum((s.pool for s in statements), _ZERO),
        "supplementary": sum((s.supplementary for s in statements), _ZERO),
        "assistance": sum((s.assistance for s in statements), _ZERO),
        "account": sum((s.account for s in statements), _ZERO),
        "cash": sum((s.cash for s in statements), _ZERO),
    }
