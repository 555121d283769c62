"""The reimbursement claim (零星报销) workflow as an explicit transition table.

Pure: standard library and :mod:`yibao.workflow` only. Every state change of a claim goes
through :func:`next_state`, so an illegal move is refused in one place and the refusal lists
the moves that are allowed.

::

    submitted ──start_review──▶ under_review ──approve──▶ approved ──pay──▶ paid
        │                        │    │   └──reject──▶ rejected
        └──return──┐          return  │
                   ▼             ▼    │
                  returned ──resubmit──▶ resubmitted ──start_review──▶ under_review

``return`` lists the missing documents and keeps everything already submitted; the
claimant completes the claim and resubmits it, and the review starts again.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from yibao.workflow import Workflow


class ClaimState(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class ClaimAction(StrEnum):
    START_REVIEW = "start_review"
    RETURN = "return"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"


S, A = ClaimState, ClaimAction

CLAIM_WORKFLOW = Workflow(
    "reimbursement claim",
    ClaimState,
    ClaimAction,
    {
        S.SUBMITTED: {A.START_REVIEW: S.UNDER_REVIEW, A.RETURN: S.RETURNED},
        S.UNDER_REVIEW: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED, A.RETURN: S.RETURNED},
        S.RETURNED: {A.RESUBMIT: S.RESUBMITTED},
        S.RESUBMITTED: {A.START_REVIEW: S.UNDER_REVIEW, A.RETURN: S.RETURNED},
        S.APPROVED: {A.PAY: S.PAID},
        S.REJECTED: {},
        S.PAID: {},
    },
)
TRANSITIONS: Mapping[ClaimState, Mapping[ClaimAction, ClaimState]] = CLAIM_WORKFLOW.table
"""state → action → next state. States with no moves are final."""

FINAL_STATES = frozenset(state for state, moves in TRANSITIONS.items() if not moves)
OPEN_STATES = frozenset({S.SUBMITTED, S.RETURNED, S.RESUBMITTED})
"""States in which the claimant may still add documents, invoices and lines."""
QUEUE_STATES = frozenset({S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW})
"""States that sit in the insured region's review queue."""
SETTLED_STATES = frozenset({S.APPROVED, S.PAID})
"""States whose invoices count as reimbursed (for the duplicate-invoice check)."""


# The route (POST /reimbursements/{id}/<name>) of each action, where the names differ.
ROUTE_NAMES = {ClaimAction.START_REVIEW: "review"}


def allowed_actions(state: str) -> list[str]:
    """What may be done from ``state``, in table order, by the names of the routes that do it."""
    return [ROUTE_NAMES.get(action, str(action)) for action in CLAIM_WORKFLOW.allowed(state)]


def next_state(state: str, action: str) -> ClaimState:
    """The state after ``action``, or :class:`InvalidTransition` listing the allowed moves."""
    return CLAIM_WORKFLOW.next(state, action)
