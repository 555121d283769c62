"""Pharmacy sales (药店购药). Pure: standard library only.

A sale is settled at once (the engine, outpatient setting) or, when the whole basket is
refused, never stored. A settled sale can be reversed (退药) once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from yibao.errors import InvalidTransition

SALE_SETTLED: Final = "settled"
SALE_REVERSED: Final = "reversed"
SALE_STATES: Final = (SALE_SETTLED, SALE_REVERSED)

SALE_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    SALE_SETTLED: {"reverse": SALE_REVERSED},
    SALE_REVERSED: {},
}

# What a pharmacy may sell against the card: catalog drugs of class A or B (甲/乙类).
SELLABLE_KIND: Final = "drug"
SELLABLE_CLASSES: Final = frozenset({"A", "B"})


def sale_next(state: str, action: str) -> str:
    moves = SALE_TRANSITIONS.get(state, {})
    try:
        return moves[action]
    except KeyError:
        raise InvalidTransition("pharmacy sale", state, action, sorted(moves)) from None


def refusal_reason(kind: str | None, item_class: str | None) -> str | None:
    """Why a line cannot be sold against the card, or None when it can.

    ``kind`` and ``item_class`` are the treatment region's catalog entry; None = unknown.
    """
    if kind is None:
        return "not in the catalog of the pharmacy's region"
    if kind != SELLABLE_KIND:
        return f"not a drug (catalog kind {kind}); pharmacies sell catalog drugs only"
    if item_class not in SELLABLE_CLASSES:
        return f"class {item_class} (自费) drug: not payable by the insurance"
    return None
