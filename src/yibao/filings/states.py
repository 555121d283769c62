"""The filing (备案) workflow as an explicit transition table.

Pure: standard library and :mod:`yibao.workflow` only. Every state change of a filing goes
through :func:`next_state`, so an illegal move is refused in one place and the refusal lists
the moves that are allowed.

::

    draft ──submit──▶ submitted ──approve──▶ approved ──cancel──▶ cancelled (home from the next day)
                        │  ▲   └──reject──▶ rejected      │  └──expire──▶ expired
                      return resubmit                    ├──change──▶ approved (after the lock)
                        ▼  │                             └──correct──▶ approved (agency, reason)
                      returned ──resubmit──▶ resubmitted ──approve / reject / return──▶ …

    draft, submitted, returned, resubmitted ──withdraw──▶ withdrawn (kept, blocks nothing)

A referral certificate (转诊证明) has its own two-state table: ``unstamped`` until the
issuing hospital's social security window stamps it; so has each chosen hospital's stamp on
a resettlement form (seed 000).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from yibao.workflow import Workflow


class FilingState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class FilingAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    RESUBMIT = "resubmit"
    CHANGE = "change"
    CORRECT = "correct"
    CANCEL = "cancel"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"


S, A = FilingState, FilingAction

FILING_WORKFLOW = Workflow(
    "filing",
    FilingState,
    FilingAction,
    {
        S.DRAFT: {A.SUBMIT: S.SUBMITTED, A.WITHDRAW: S.WITHDRAWN},
        S.SUBMITTED: {
            A.APPROVE: S.APPROVED,
            A.REJECT: S.REJECTED,
            A.RETURN: S.RETURNED,
            A.WITHDRAW: S.WITHDRAWN,
        },
        S.RETURNED: {A.RESUBMIT: S.RESUBMITTED, A.WITHDRAW: S.WITHDRAWN},
        S.RESUBMITTED: {
            A.APPROVE: S.APPROVED,
            A.REJECT: S.REJECTED,
            A.RETURN: S.RETURNED,
            A.WITHDRAW: S.WITHDRAWN,
        },
        S.APPROVED: {
            A.CHANGE: S.APPROVED,
            A.CORRECT: S.APPROVED,
            A.CANCEL: S.CANCELLED,
            A.EXPIRE: S.EXPIRED,
        },
        S.REJECTED: {},
        S.CANCELLED: {},
        S.EXPIRED: {},
        S.WITHDRAWN: {},
    },
)
TRANSITIONS: Mapping[FilingState, Mapping[FilingAction, FilingState]] = FILING_WORKFLOW.table
"""state → action → next state. States with no moves are final."""

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
OPEN_STATES = frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED, S.RESUBMITTED})
"""States in which the applicant or the front desk may still add documents."""
REVIEWABLE_STATES = frozenset({S.SUBMITTED, S.RESUBMITTED})
"""States that sit in the agency's review queue."""
SYSTEM_ACTIONS = frozenset({A.EXPIRE})
"""Moves only the platform makes (the daily expiry job); no caller is offered them."""


def allowed_actions(state: str) -> list[str]:
    """The actions the table allows from ``state``, in table order."""
    return [str(action) for action in FILING_WORKFLOW.allowed(state)]


def next_state(state: str, action: str) -> FilingState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed moves."""
    return FILING_WORKFLOW.next(state, action)


# --- referral certificate (转诊证明) -------------------------------------------------------


class StampState(StrEnum):
    UNSTAMPED = "unstamped"
    STAMPED = "stamped"


class StampAction(StrEnum):
    STAMP = "stamp"


STAMP_WORKFLOW = Workflow(
    "referral certificate",
    StampState,
    StampAction,
    {
        StampState.UNSTAMPED: {StampAction.STAMP: StampState.STAMPED},
        StampState.STAMPED: {},
    },
)
STAMP_TRANSITIONS: Mapping[StampState, Mapping[StampAction, StampState]] = STAMP_WORKFLOW.table


def stamp(state: str) -> StampState:
    """Stamp a referral certificate; a certificate is stamped once."""
    return STAMP_WORKFLOW.next(state, StampAction.STAMP)


HOSPITAL_STAMP_WORKFLOW = Workflow(
    "hospital stamp",
    StampState,
    StampAction,
    {
        StampState.UNSTAMPED: {StampAction.STAMP: StampState.STAMPED},
        StampState.STAMPED: {},
    },
)
"""A chosen hospital's medical insurance office stamps a resettlement form once (seed 000)."""


def hospital_stamp(state: str) -> StampState:
    """Stamp the form as one chosen hospital; each hospital stamps once."""
    return HOSPITAL_STAMP_WORKFLOW.next(state, StampAction.STAMP)
