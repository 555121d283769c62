"""Who may see and act on encounters (就诊登记 / 入院登记).

- hospital: its own encounters (registered or admitted there); it registers, uploads fee
  lines, pre-settles and settles them;
- admin: reads any.

An encounter also makes its person the hospital's patient: the check registered here is
one of those :func:`yibao.registry.access.hospital_can_see` asks.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from yibao.encounters.models import Encounter
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin


def encounter_scope(actor: Actor) -> int | None:
    """The institution whose encounters ``actor`` sees (None: all, for admins)."""
    if is_admin(actor):
        return None
    return registry_access.institution_of(actor)


@registry_access.register_hospital_patient_check
def _has_an_encounter(session: Session, institution_id: int, person_id: int) -> bool:
    """The person was registered or admitted at the institution."""
    stmt = select(Encounter.id).where(
        Encounter.person_id == person_id, Encounter.institution_id == institution_id
    )
    return session.scalar(select(exists(stmt))) or False
