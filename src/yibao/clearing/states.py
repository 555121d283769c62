"""The clearing statement (清算单) life cycle.

Pure: standard library and :mod:`yibao.workflow` only.

A draft statement is rebuilt every time the month is cleared; ``confirm`` freezes it: its
figures and the settlements and reversals it holds never change again, and anything that
arrives later for that month falls into the next open month.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from yibao.workflow import Workflow


class StatementState(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"


class StatementAction(StrEnum):
    REBUILD = "rebuild"
    CONFIRM = "confirm"


S, A = StatementState, StatementAction

STATEMENT_WORKFLOW = Workflow(
    "clearing statement",
    StatementState,
    StatementAction,
    {
        S.DRAFT: {A.REBUILD: S.DRAFT, A.CONFIRM: S.CONFIRMED},
        S.CONFIRMED: {},
    },
)
TRANSITIONS: Mapping[StatementState, Mapping[StatementAction, StatementState]] = (
    STATEMENT_WORKFLOW.table
)


def allowed_actions(state: str) -> list[str]:
    """The actions the table allows from ``state``, in table order."""
    return [str(action) for action in STATEMENT_WORKFLOW.allowed(state)]


def next_state(state: str, action: str) -> StatementState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed moves."""
    return STATEMENT_WORKFLOW.next(state, action)
