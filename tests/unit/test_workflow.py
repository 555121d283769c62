"""The one transition-table helper every workflow is declared with (yibao.workflow)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from yibao.clearing.states import STATEMENT_WORKFLOW
from yibao.encounters.states import ENCOUNTER_WORKFLOW, FEE_WORKFLOW
from yibao.errors import InvalidTransition
from yibao.filings.states import FILING_WORKFLOW, STAMP_WORKFLOW
from yibao.pharmacy.states import SALE_WORKFLOW
from yibao.recovery.states import CASE_WORKFLOW
from yibao.reimbursements.states import CLAIM_WORKFLOW
from yibao.settlements.states import SETTLEMENT_WORKFLOW
from yibao.workflow import Workflow


class Door(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    LOCKED = "locked"
    BRICKED = "bricked"


class Move(StrEnum):
    OPEN = "open"
    CLOSE = "close"
    LOCK = "lock"
    UNLOCK = "unlock"
    BRICK_UP = "brick_up"


# Row order differs from the enum's on purpose: allowed() follows the table.
DOOR = Workflow(
    "door",
    Door,
    Move,
    {
        Door.CLOSED: {Move.LOCK: Door.LOCKED, Move.OPEN: Door.OPEN, Move.BRICK_UP: Door.BRICKED},
        Door.OPEN: {Move.CLOSE: Door.CLOSED},
        Door.LOCKED: {Move.UNLOCK: Door.CLOSED},
        Door.BRICKED: {},
    },
)

PROJECT_WORKFLOWS: list[Workflow[Any, Any]] = [
    FILING_WORKFLOW,
    STAMP_WORKFLOW,
    ENCOUNTER_WORKFLOW,
    FEE_WORKFLOW,
    SETTLEMENT_WORKFLOW,
    SALE_WORKFLOW,
    CLAIM_WORKFLOW,
    STATEMENT_WORKFLOW,
    CASE_WORKFLOW,
]


def test_a_legal_move_returns_the_next_state_as_the_enum() -> None:
    assert DOOR.next("closed", "lock") is Door.LOCKED
    assert DOOR.next(Door.LOCKED, Move.UNLOCK) is Door.CLOSED
    assert DOOR.next("closed", Move.OPEN) == "open"  # a StrEnum equals its stored value


def test_an_illegal_move_raises_and_names_the_action_and_the_state_plainly() -> None:
    with pytest.raises(InvalidTransition) as caught:
        DOOR.next(Door.LOCKED, Move.OPEN)
    error = caught.value
    assert error.code == "state.invalid_transition"
    assert error.allowed == ["unlock"]
    assert error.extra == {"allowed": ["unlock"], "state": "locked", "action": "open"}
    message = str(error)
    assert message == "cannot open: the door is locked; allowed now: unlock"
    assert "Move." not in message and "Door." not in message and "<" not in message


def test_an_unknown_action_is_refused_like_an_illegal_one() -> None:
    with pytest.raises(InvalidTransition) as caught:
        DOOR.next("open", "teleport")
    assert caught.value.allowed == ["close"]
    assert "cannot teleport: the door is open" in str(caught.value)


def test_a_final_state_allows_nothing() -> None:
    assert DOOR.allowed("bricked") == []
    with pytest.raises(InvalidTransition) as caught:
        DOOR.next("bricked", "open")
    assert caught.value.allowed == []
    assert "allowed now: nothing" in str(caught.value)


@pytest.mark.parametrize("state", list(Door))
def test_allowed_lists_exactly_the_tables_actions_in_table_order(state: Door) -> None:
    assert DOOR.allowed(state) == list(DOOR.table[state])
    assert DOOR.allowed(str(state)) == DOOR.allowed(state)
    for action in Move:
        if action in DOOR.allowed(state):
            DOOR.next(state, action)
        else:
            with pytest.raises(InvalidTransition):
                DOOR.next(state, action)


def test_allowed_keeps_the_rows_order_not_the_enums() -> None:
    assert DOOR.allowed("closed") == ["lock", "open", "brick_up"]


def test_a_state_the_workflow_does_not_know_is_a_bug_not_a_move() -> None:
    with pytest.raises(ValueError, match="'ajar' is not a state of a door"):
        DOOR.next("ajar", "close")
    with pytest.raises(ValueError):
        DOOR.allowed("ajar")


def test_a_table_without_a_row_per_state_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="one row per state"):
        Workflow("door", Door, Move, {Door.CLOSED: {}, Door.OPEN: {}})


def test_a_table_with_an_unknown_action_or_target_is_refused_at_declaration() -> None:
    class Other(StrEnum):
        AJAR = "ajar"

    rows: dict[Any, dict[Any, Any]] = {state: {} for state in Door}
    with pytest.raises(ValueError, match="is unknown"):
        Workflow("door", Door, Move, {**rows, Door.OPEN: {Move.CLOSE: Other.AJAR}})
    with pytest.raises(ValueError, match="is unknown"):
        Workflow("door", Door, Move, {**rows, Door.OPEN: {Other.AJAR: Door.CLOSED}})


@pytest.mark.parametrize("workflow", PROJECT_WORKFLOWS, ids=lambda w: w.entity)
def test_every_project_workflow_refuses_by_plain_names(workflow: Workflow[Any, Any]) -> None:
    for state in workflow.states:
        assert workflow.allowed(state) == list(workflow.table[state])
        refused = [action for action in workflow.actions if action not in workflow.table[state]]
        for action in refused:
            with pytest.raises(InvalidTransition) as caught:
                workflow.next(state, action)
            assert f"cannot {action}: the {workflow.entity} is {state};" in str(caught.value)
            assert "<" not in str(caught.value)
