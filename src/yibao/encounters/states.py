"""Workflow tables of the hospital window: encounters (就诊登记 / 入院登记) and fee lines.

Pure: standard library and :mod:`yibao.workflow` only. Every move is looked up in a table;
a move the table does not list raises :class:`~yibao.errors.InvalidTransition`, which names
the moves that are allowed, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from yibao.workflow import Workflow

# --- encounters (就诊登记 / 入院登记) --------------------------------------------------------
# open: registered or admitted, fee details may be uploaded and withdrawn, pre-settled;
# settled: the discharge settlement is stored; a reversal (冲正) brings it back to open;
# cancelled: registration withdrawn before any settlement.


class EncounterState(StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class EncounterAction(StrEnum):
    UPLOAD_FEES = "upload_fees"
    WITHDRAW_FEE = "withdraw_fee"
    PRE_SETTLE = "pre_settle"
    SETTLE = "settle"
    CANCEL = "cancel"
    REVERSE = "reverse"


_E, _EA = EncounterState, EncounterAction

ENCOUNTER_WORKFLOW: Final = Workflow(
    "encounter",
    EncounterState,
    EncounterAction,
    {
        _E.OPEN: {
            _EA.UPLOAD_FEES: _E.OPEN,
            _EA.WITHDRAW_FEE: _E.OPEN,
            _EA.PRE_SETTLE: _E.OPEN,
            _EA.SETTLE: _E.SETTLED,
            _EA.CANCEL: _E.CANCELLED,
        },
        _E.SETTLED: {_EA.REVERSE: _E.OPEN},
        _E.CANCELLED: {},
    },
)
ENCOUNTER_TRANSITIONS: Final[Mapping[EncounterState, Mapping[EncounterAction, EncounterState]]] = (
    ENCOUNTER_WORKFLOW.table
)
ENCOUNTER_OPEN: Final = EncounterState.OPEN
ENCOUNTER_SETTLED: Final = EncounterState.SETTLED
ENCOUNTER_CANCELLED: Final = EncounterState.CANCELLED
ENCOUNTER_STATES: Final = tuple(EncounterState)

# --- fee lines (费用明细) --------------------------------------------------------------------


class FeeState(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class FeeAction(StrEnum):
    WITHDRAW = "withdraw"


FEE_WORKFLOW: Final = Workflow(
    "fee line",
    FeeState,
    FeeAction,
    {
        FeeState.ACTIVE: {FeeAction.WITHDRAW: FeeState.WITHDRAWN},
        FeeState.WITHDRAWN: {},
    },
)
FEE_TRANSITIONS: Final[Mapping[FeeState, Mapping[FeeAction, FeeState]]] = FEE_WORKFLOW.table
FEE_ACTIVE: Final = FeeState.ACTIVE
FEE_WITHDRAWN: Final = FeeState.WITHDRAWN
FEE_STATES: Final = tuple(FeeState)


def encounter_next(state: str, action: str) -> EncounterState:
    """The encounter's state after ``action``, or InvalidTransition."""
    return ENCOUNTER_WORKFLOW.next(state, action)


def fee_line_next(state: str, action: str) -> FeeState:
    """The fee line's state after ``action``, or InvalidTransition."""
    return FEE_WORKFLOW.next(state, action)
