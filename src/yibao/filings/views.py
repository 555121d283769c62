"""The read side of filings (备案): what a caller sees of a filing, and what is still
owed before it can be reviewed.

The filing a caller may see, what it still lacks (one definition of the missing
documents and of the hospitals still to stamp, used by the use cases in
:mod:`yibao.filings.service` and by every answer), its state as of a day, the routes the
caller may call on it, the hospitals where it applies, the certificate (备案凭证) and the
check of a presented certificate by a hospital. Reads never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import Conflict, NotFound
from yibao.filings import access, rules
from yibao.filings import repository as repo
from yibao.filings.certificate import verification_code, verification_code_matches
from yibao.filings.models import Filing, FilingHospital
from yibao.filings.policy import filing_policy_for
from yibao.filings.states import FilingState
from yibao.identity import mask_identity_number
from yibao.registry.models import Institution, Person, Region

# --- the filing a caller may see ----------------------------------------------------------


def person_of_filing(session: Session, person_id: int) -> Person:
    """The filing's person (the filing was already authorised)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


def get_filing(session: Session, *, actor: User, filing_id: int) -> Filing:
    """The filing, when ``actor`` may see it (404 otherwise, so ids leak nothing)."""
    filing = repo.get(session, filing_id)
    if filing is None or not access.may_view(session, actor, filing):
        raise NotFound(f"filing {filing_id} not found", code="filing.not_found")
    return filing


# --- what is still owed ------------------------------------------------------------------


def needs_hospital_stamps(filing: Filing) -> bool:
    return filing.hospitals_chosen and filing_policy_for(
        filing.insured_region
    ).needs_hospital_stamps(filing.category)


def hospitals_to_stamp(session: Session, *, filing: Filing) -> list[Institution]:
    """The chosen hospitals that still owe their stamp, in the order chosen ([] where the
    region asks for none)."""
    if not needs_hospital_stamps(filing):
        return []
    owing = {
        row.institution_id for row in repo.chosen_rows(session, filing.id) if not row.stamped_at
    }
    return [h for h in repo.chosen_hospitals(session, filing.id) if h.id in owing]


def hospital_stamps(session: Session, *, filing: Filing) -> dict[int, FilingHospital]:
    """The chosen hospitals' rows (their stamps), by institution id."""
    return {row.institution_id: row for row in repo.chosen_rows(session, filing.id)}


def missing_documents(
    session: Session, *, filing: Filing, category: str | None = None
) -> list[str]:
    """What the filing still lacks: the one definition (:func:`rules.documents_still_missing`)
    behind submission, approval and both fields of the answer. ``category``: as if the filing
    were of that category (a change of category)."""
    policy = filing_policy_for(filing.insured_region)
    returned = filing.state == FilingState.RETURNED
    return rules.documents_still_missing(
        policy.category(category or filing.category).documents,
        [(d.id, d.doc_type) for d in repo.documents(session, filing.id)],
        commitment_letter_allowed=policy.commitment_letter_replaces_residence_proof,
        returned_for=(filing.missing_documents or []) if returned else (),
        returned_after_id=filing.returned_after_document_id or 0,
    )


# --- as of a day ----------------------------------------------------------------------


def local_use_from(filing: Filing, today: date | None = None) -> date | None:
    """The day the card works at home again after this filing ended (None while it runs);
    with ``today``, an approved filing past its validity counts as expired."""
    state = current_state(filing, today) if today is not None else filing.state
    return rules.local_use_from(
        state=state, cancelled_on=filing.cancelled_on, valid_to=filing.valid_to
    )


def applicable_hospitals(session: Session, *, filing: Filing) -> list[Institution]:
    """Chosen hospitals, or every designated networked hospital of the destination."""
    if filing.hospitals_chosen:
        return repo.chosen_hospitals(session, filing.id)
    candidates = repo.hospitals_in(session, filing.destination)
    ids = set(
        rules.networked_hospitals(map(repo.facts, candidates), destination=filing.destination)
    )
    return [h for h in candidates if h.id in ids]


def current_state(filing: Filing, today: date) -> str:
    """The filing's state as of ``today``: an approved filing past its last valid day reads
    as expired before the daily job has marked it (a read never writes)."""
    if filing.state == FilingState.APPROVED and rules.is_expired(filing.valid_to, today):
        return str(FilingState.EXPIRED)
    return filing.state


def referral_unstamped(filing: Filing) -> bool:
    """A referral whose certificate the issuing hospital has not stamped yet."""
    return filing.category == "referral" and filing.referral_stamp != "stamped"


def allowed_actions(session: Session, *, actor: User, filing: Filing, today: date) -> list[str]:
    """The routes ``actor`` may call on ``filing`` now (see
    :func:`yibao.filings.access.permitted_actions`); ``submit`` only once the filing holds
    what the review needs (every document, the referral's stamp and every chosen hospital's
    stamp: what :func:`yibao.filings.service.submit_filing` checks), so that it succeeds."""
    owing = hospitals_to_stamp(session, filing=filing)
    names = access.permitted_actions(
        session,
        actor,
        filing,
        today=today,
        to_stamp=[h.id for h in owing],
        state=current_state(filing, today),
    )
    if "submit" in names and (
        owing or referral_unstamped(filing) or missing_documents(session, filing=filing)
    ):
        names.remove("submit")
    return names


