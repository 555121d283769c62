"""Third-party recovery cases (第三方追偿): the fund paid in advance, the agency recovers.

Pure: standard library and the error tree only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from yibao.errors import InvalidTransition

CASE_OPEN: Final = "open"
CASE_CLOSED: Final = "closed"
# The settlement that opened the case was reversed: nothing was paid in advance any more.
CASE_CANCELLED: Final = "cancelled"
CASE_STATES: Final = (CASE_OPEN, CASE_CLOSED, CASE_CANCELLED)

CASE_TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    CASE_OPEN: {"close": CASE_CLOSED, "cancel": CASE_CANCELLED},
    CASE_CLOSED: {},
    CASE_CANCELLED: {},
}


def case_next(state: str, action: str) -> str:
    moves = CASE_TRANSITIONS.get(state, {})
    try:
        return moves[action]
    except KeyError:
        raise InvalidTransition("recovery case", state, action, sorted(moves)) from None
