"""A stored settlement as the desks show and print it: explained in the page's language,
with its patient (identity masked), the hospital by name and the funds that paid. The
window's settlement page, its slip and the printed slip (:mod:`yibao.web.printouts`) show
the same figures from here."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session

from yibao.identity import mask_identity_number
from yibao.registry import service as registry
from yibao.settlements import service as settlements
from yibao.settlements.models import SettlementRecord
from yibao.web.page import Page
from yibao.web.routes import Names

# The funds a settlement's slip lists, in this order.
FUNDS: Final = ("pool_fund_pay", "supplementary_pay", "assistance_pay")


def settlement_shown(page: Page, session: Session, row: SettlementRecord) -> dict[str, Any]:
    """The context of a settlement's page or slip (``row`` was read through the
    settlements' service by the caller, who may see it)."""
    person = registry.get_person(session, person_id=row.person_id)
    names = Names(session)
    return {
        "row": row,
        "s": settlements.settlement_explained(session, record_=row, lang=page.lang),
        "person": person,
        "identity_masked": mask_identity_number(person.identity_number),
        "institution": names.institution(row.institution_id),
        "names": names,
        "funds": FUNDS,
    }
