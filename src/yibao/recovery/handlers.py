"""What third-party recovery (第三方追偿) does when settlements announce a fact.

A settlement whose funds paid in advance for an unresolved third party (先行支付,
``recoverable`` > 0) opens a case for the insured region's agency; its reversal cancels the
case (void, also after a recovery). Subscribed when :mod:`yibao.wiring` imports this module.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibao.events import subscribe
from yibao.recovery.service import cancel_case_for, open_case
from yibao.settlements.events import SettlementRecorded, SettlementReversed


@subscribe(SettlementRecorded)
def open_case_for_advance(session: Session, event: SettlementRecorded) -> None:
    settlement = event.settlement
    if settlement.recoverable_fen > 0:
        open_case(session, settlement=settlement, actor=event.actor, now=settlement.created_at)


@subscribe(SettlementReversed)
def cancel_case_on_reversal(session: Session, event: SettlementReversed) -> None:
    if event.original.recoverable_fen:  # open or closed, the case is void
        cancel_case_for(
            session,
            settlement_id=event.original.id,
            actor=event.actor,
            now=event.reversal.created_at,
        )