def _region_name(session: Session, code: str) -> str:
    region = session.get(Region, code)
    return region.name if region is not None else code


def certificate(
    session: Session, *, actor: User, filing_id: int, secret: str | None = None
) -> dict[str, Any]:
    """The filing certificate (备案凭证) as JSON, for someone who may see the filing."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    return certificate_data(session, filing=filing, secret=secret)


def certificate_data(
    session: Session, *, filing: Filing, secret: str | None = None
) -> dict[str, Any]:
    """The certificate of an approved filing; names stay in Chinese. With the platform's
    ``secret`` it carries its verification code (验证码)."""
    if filing.number is None or filing.valid_from is None:
        raise Conflict(
            f"a certificate exists once the filing is approved (state {filing.state})",
            code="filing.not_approved",
        )
    person = person_of_filing(session, filing.person_id)
    hospitals = applicable_hospitals(session, filing=filing)
    back = local_use_from(filing)
    cert: dict[str, Any] = {
        "filing_number": filing.number,
        "state": filing.state,
        "category": filing.category,
        "category_name": rules.category_name(filing.category),
        "category_label": rules.CATEGORY_NAMES[filing.category][1],
        "person": {
            "id": person.id,
            "name": person.name,
            "identity_number_masked": mask_identity_number(person.identity_number),
        },
        "insured_region": {
            "code": filing.insured_region,
            "name": _region_name(session, filing.insured_region),
        },
        "destination": {
            "code": filing.destination,
            "name": _region_name(session, filing.destination),
        },
        "valid_from": filing.valid_from.isoformat(),
        "valid_to": filing.valid_to.isoformat() if filing.valid_to else None,
        "approved_on": filing.decided_on.isoformat() if filing.decided_on else None,
        "all_networked_hospitals": not filing.hospitals_chosen,
        "hospitals": [
            {"id": h.id, "code": h.code, "name": h.name, "level": h.level} for h in hospitals
        ],
        "cancelled_on": filing.cancelled_on.isoformat() if filing.cancelled_on else None,
        "local_use_from": back.isoformat() if back else None,
    }
    if secret is not None:
        cert["verification_code"] = verification_code(filing.number, secret)
    if filing.hotline_reference:
        cert["hotline"] = {
            "reference": filing.hotline_reference,
            "called_at": filing.hotline_called_at.isoformat() if filing.hotline_called_at else None,
        }
        cert["treatment"] = {
            "start": filing.treatment_start.isoformat() if filing.treatment_start else None,
            "end": filing.treatment_end.isoformat() if filing.treatment_end else None,
        }
    return cert


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """What a hospital learns by checking a presented certificate (验证备案凭证): whether
    it is valid today, for whom (masked), where, until when, and whether it covers the
    asking hospital. An unknown number or a wrong code answers ``valid=False`` and nothing
    else."""

    valid: bool
    reason: str
    checked_on: date
    filing_number: str | None = None
    state: str | None = None
    category: str | None = None
    category_name: str | None = None
    person_name: str | None = None
    identity_number_masked: str | None = None
    insured_region: str | None = None
    destination: str | None = None
    destination_name: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    cancelled_on: date | None = None
    local_use_from: date | None = None
    all_networked_hospitals: bool | None = None
    covers_your_hospital: bool | None = None


def verify_certificate(
    session: Session, *, actor: User, number: str, code: str, secret: str, today: date
) -> CertificateCheck:
    """Check a presented certificate by its number and verification code."""
    access.require_verifier(actor)
    number = number.strip().upper()
    filing = repo.get_by_number(session, number) if rules.parse_filing_number(number) else None
    if filing is None or not verification_code_matches(number, code, secret):
        return CertificateCheck(
            valid=False,
            reason="no filing certificate has this number and verification code",
            checked_on=today,
        )
    assert filing.valid_from is not None
    state = current_state(filing, today)
    back = rules.local_use_from(
        state=state, cancelled_on=filing.cancelled_on, valid_to=filing.valid_to
    )
    if state != FilingState.APPROVED:
        reason = f"the filing is {state}" + (
            f"; the card works at home again from {back}" if back else ""
        )
    elif today < filing.valid_from:
        reason = f"the filing applies from {filing.valid_from}"
    else:
        reason = "the filing applies today"
    valid = state == FilingState.APPROVED and filing.valid_from <= today
    covers: bool | None = None
    institution = actor.institution_id if actor.role == "hospital" else None
    if institution is not None:
        covers = any(h.id == institution for h in applicable_hospitals(session, filing=filing))
    person = person_of_filing(session, filing.person_id)
    return CertificateCheck(
        valid=valid,
        reason=reason,
        checked_on=today,
        filing_number=filing.number,
        state=state,
        category=filing.category,
        category_name=rules.category_name(filing.category),
        person_name=rules.mask_name(person.name),
        identity_number_masked=mask_identity_number(person.identity_number),
        insured_region=filing.insured_region,
        destination=filing.destination,
        destination_name=_region_name(session, filing.destination),
        valid_from=filing.valid_from,
        valid_to=filing.valid_to,
        cancelled_on=filing.cancelled_on,
        local_use_from=back,
        all_networked_hospitals=not filing.hospitals_chosen,
        covers_your_hospital=covers,
    )
