"""What a filing covers, for the settlement engine and for the card at home.

The settlement side asks: which filing applies to a person on a day in a region (and at a
hospital), whether a long-term filing applies, and whether the card is suspended at home
(seed 001). A cancelled or expired filing still answers for the days it covered; after a
cancellation the card works at home again from the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.engine.models import FilingInfo
from yibao.errors import NotFound
from yibao.filings import repository as repo
from yibao.filings import rules
from yibao.filings.models import Filing
from yibao.filings.policy import filing_policy_for
from yibao.registry import access as registry_access
from yibao.registry import service as registry_service
from yibao.registry.models import Person


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


def applies_at(session: Session, filing: Filing, institution_id: int | None) -> bool:
    """A filing limited to chosen hospitals applies only there; otherwise everywhere in
    its destination."""
    if institution_id is None or not filing.hospitals_chosen:
        return True
    return any(h.id == institution_id for h in repo.chosen_hospitals(session, filing.id))


def filing_info_for(
    session: Session,
    *,
    person_id: int,
    on: date,
    treatment_region: str,
    institution_id: int | None = None,
) -> FilingInfo | None:
    """The engine's :class:`FilingInfo` of the filing that applies on ``on`` in
    ``treatment_region`` (long-term before temporary), or None (unfiled).

    With ``institution_id``, a filing limited to chosen hospitals applies only there.
    """
    for filing in repo.applying(session, person_id=person_id, on=on):
        if not rules.Destination(filing.destination).covers(treatment_region):
            continue
        if not applies_at(session, filing, institution_id):
            continue
        assert filing.valid_from is not None
        return FilingInfo(
            type=filing.category,
            destination=filing.destination,
            valid_from=filing.valid_from,
            valid_to=filing.valid_to,
        )
    return None


def has_valid_long_term_filing(session: Session, *, person_id: int, on: date) -> bool:
    """Whether a long-term filing (resettled, long-term resident, posted, minor with
    parents, mother after childbirth) covers ``on``."""
    return any(
        rules.is_long_term(f.category) for f in repo.applying(session, person_id=person_id, on=on)
    )


def local_use_suspended(
    session: Session, *, person_id: int, on: date, local_use_while_filed: bool | None = None
) -> bool:
    """Whether the card is suspended at home on ``on`` (seed 001) while a long-term filing
    applies. The insured region's filing rules decide; ``local_use_while_filed`` (the
    platform setting) is the fallback for a region whose rules do not say."""
    person = _person(session, person_id)
    rule = filing_policy_for(person.insured_region).local_use_while_filed
    if rule is None:
        allowed = True if local_use_while_filed is None else local_use_while_filed
    else:
        allowed = rule == "allowed"
    return not allowed and has_valid_long_term_filing(session, person_id=person_id, on=on)


@dataclass(frozen=True, slots=True)
class LocalUse:
    """Whether a person's card works at home on a day, and the filing that decides it."""

    person_id: int
    on: date
    local_use_suspended: bool
    long_term_filing: bool
    filing_type: str | None
    destination: str | None


def local_use_for(
    session: Session,
    *,
    actor: User,
    person_id: int,
    on: date,
    local_use_while_filed: bool | None = None,
) -> LocalUse:
    """:func:`local_use_suspended` for a person the actor may act for (else not found)."""
    person = _person(session, person_id)
    if not registry_access.may_act_for(session, actor, person):
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    filings = repo.applying(session, person_id=person_id, on=on)
    first = filings[0] if filings else None
    return LocalUse(
        person_id=person_id,
        on=on,
        local_use_suspended=local_use_suspended(
            session, person_id=person_id, on=on, local_use_while_filed=local_use_while_filed
        ),
        long_term_filing=has_valid_long_term_filing(session, person_id=person_id, on=on),
        filing_type=first.category if first else None,
        destination=first.destination if first else None,
    )


def filings_in_force(
    session: Session, *, actor: User | str, person: Person, on: date
) -> list[tuple[FilingInfo, bool | None]]:
    """The filings in force on ``on`` that ``actor`` may know of, each with whether it
    applies at the actor's own hospital (None when the actor is no hospital).

    A hospital learns what its window shows (the filing that applies in its region, and
    whether it covers this hospital); the person, their unit, the desks of the insured
    region and admins (who may act for the person) every filing in force, long-term
    first; anyone else nothing. The caller has already checked that ``actor`` may see
    ``person`` (:func:`yibao.registry.access.visible_person`).
    """
    if not isinstance(actor, str) and actor.role == "hospital":
        institution_id = registry_access.institution_of(actor)
        institution = registry_service.get_institution(session, institution_id=institution_id)
        here = filing_info_for(
            session, person_id=person.id, on=on, treatment_region=institution.region_code
        )
        if here is None:
            return []
        covers = (
            filing_info_for(
                session,
                person_id=person.id,
                on=on,
                treatment_region=institution.region_code,
                institution_id=institution_id,
            )
            is not None
        )
        return [(here, covers)]
    if not registry_access.may_act_for(session, actor, person):
        return []
    return [
        (
            FilingInfo(
                type=filing.category,
                destination=filing.destination,
                valid_from=filing.valid_from,
                valid_to=filing.valid_to,
            ),
            None,
        )
        for filing in repo.applying(session, person_id=person.id, on=on)
        if filing.valid_from is not None
    ]
