"""What pharmacy sales do when settlements announce a fact.

A reversed pharmacy settlement means the drugs were returned (退药): the sale is marked
reversed. Subscribed when :mod:`yibao.wiring` imports this module.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibao.events import subscribe
from yibao.pharmacy.service import mark_reversed
from yibao.settlements.events import SettlementReversed


@subscribe(SettlementReversed)
def reverse_sale(session: Session, event: SettlementReversed) -> None:
    if event.original.source == "pharmacy":
        mark_reversed(session, settlement_id=event.original.id)
