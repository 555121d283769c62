"""The filing transition table: every move it allows, and refusals that list the allowed moves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from yibao.errors import InvalidTransition
from yibao.filings import states
from yibao.filings.states import FilingState, allowed_actions, next_state


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        ("draft", "submit", "submitted"),
        ("submitted", "approve", "approved"),
        ("submitted", "reject", "rejected"),
        ("submitted", "return", "returned"),
        ("returned", "resubmit", "resubmitted"),
        ("resubmitted", "return", "returned"),
        ("resubmitted", "approve", "approved"),
        ("resubmitted", "reject", "rejected"),
        ("approved", "change", "approved"),
        ("approved", "cancel", "cancelled"),
        ("approved", "expire", "expired"),
        ("approved", "correct", "approved"),
        ("draft", "withdraw", "withdrawn"),
        ("submitted", "withdraw", "withdrawn"),
        ("returned", "withdraw", "withdrawn"),
        ("resubmitted", "withdraw", "withdrawn"),
    ],
)
def test_allowed_moves(state: str, action: str, expected: str) -> None:
    assert next_state(state, action) == FilingState(expected)


def test_illegal_move_lists_allowed_moves() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state("draft", "approve")
    assert caught.value.allowed == ["submit", "withdraw"]
    assert caught.value.code == "state.invalid_transition"
    assert "submit" in str(caught.value)


def test_returned_filing_cannot_be_approved_before_resubmission() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state("returned", "approve")
    assert caught.value.allowed == ["resubmit", "withdraw"]


def test_unknown_action_is_refused_like_an_illegal_one() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state("approved", "teleport")
    assert caught.value.allowed == ["change", "correct", "cancel", "expire"]


@pytest.mark.parametrize("final", ["rejected", "cancelled", "expired", "withdrawn"])
def test_final_states_allow_nothing(final: str) -> None:
    assert allowed_actions(final) == []
    assert FilingState(final) in states.FINAL_STATES
    with pytest.raises(InvalidTransition) as caught:
        next_state(final, "cancel")
    assert caught.value.allowed == []


def test_every_state_is_reachable_from_draft() -> None:
    seen = {FilingState.DRAFT}
    frontier = [FilingState.DRAFT]
    while frontier:
        for target in states.TRANSITIONS[frontier.pop()].values():
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(FilingState)


def test_referral_certificate_is_stamped_once() -> None:
    assert states.stamp("unstamped") == states.StampState.STAMPED
    with pytest.raises(InvalidTransition) as caught:
        states.stamp("stamped")
    assert caught.value.allowed == []


def test_states_module_imports_only_the_standard_library_and_the_kernel() -> None:
    tree = ast.parse(Path(states.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    allowed = {"__future__", "collections.abc", "enum", "yibao.errors", "yibao.workflow"}
    assert imported <= allowed, imported - allowed
