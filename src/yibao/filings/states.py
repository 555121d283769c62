"""The filing (备案) workflow as an explicit transition table.

Pure: standard library only. Every state change of a filing goes through :func:`next_state`,
so an illegal move is refused in one place and the refusal lists the moves that are allowed.

::

    draft ──submit──▶ submitted ──approve──▶ approved ──cancel──▶ cancelled (effective next day)
                        │  ▲   └──reject──▶ rejected      │  └──expire──▶ expired
                      return resubmit                    └──change──▶ approved (after the lock)
                        ▼  │
                      returned ──resubmit──▶ resubmitted ──approve / reject / return──▶ …

A referral certificate (转诊证明) has its own two-state table: ``unstamped`` until the
issuing hospital's social security window stamps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from yibao.errors import InvalidTransition


class FilingState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class FilingAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    RESUBMIT = "resubmit"
    CHANGE = "change"
    CANCEL = "cancel"
    EXPIRE = "expire"


S, A = FilingState, FilingAction

TRANSITIONS: Mapping[FilingState, Mapping[FilingAction, FilingState]] = {
    S.DRAFT: {A.SUBMIT: S.SUBMITTED},
    S.SUBMITTED: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED, A.RETURN: S.RETURNED},
    S.RETURNED: {A.RESUBMIT: S.RESUBMITTED},
    S.RESUBMITTED: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED, A.RETURN: S.RETURNED},
    S.APPROVED: {A.CHANGE: S.APPROVED, A.CANCEL: S.CANCELLED, A.EXPIRE: S.EXPIRED},
    S.REJECTED: {},
    S.CANCELLED: {},
    S.EXPIRED: {},
}
"""state → action → next state. States with no moves are final."""

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
OPEN_STATES = frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED, S.RESUBMITTED})
"""States in which the applicant or the front desk may still add documents."""
REVIEWABLE_STATES = frozenset({S.SUBMITTED, S.RESUBMITTED})
"""States that sit in the agency's review queue."""


def allowed_actions(state: str) -> list[str]:
    """The actions the table allows from ``state``, in table order."""
    return [str(action) for action in TRANSITIONS.get(FilingState(state), {})]


def next_state(state: str, action: str) -> FilingState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed moves."""
    current = FilingState(state)
    moves = TRANSITIONS[current]
    try:
        return moves[FilingAction(action)]
    except (KeyError, ValueError):
        raise InvalidTransition("filing", str(current), action, allowed_actions(current)) from None


# --- referral certificate (转诊证明) -------------------------------------------------------


class StampState(StrEnum):
    UNSTAMPED = "unstamped"
    STAMPED = "stamped"


STAMP_TRANSITIONS: Mapping[StampState, Mapping[str, StampState]] = {
    StampState.UNSTAMPED: {"stamp": StampState.STAMPED},
    StampState.STAMPED: {},
}


def stamp(state: str) -> StampState:
    """Stamp a referral certificate; a certificate is stamped once."""
    current = StampState(state)
    moves = STAMP_TRANSITIONS[current]
    if "stamp" not in moves:
        raise InvalidTransition("referral certificate", str(current), "stamp", list(moves))
    return moves["stamp"]
