"""Facts one concept announces and others react to, in process and in the same transaction.

A concept low in the layers (settlements) must not import the concepts above it (recovery,
pharmacy, encounters) to tell them what happened; it publishes a fact instead, a frozen
dataclass named in the past tense (``SettlementReversed``), and the concepts that care
subscribe to it in their own ``handlers`` module::

    @subscribe(SettlementReversed)
    def reopen_the_encounter(session: Session, event: SettlementReversed) -> None: ...

``publish(session, event)`` calls every handler subscribed to exactly ``type(event)``, in the
order they subscribed, synchronously, with the publisher's session: the reactions are part
of the publisher's transaction, and an exception in a handler propagates to the publisher,
so the fact and every reaction to it commit or roll back together. Handlers flush, never
commit (the caller's ``session_scope`` owns the transaction).

A handler is subscribed when its module is imported: :mod:`yibao.wiring` imports every
subscriber module, and every face (API, CLI, demo, the tests) imports :mod:`yibao.wiring`.

Standard library only: the session is passed through untouched, whatever its type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

EventT = TypeVar("EventT")

Handler = Callable[[Any, EventT], None]

_HANDLERS: dict[type[Any], list[Callable[[Any, Any], None]]] = {}


def subscribe(event_type: type[EventT]) -> Callable[[Handler[EventT]], Handler[EventT]]:
    """Decorator: call the function with ``(session, event)`` on every ``event_type``
    published. Subscribing the same function twice keeps one subscription."""

    def register(handler: Handler[EventT]) -> Handler[EventT]:
        handlers = _HANDLERS.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return register


def publish(session: Any, event: object) -> None:
    """Call every handler of ``type(event)`` in subscription order, within the caller's
    transaction; the first handler that raises stops the others and the error propagates."""
    for handler in tuple(_HANDLERS.get(type(event), ())):
        handler(session, event)


def subscribers(event_type: type[Any]) -> tuple[Callable[[Any, Any], None], ...]:
    """The handlers of ``event_type`` in the order they will be called (for tests and docs)."""
    return tuple(_HANDLERS.get(event_type, ()))


def unsubscribe(event_type: type[Any], handler: Callable[[Any, Any], None]) -> None:
    """Remove one subscription (tests that subscribe a probe take it away again)."""
    handlers = _HANDLERS.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)
