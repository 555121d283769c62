"""The transactions (交易) the interface answers, by ``infno``: one module per family.

Each handler reads its ``input`` (:class:`~yibao.nhsa.envelope.Fields`), calls the
concept's service with the institution's user as the actor, and returns the ``output``.
No rule, state change or money figure is computed here: :mod:`.figures` maps the
settlement's stored or previewed figures to the national field names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.clock import business_date
from yibao.nhsa.envelope import Envelope
from yibao.registry.models import Institution


@dataclass
class Context:
    """What a handler works with: the session, the actor (the credential's user), its
    institution, the message and the clock."""

    session: Session
    user: User
    institution: Institution
    envelope: Envelope
    now: datetime
    local_use_while_filed: bool | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def today(self) -> Any:
        return business_date(self.now)


Handler = Callable[[Context], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Transaction:
    infno: str
    name: str
    handler: Handler
    # Exactly once by msgid (yibao.settlements.idempotency): every transaction that moves
    # money, as the platform requires, and every other one that changes something, so a
    # HIS retrying after a lost answer gets the first answer instead of a refusal.
    once: bool = False


REGISTRY: dict[str, Transaction] = {}


def transaction(infno: str, name: str, *, once: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        REGISTRY[infno] = Transaction(infno, name, handler, once)
        return handler

    return register


def load_all() -> dict[str, Transaction]:
    """Every transaction, registered by importing its module."""
    from yibao.nhsa.transactions import (  # noqa: F401
        inpatient,
        outpatient,
        person,
        query,
        reconciliation,
        reversal,
    )

    return REGISTRY
