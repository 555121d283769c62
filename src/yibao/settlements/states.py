"""Workflow table of settlement records (直接结算); encounters have theirs in
:mod:`yibao.encounters.states`.

Pure: standard library and :mod:`yibao.workflow` only. Every move is looked up in a table;
a move the table does not list raises :class:`~yibao.errors.InvalidTransition`, which names
the moves that are allowed, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from yibao.workflow import Workflow

# --- settlement records (结算记录) -----------------------------------------------------------
# A settlement is reversed once; the reversal is its own record (negated amounts) in the
# terminal state "reversal".


class SettlementState(StrEnum):
    SETTLED = "settled"
    REVERSED = "reversed"
    REVERSAL = "reversal"


class SettlementAction(StrEnum):
    REVERSE = "reverse"


SETTLEMENT_WORKFLOW: Final = Workflow(
    "settlement",
    SettlementState,
    SettlementAction,
    {
        SettlementState.SETTLED: {SettlementAction.REVERSE: SettlementState.REVERSED},
        SettlementState.REVERSED: {},
        SettlementState.REVERSAL: {},
    },
)
SETTLEMENT_TRANSITIONS: Final[
    Mapping[SettlementState, Mapping[SettlementAction, SettlementState]]
] = SETTLEMENT_WORKFLOW.table
SETTLEMENT_SETTLED: Final = SettlementState.SETTLED
SETTLEMENT_REVERSED: Final = SettlementState.REVERSED
SETTLEMENT_REVERSAL: Final = SettlementState.REVERSAL
SETTLEMENT_STATES: Final = tuple(SettlementState)

SOURCES: Final = ("direct", "pharmacy", "reimbursement")
# Settlements an institution made at its window or counter: the ones it sees and reverses,
# the ones claim checks compare against, and (off-site) the ones clearing counts. A manual
# reimbursement's settlement is paid by the insured region itself.
INSTITUTION_SOURCES: Final = ("direct", "pharmacy")


def settlement_next(state: str, action: str) -> SettlementState:
    """The settlement's state after ``action``, or InvalidTransition."""
    return SETTLEMENT_WORKFLOW.next(state, action)


def deposit_outcome(deposit_fen: int, cash_pay_fen: int) -> tuple[int, int]:
    """(refund, still due) in fen: the deposit (押金) covers the cash share first.

    Not a settlement computation: the engine has decided ``cash_pay``; this only says how
    the money the patient already left at the window is squared with it.
    """
    if deposit_fen >= cash_pay_fen:
        return deposit_fen - cash_pay_fen, 0
    return 0, cash_pay_fen - deposit_fen
