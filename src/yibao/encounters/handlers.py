"""What encounters do when settlements announce a fact (see :mod:`yibao.events`).

A reversal (冲正) of an encounter's settlement brings the encounter back to ``open``, so the
hospital may correct its fee lines and settle again. Settlements do not import encounters:
this handler is subscribed when :mod:`yibao.wiring` imports this module.

Lock order on PostgreSQL. Settling an encounter locks the encounter first, then the
person's year, then the account; a reversal locks the settlement, the year, the account,
and the encounter last (here). These two orders cannot deadlock over the same encounter:
while its settlement is being reversed the encounter is still ``settled`` (it is set back
to ``open`` only here, in the reversing transaction), so a concurrent settle of it fails
its transition check right after taking the encounter's lock, before it asks for the year
or the account, and gives its lock back. Other moves that lock an encounter (fee uploads,
withdrawals) lock nothing else. Settling another encounter of the same person takes that
encounter's lock, which the reversal never asks for. ``test_settle_concurrency`` runs
settles and reversals of the same encounters at once on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibao.encounters import repository as repo
from yibao.encounters.states import encounter_next
from yibao.events import subscribe
from yibao.settlements.events import SettlementReversed


@subscribe(SettlementReversed)
def reopen_encounter(session: Session, event: SettlementReversed) -> None:
    """The encounter of a reversed settlement is open again (an illegal move raises
    ``InvalidTransition`` and the whole reversal rolls back)."""
    encounter_id = event.original.encounter_id
    if encounter_id is None:
        return
    encounter = repo.get_encounter(session, encounter_id, lock=True)
    repo.set_encounter_state(session, encounter, encounter_next(encounter.state, "reverse"))
