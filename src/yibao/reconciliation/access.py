"""Who reconciles with a hospital (对账): the hospital itself, the agencies (either kind) of
its region, which pay it and clear for it, and admins."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Forbidden
from yibao.reconciliation.models import Reconciliation
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin
from yibao.registry.models import Institution


def may_reconcile(session: Session, actor: Actor, institution: Institution) -> bool:
    if is_admin(actor):
        return True
    assert isinstance(actor, User)
    if actor.role == "hospital":
        return actor.institution_id == institution.id
    region = registry_access.desk_region(
        session, actor, registry_access.CENTER, registry_access.TREATMENT
    )
    return region == institution.region_code


def require_reconciler(session: Session, actor: Actor, institution: Institution) -> None:
    if not may_reconcile(session, actor, institution):
        raise Forbidden(
            "a hospital reconciles its own settlements, an agency those of its region's "
            "institutions",
            code="reconcile.forbidden",
        )


def reconciliation_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``Reconciliation`` for the rows ``actor`` may list."""
    if is_admin(actor):
        return true()
    assert isinstance(actor, User)
    if actor.role == "hospital":
        if actor.institution_id is None:
            return false()
        return Reconciliation.institution_id == actor.institution_id
    region = registry_access.desk_region(
        session, actor, registry_access.CENTER, registry_access.TREATMENT
    )
    if region is None:
        raise Forbidden("only hospitals, agencies and admins reconcile", code="reconcile.forbidden")
    institutions = select(Institution.id).where(Institution.region_code == region)
    return Reconciliation.institution_id.in_(institutions)
