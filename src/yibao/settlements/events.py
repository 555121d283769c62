"""Facts direct settlement announces (see :mod:`yibao.events`).

Settlements sit below the concepts that care about them (encounters, pharmacy, recovery),
so they never call those back by import: :mod:`yibao.settlements.service` publishes these
facts in the same transaction, after its own work is done, and each concept reacts in its
``handlers`` module. Subscribers today (``docs/architecture.md`` keeps the full table):

- ``SettlementRecorded``: ``recovery.handlers`` opens a recovery case when the funds paid
  in advance for an unresolved third party (先行支付);
- ``SettlementReversed``: ``encounters.handlers`` reopens the encounter,
  ``pharmacy.handlers`` marks the sale reversed (退药), ``recovery.handlers`` cancels an
  open recovery case.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.audit.service import Actor
from yibao.settlements.models import SettlementRecord


@dataclass(frozen=True, slots=True)
class SettlementRecorded:
    """A settlement was stored (结算): its row, lines, the person's year and the account
    movement. ``settlement.created_at`` is when; ``actor`` is who asked for it."""

    settlement: SettlementRecord
    actor: Actor = None


@dataclass(frozen=True, slots=True)
class SettlementReversed:
    """A settlement was reversed (冲正) once: ``original`` is now ``reversed`` and
    ``reversal`` is the stored record with every amount negated; the person's year and the
    account are restored by exactly the original's contributions."""

    original: SettlementRecord
    reversal: SettlementRecord
    actor: Actor = None
