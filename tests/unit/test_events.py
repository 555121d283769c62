"""The in-process event dispatcher (yibao.events): order, exact types, errors propagate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from yibao import events


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class HappenedLater(Happened):
    pass


@pytest.fixture
def seen() -> Iterator[list[tuple[str, object, str]]]:
    calls: list[tuple[str, object, str]] = []

    def first(session: object, event: Happened) -> None:
        calls.append(("first", session, event.what))

    def second(session: object, event: Happened) -> None:
        calls.append(("second", session, event.what))

    events.subscribe(Happened)(first)
    events.subscribe(Happened)(second)
    events.subscribe(Happened)(first)  # twice: still one subscription
    yield calls
    events.unsubscribe(Happened, first)
    events.unsubscribe(Happened, second)
    assert events.subscribers(Happened) == ()


def test_handlers_run_in_subscription_order_with_the_publishers_session(
    seen: list[tuple[str, object, str]],
) -> None:
    session = object()
    events.publish(session, Happened("settled"))
    assert seen == [("first", session, "settled"), ("second", session, "settled")]


def test_only_handlers_of_the_exact_type_run(seen: list[tuple[str, object, str]]) -> None:
    events.publish(None, HappenedLater("later"))
    events.publish(None, "not an event anyone subscribed to")
    assert seen == []


def test_an_error_in_a_handler_reaches_the_publisher_and_stops_the_rest(
    seen: list[tuple[str, object, str]],
) -> None:
    def failing(session: object, event: Happened) -> None:
        raise RuntimeError(f"cannot react to {event.what}")

    events.unsubscribe(Happened, events.subscribers(Happened)[1])
    events.subscribe(Happened)(failing)
    try:
        with pytest.raises(RuntimeError, match="cannot react to reversed"):
            events.publish(None, Happened("reversed"))
        assert [name for name, _, _ in seen] == ["first"]
    finally:
        events.unsubscribe(Happened, failing)


def test_the_kernel_dispatcher_imports_only_the_standard_library() -> None:
    source = events.__file__
    assert source is not None
    with open(source, encoding="utf-8") as handle:
        imports = [line for line in handle if line.startswith(("import ", "from "))]
    assert all(
        line.split()[1].split(".")[0] in {"__future__", "collections", "typing"} for line in imports
    ), imports
