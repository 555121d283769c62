"""Workflow transition tables: one lookup for every life cycle (style habit 6).

Pure: standard library and the error tree only, so each concept's ``states.py`` stays pure.
A concept declares its states and actions as :class:`~enum.StrEnum` and its table as
state → action → next state; every move goes through :meth:`Workflow.next`, so an illegal
move is refused in one place, with the same error and wording for every concept, and the
caller changes nothing. StrEnum members equal their values, so states stored as text compare
and look up as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from yibao.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class Workflow(Generic[S, A]):
    """The transition table of one kind of entity: (state, action) → next state.

    ``table`` has a row for every state, final states included (an empty row), so the
    table alone shows the whole life cycle. A row's order is the order :meth:`allowed`
    lists the moves in.
    """

    __slots__ = ("actions", "entity", "states", "table")

    def __init__(
        self, entity: str, states: type[S], actions: type[A], table: Mapping[S, Mapping[A, S]]
    ) -> None:
        # A table that disagrees with its enums is a programming error: fail at import.
        if set(table) != set(states):
            raise ValueError(f"the {entity} table needs one row per state, no more")
        known = set(actions)
        for state, moves in table.items():
            for action, target in moves.items():
                if action not in known or target not in table:
                    raise ValueError(f"{entity} table: {state} --{action}--> {target} is unknown")
        self.entity = entity
        self.states = states
        self.actions = actions
        self.table = table

    def state(self, value: str) -> S:
        """``value`` as a state of this workflow; ValueError when it is none (a bug, not a move)."""
        try:
            return self.states(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a state of a {self.entity}") from None

    def allowed(self, state: str) -> list[A]:
        """The actions the table allows from ``state``, in table order; [] when final."""
        return list(self.table[self.state(state)])

    def next(self, state: str, action: str) -> S:
        """The state after ``action``, or :class:`InvalidTransition` naming the allowed moves.

        An action the workflow does not know is refused like one it does not allow here.
        """
        current = self.state(state)
        moves = self.table[current]
        try:
            return moves[self.actions(action)]
        except (ValueError, KeyError):
            # Plain values in the message: the repr of a StrEnum reads <FilingAction.X: 'x'>.
            allowed = [str(move) for move in moves]
            raise InvalidTransition(self.entity, str(current), str(action), allowed) from None
