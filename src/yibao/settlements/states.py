"""Workflow tables of direct settlement (直接结算): encounters, fee lines, settlements.

Pure: standard library and the error tree only. Every move is looked up in a table; a
move the table does not list raises :class:`~yibao.errors.InvalidTransition`, which names
the moves that are allowed, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from yibao.errors import InvalidTransition

# --- encounters (就诊登记 / 入院登记) --------------------------------------------------------
# open: registered or admitted, fee details may be uploaded and withdrawn, pre-settled;
# settled: the discharge settlement is stored; a reversal (冲正) brings it back to open;
# cancelled: registration withdrawn before any settlement.
ENCOUNTER_OPEN: Final = "open"
ENCOUNTER_SETTLED: Final = "settled"
ENCOUNTER_CANCELLED: Final = "cancelled"
ENCOUNTER_STATES: Final = (ENCOUNTER_OPEN, ENCOUNTER_SETTLED, ENCOUNTER_CANCELLED)

ENCOUNTER_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    ENCOUNTER_OPEN: {
        "upload_fees": ENCOUNTER_OPEN,
        "withdraw_fee": ENCOUNTER_OPEN,
        "pre_settle": ENCOUNTER_OPEN,
        "settle": ENCOUNTER_SETTLED,
        "cancel": ENCOUNTER_CANCELLED,
    },
    ENCOUNTER_SETTLED: {"reverse": ENCOUNTER_OPEN},
    ENCOUNTER_CANCELLED: {},
}

# --- fee lines (费用明细) --------------------------------------------------------------------
FEE_ACTIVE: Final = "active"
FEE_WITHDRAWN: Final = "withdrawn"
FEE_STATES: Final = (FEE_ACTIVE, FEE_WITHDRAWN)

FEE_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    FEE_ACTIVE: {"withdraw": FEE_WITHDRAWN},
    FEE_WITHDRAWN: {},
}

# --- settlement records (结算记录) -----------------------------------------------------------
# A settlement is reversed once; the reversal is its own record (negated amounts) in the
# terminal state "reversal".
SETTLEMENT_SETTLED: Final = "settled"
SETTLEMENT_REVERSED: Final = "reversed"
SETTLEMENT_REVERSAL: Final = "reversal"
SETTLEMENT_STATES: Final = (SETTLEMENT_SETTLED, SETTLEMENT_REVERSED, SETTLEMENT_REVERSAL)

SETTLEMENT_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    SETTLEMENT_SETTLED: {"reverse": SETTLEMENT_REVERSED},
    SETTLEMENT_REVERSED: {},
    SETTLEMENT_REVERSAL: {},
}

SOURCES: Final = ("direct", "pharmacy", "reimbursement")
SETTINGS: Final = ("inpatient", "outpatient")


def _next(table: Mapping[str, Mapping[str, str]], entity: str, state: str, action: str) -> str:
    moves = table.get(state, {})
    try:
        return moves[action]
    except KeyError:
        raise InvalidTransition(entity, state, action, sorted(moves)) from None


def encounter_next(state: str, action: str) -> str:
    """The encounter's state after ``action``, or InvalidTransition."""
    return _next(ENCOUNTER_TRANSITIONS, "encounter", state, action)


def fee_line_next(state: str, action: str) -> str:
    return _next(FEE_TRANSITIONS, "fee line", state, action)


def settlement_next(state: str, action: str) -> str:
    return _next(SETTLEMENT_TRANSITIONS, "settlement", state, action)


def deposit_outcome(deposit_fen: int, cash_pay_fen: int) -> tuple[int, int]:
    """(refund, still due) in fen: the deposit (押金) covers the cash share first.

    Not a settlement computation: the engine has decided ``cash_pay``; this only says how
    the money the patient already left at the window is squared with it.
    """
    if deposit_fen >= cash_pay_fen:
        return deposit_fen - cash_pay_fen, 0
    return 0, cash_pay_fen - deposit_fen
