"""Pharmacy sales (药店购药). Pure: standard library and :mod:`yibao.workflow` only.

A sale is settled at once (the engine, outpatient setting) or, when the whole basket is
refused, never stored. A settled sale can be reversed (退药) once.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from yibao.workflow import Workflow


class SaleState(StrEnum):
    SETTLED = "settled"
    REVERSED = "reversed"


class SaleAction(StrEnum):
    REVERSE = "reverse"


SALE_WORKFLOW: Final = Workflow(
    "pharmacy sale",
    SaleState,
    SaleAction,
    {
        SaleState.SETTLED: {SaleAction.REVERSE: SaleState.REVERSED},
        SaleState.REVERSED: {},
    },
)
SALE_TRANSITIONS: Final[Mapping[SaleState, Mapping[SaleAction, SaleState]]] = SALE_WORKFLOW.table
SALE_SETTLED: Final = SaleState.SETTLED
SALE_REVERSED: Final = SaleState.REVERSED
SALE_STATES: Final = tuple(SaleState)

# What a pharmacy may sell against the card: catalog drugs of class A or B (甲/乙类).
SELLABLE_KIND: Final = "drug"
SELLABLE_CLASSES: Final = frozenset({"A", "B"})


def sale_next(state: str, action: str) -> SaleState:
    """The sale's state after ``action``, or InvalidTransition."""
    return SALE_WORKFLOW.next(state, action)


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
