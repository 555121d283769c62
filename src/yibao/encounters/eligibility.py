"""Eligibility at the window (参保资格核验): may this person be settled directly at this
institution on this day, and as what off-site status?

The same conditions that registering and settling an encounter check, asked before any
encounter exists: the institution is designated (定点); off-site, it is networked for
direct settlement (联网); at home, the card is not suspended by a long-term filing
(seed 001). The off-site status is the engine's own (:func:`yibao.engine.offsite_status`)
for a claim on that day, with the filing that applies there
(:func:`yibao.filings.coverage.filing_info_for`, as the window shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from yibao.engine import Claim, FilingInfo, offsite_status
from yibao.errors import Forbidden
from yibao.filings.coverage import filing_info_for, local_use_suspended
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.registry.access import Actor
from yibao.registry.models import Institution, Person
from yibao.settlements.inputs import institution_info, person_info


@dataclass(frozen=True, slots=True)
class Eligibility:
    person: Person
    institution: Institution
    on: date
    covered: bool
    # covered | not_designated | not_networked | local_use_suspended
    code: str
    reason: str
    offsite_status: str  # local | long_term | temporary | unfiled (the engine's)
    offsite_reason: str
    filing: FilingInfo | None  # the filing that applies in the institution's region
    filing_covers_institution: bool  # ... and at this institution (chosen hospitals)


def check_eligibility(
    session: Session,
    *,
    actor: Actor,
    person: Person,
    institution_id: int,
    on: date,
    local_use_while_filed: bool | None = None,
) -> Eligibility:
    """Whether ``person`` is covered for direct settlement at the institution on ``on``.

    The caller found ``person`` through the registry's own checks (a hospital holding the
    patient's document may look anyone up). A hospital or pharmacy asks only for itself.
    """
    own = registry_access.own_institution(actor)
    if own is not None and own != institution_id:
        raise Forbidden(
            "a hospital checks eligibility at its own institution only",
            code="eligibility.other_institution",
        )
    institution = registry.get_institution(session, institution_id=institution_id)
    local = person.insured_region == institution.region_code
    filing = filing_info_for(
        session, person_id=person.id, on=on, treatment_region=institution.region_code
    )
    covers = filing is not None and (
        filing_info_for(
            session,
            person_id=person.id,
            on=on,
            treatment_region=institution.region_code,
            institution_id=institution.id,
        )
        is not None
    )
    claim = Claim(
        claim_id="eligibility",
        date=on,
        setting="outpatient",
        person=person_info(person),
        institution=institution_info(institution),
        lines=(),
        filing=filing,
    )
    status, status_reason = offsite_status(claim)
    code, reason = "covered", f"covered for direct settlement at {institution.name} ({status})"
    if not institution.designated:
        code, reason = "not_designated", f"{institution.name} is not designated (定点)"
    elif not local and not institution.networked:
        code, reason = (
            "not_networked",
            f"{institution.name} is not networked for off-site direct settlement; "
            "the patient pays in full and claims manual reimbursement",
        )
    elif local and local_use_suspended(
        session, person_id=person.id, on=on, local_use_while_filed=local_use_while_filed
    ):
        code, reason = (
            "local_use_suspended",
            "the card is suspended at home while a long-term off-site filing applies",
        )
    return Eligibility(
        person=person,
        institution=institution,
        on=on,
        covered=code == "covered",
        code=code,
        reason=reason,
        offsite_status=status,
        offsite_reason=status_reason,
        filing=filing,
        filing_covers_institution=covers,
    )
