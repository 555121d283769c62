"""Who sees claim-check findings (稽核结果): the centre of the checked person's insured
region, which reviews their claims and owes for their settlements, and admins. Findings
carry invoice numbers and other persons' ids: nobody else sees them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from yibao.claim_checks.models import AuditFinding
from yibao.errors import Forbidden
from yibao.registry import access as registry_access
from yibao.registry.access import Actor, is_admin
from yibao.registry.models import Person


def require_checker(session: Session, actor: Actor) -> None:
    """Running the checks and reading findings: a centre or an admin."""
    if not is_admin(actor) and registry_access.center_region(session, actor) is None:
        raise Forbidden(
            "claim checks are read by the insured region's centre", code="audit.forbidden"
        )


def visible_findings(
    session: Session, actor: Actor, rows: Sequence[AuditFinding]
) -> list[AuditFinding]:
    """The findings about persons insured in the actor's region (all for admins)."""
    require_checker(session, actor)
    if is_admin(actor):
        return list(rows)
    region = registry_access.center_region(session, actor)
    regions: dict[int, str | None] = {}
    out = []
    for row in rows:
        if row.person_id not in regions:
            person = session.get(Person, row.person_id)
            regions[row.person_id] = person.insured_region if person is not None else None
        if regions[row.person_id] == region:
            out.append(row)
    return out
