"""The clearing statement (清算单) life cycle. Pure: standard library only.

A draft statement is rebuilt every time the month is cleared; ``confirm`` freezes it: its
figures and the settlements and reversals it holds never change again, and anything that
arrives later for that month falls into the next open month.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from yibao.errors import InvalidTransition


class StatementState(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"


TRANSITIONS: Mapping[StatementState, Mapping[str, StatementState]] = {
    StatementState.DRAFT: {"rebuild": StatementState.DRAFT, "confirm": StatementState.CONFIRMED},
    StatementState.CONFIRMED: {},
}


def allowed_actions(state: str) -> list[str]:
    return list(TRANSITIONS.get(StatementState(state), {}))


def next_state(state: str, action: str) -> StatementState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed moves."""
    current = StatementState(state)
    try:
        return TRANSITIONS[current][action]
    except KeyError:
        raise InvalidTransition(
            "clearing statement", str(current), action, allowed_actions(current)
        ) from None
