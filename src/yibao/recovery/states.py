"""Third-party recovery cases (第三方追偿): the fund paid in advance, the agency recovers.

Pure: standard library and :mod:`yibao.workflow` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from yibao.workflow import Workflow


class CaseState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    # The settlement that opened the case was reversed: nothing was paid in advance any more.
    CANCELLED = "cancelled"


class CaseAction(StrEnum):
    CLOSE = "close"
    CANCEL = "cancel"


CASE_WORKFLOW: Final = Workflow(
    "recovery case",
    CaseState,
    CaseAction,
    {
        CaseState.OPEN: {
            CaseAction.CLOSE: CaseState.CLOSED,
            CaseAction.CANCEL: CaseState.CANCELLED,
        },
        # the settlement was reversed after the recovery: the case is void (what was
        # recovered is owed back to the third party)
        CaseState.CLOSED: {CaseAction.CANCEL: CaseState.CANCELLED},
        CaseState.CANCELLED: {},
    },
)
CASE_TRANSITIONS: Final[Mapping[CaseState, Mapping[CaseAction, CaseState]]] = CASE_WORKFLOW.table
CASE_OPEN: Final = CaseState.OPEN
CASE_CLOSED: Final = CaseState.CLOSED
CASE_CANCELLED: Final = CaseState.CANCELLED
CASE_STATES: Final = tuple(CaseState)


def case_next(state: str, action: str) -> CaseState:
    """The case's state after ``action``, or InvalidTransition."""
    return CASE_WORKFLOW.next(state, action)
