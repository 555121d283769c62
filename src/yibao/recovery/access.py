"""Who handles third-party recovery cases (第三方追偿): the insured region's centre, whose
fund paid in advance, and admins."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yibao.errors import Forbidden, NotFound
from yibao.recovery.models import RecoveryCase
from yibao.registry.access import Actor, center_region, is_admin


def case_region(session: Session, actor: Actor) -> str | None:
    """The insured region whose cases ``actor`` handles; None for admins (all regions)."""
    if is_admin(actor):
        return None
    region = center_region(session, actor)
    if region is None:
        raise Forbidden(
            "recovery cases are handled by the insured region's centre", code="recovery.forbidden"
        )
    return region


def readable_case(
    session: Session, actor: Actor, case: RecoveryCase | None, ref: int
) -> RecoveryCase:
    region = case_region(session, actor)
    if case is None or (region is not None and case.insured_region != region):
        raise NotFound(f"recovery case {ref} not found", code="recovery.not_found")
    return case
