"""Who sees a pharmacy sale: the pharmacy that made it, and admins (see
:mod:`yibao.registry.access` for the rule that makes a buyer the pharmacy's patient)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from yibao.errors import NotFound
from yibao.pharmacy.models import PharmacySale
from yibao.registry.access import register_hospital_patient_check


@register_hospital_patient_check
def _bought_at_the_pharmacy(session: Session, institution_id: int, person_id: int) -> bool:
    """The pharmacy sold to the person, or to someone buying for them."""
    stmt = select(PharmacySale.id).where(
        PharmacySale.institution_id == institution_id,
        PharmacySale.patient_person_id == person_id,
    )
    return session.scalar(select(exists(stmt))) or False


def readable_sale(
    sale: PharmacySale | None, *, ref: int, institution_id: int | None
) -> PharmacySale:
    """The sale when it exists and ``institution_id`` (None: an admin) made it."""
    if sale is None or (institution_id is not None and sale.institution_id != institution_id):
        raise NotFound(f"sale {ref} not found", code="pharmacy.sale_not_found")
    return sale
