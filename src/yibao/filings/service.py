"""Filing use cases (备案): apply, upload, stamp, submit, review, change, cancel, renew.

Services never commit: the caller's ``session_scope`` owns the transaction. Every state
change goes through the transition table (:mod:`yibao.filings.states`) and into the
audit log in the same transaction. ``today`` is passed in by the edge (the clock is
outside the system), so a filing's dates can be tested on any day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yibao.audit.service import record
from yibao.auth.models import User
from yibao.engine.models import FilingInfo
from yibao.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yibao.filings import repository as repo
from yibao.filings import rules
from yibao.filings.certificate import CATEGORY_NAMES
from yibao.filings.models import Filing, FilingDocument
from yibao.filings.policy import FilingPolicy, filing_policy_for
from yibao.filings.rules import HotlineApproval
from yibao.filings.states import (
    OPEN_STATES,
    FilingAction,
    FilingState,
    next_state,
)
from yibao.filings.states import stamp as stamp_transition
from yibao.identity import mask_identity_number
from yibao.registry.models import Person, Region
from yibao.uploads import store_upload

SUBMITTER_BY_ROLE = {
    "insured": "person",
    "unit": "unit",
    "street_office": "street_office",
    "agency": "agency",
    "admin": "agency",
}


# --- who may do what -------------------------------------------------------------------


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


def may_act_for(actor: User, person: Person) -> bool:
    """Applicants: the person, their unit, a street office or agency of their region."""
    role = actor.role
    if role == "admin":
        return True
    if role == "insured":
        return actor.person_id == person.id
    if role == "unit":
        return actor.unit_id is not None and actor.unit_id == person.unit_id
    if role in ("street_office", "agency"):
        return actor.region_code == person.insured_region
    return False


def may_view(actor: User, filing: Filing, person: Person) -> bool:
    if may_act_for(actor, person):
        return True
    return (
        actor.role == "hospital"
        and actor.institution_id is not None
        and actor.institution_id == filing.referral_hospital_id
    )


def _require_applicant(actor: User, person: Person) -> None:
    if not may_act_for(actor, person):
        raise Forbidden(
            "you may not act for this person", code="filing.forbidden", person_id=person.id
        )


def _require_reviewer(actor: User, filing: Filing) -> None:
    """Reviewers are the agency (medical insurance center) of the insured region."""
    if actor.role == "admin":
        return
    if actor.role != "agency" or actor.region_code != filing.insured_region:
        raise Forbidden(
            f"only a reviewer of the insured region {filing.insured_region} may review",
            code="filing.not_reviewer",
        )


def get_filing(session: Session, *, actor: User, filing_id: int) -> Filing:
    """The filing, when ``actor`` may see it (404 otherwise, so ids leak nothing)."""
    filing = repo.get(session, filing_id)
    if filing is None or not may_view(actor, filing, _person(session, filing.person_id)):
        raise NotFound(f"filing {filing_id} not found", code="filing.not_found")
    return filing


def list_filings(
    session: Session, *, actor: User, person_id: int | None = None, state: str | None = None
) -> list[Filing]:
    states = [state] if state else None
    if actor.role == "insured":
        return repo.list_filings(session, person_id=actor.person_id, states=states)
    if actor.role == "hospital":
        return repo.list_filings(
            session, referral_hospital_id=actor.institution_id or -1, states=states
        )
    if actor.role == "unit":
        rows = repo.list_filings(session, person_id=person_id, states=states, limit=1000)
        unit_persons = {
            f.person_id for f in rows if _person(session, f.person_id).unit_id == actor.unit_id
        }
        return [f for f in rows if f.person_id in unit_persons][:100]
    region = None if actor.role == "admin" else actor.region_code or "-"
    return repo.list_filings(session, person_id=person_id, insured_region=region, states=states)


def review_queue(session: Session, *, actor: User) -> list[Filing]:
    if actor.role not in ("agency", "admin"):
        raise Forbidden("only reviewers have a review queue", code="filing.not_reviewer")
    region = None if actor.role == "admin" else actor.region_code or "-"
    return repo.review_queue(session, insured_region=region)


# --- transitions -----------------------------------------------------------------------


def _move(session: Session, filing: Filing, action: FilingAction, actor: User | None) -> Any:
    """Check the table, then return the audit 'before' snapshot; the caller sets the state."""
    target = next_state(filing.state, action)
    before = filing.snapshot()
    filing.state = str(target)
    return before


def _audit(
    session: Session, filing: Filing, action: str, actor: User | str | None, before: Any
) -> None:
    session.flush()
    record(
        session,
        actor=actor,
        action=f"filing.{action}",
        entity="filing",
        entity_id=filing.id,
        before=before,
        after=filing.snapshot(),
    )


# --- applying --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingRequest:
    """What an applicant asks for; see :func:`create_filing`."""

    person_id: int
    category: str
    destination: str
    requested_start: date | None = None
    hospital_ids: Sequence[int] | None = None
    referral_hospital_id: int | None = None
    hotline_reference: str | None = None
    hotline_called_at: datetime | None = None
    treatment_start: date | None = None
    treatment_end: date | None = None


def _fail(problems: list[str], code: str, **extra: Any) -> None:
    if problems:
        raise ValidationFailed("; ".join(problems), code=code, problems=problems, **extra)


def _check_hospitals(
    session: Session,
    policy: FilingPolicy,
    category: str,
    destination: str,
    hospital_ids: Sequence[int] | None,
) -> list[int]:
    """Validated chosen hospital ids, or [] where the region needs no choice."""
    if not policy.hospital_choice.applies_to(category):
        if hospital_ids:
            raise ValidationFailed(
                f"{policy.name} does not use hospital choice for {category}: every networked"
                " hospital of the destination applies",
                code="filing.hospital_choice_not_used",
            )
        return []
    ids = list(hospital_ids or [])
    found = repo.institutions(session, ids)
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed(
            f"unknown institutions {unknown}", code="filing.hospital_choice_invalid"
        )
    problems = rules.hospital_choice_problems(
        [repo.facts(found[i]) for i in ids],
        destination=destination,
        max_count=policy.hospital_choice.max_count,
    )
    _fail(problems, "filing.hospital_choice_invalid")
    return ids


def create_filing(session: Session, *, actor: User, request: FilingRequest, today: date) -> Filing:
    """A new draft filing (填写申请). Documents are uploaded next, then it is submitted."""
    person = _person(session, request.person_id)
    _require_applicant(actor, person)
    if request.category not in rules.CATEGORIES:
        raise ValidationFailed(
            f"unknown category {request.category!r}; categories: {', '.join(rules.CATEGORIES)}",
            code="filing.category_unknown",
        )
    policy = filing_policy_for(person.insured_region)
    _fail(
        rules.destination_problems(request.destination, insured_region=person.insured_region),
        "filing.destination_invalid",
    )
    long_term = rules.is_long_term(request.category)
    existing = repo.competing(session, person_id=person.id, long_term=long_term, on=today)
    if existing:
        raise Conflict(
            f"the person already has {'a long-term' if long_term else 'a temporary'} filing"
            f" ({existing[0].number or existing[0].id}, {existing[0].state})",
            code="filing.duplicate",
            filing_id=existing[0].id,
        )
    hospital_ids = _check_hospitals(
        session, policy, request.category, request.destination, request.hospital_ids
    )
    filing = Filing(
        person_id=person.id,
        insured_region=person.insured_region,
        category=request.category,
        state=str(FilingState.DRAFT),
        destination=request.destination,
        requested_start=request.requested_start,
        submitted_via=SUBMITTER_BY_ROLE.get(actor.role, "agency"),
        created_by_user_id=actor.id,
        unit_id=actor.unit_id if actor.role == "unit" else None,
        agency_id=actor.agency_id if actor.role in ("street_office", "agency") else None,
        hospitals_chosen=bool(hospital_ids),
    )
    if request.category == "referral":
        if request.referral_hospital_id is None:
            raise ValidationFailed(
                "a referral names the hospital that issues the referral certificate",
                code="filing.referral_invalid",
            )
        issuing = repo.institutions(session, [request.referral_hospital_id]).get(
            request.referral_hospital_id
        )
        _fail(
            [
                p
                for p in rules.referral_problems(
                    issuing=repo.facts(issuing) if issuing else None,
                    insured_region=person.insured_region,
                    min_level=policy.referral_min_level,
                    stamped=True,
                )
            ],
            "filing.referral_invalid",
        )
        filing.referral_hospital_id = request.referral_hospital_id
        filing.referral_stamp = "unstamped"
    if request.category == "emergency":
        hotline = (
            HotlineApproval(request.hotline_reference, request.hotline_called_at)
            if request.hotline_reference and request.hotline_called_at
            else None
        )
        _fail(
            rules.retroactive_problems(
                hotline=hotline,
                treatment_start=request.treatment_start,
                treatment_end=request.treatment_end,
                today=today,
                max_days_after=policy.emergency_max_days_after,
            ),
            "filing.emergency_invalid",
        )
        filing.hotline_reference = request.hotline_reference
        filing.hotline_called_at = request.hotline_called_at
        filing.treatment_start = request.treatment_start
        filing.treatment_end = request.treatment_end
    session.add(filing)
    session.flush()
    if hospital_ids:
        repo.replace_hospitals(session, filing.id, hospital_ids)
    _audit(session, filing, "created", actor, None)
    return filing


def upload_document(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    doc_type: str,
    filename: str,
    content_type: str,
    data: bytes,
    upload_dir: Path,
    max_bytes: int,
) -> FilingDocument:
    """Store an uploaded document (PDF, JPEG or PNG, checked by content, size-limited)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_applicant(actor, _person(session, filing.person_id))
    if filing.state not in OPEN_STATES:
        raise Conflict(
            f"documents can only be added before the decision (state {filing.state})",
            code="filing.closed",
        )
    if doc_type not in rules.DOCUMENT_TYPES:
        raise ValidationFailed(
            f"unknown document type {doc_type!r}; types: {', '.join(rules.DOCUMENT_TYPES)}",
            code="upload.document_type_unknown",
        )
    stored = store_upload(
        upload_dir=upload_dir,
        folder=f"filings/{filing.id}",
        filename=filename,
        content_type=content_type,
        data=data,
        max_bytes=max_bytes,
    )
    doc = FilingDocument(
        filing_id=filing.id,
        doc_type=doc_type,
        filename=stored.filename,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_path=stored.storage_path,
        uploaded_by_user_id=actor.id,
    )
    session.add(doc)
    session.flush()
    record(
        session,
        actor=actor,
        action="filing.document_uploaded",
        entity="filing",
        entity_id=filing.id,
        before=None,
        after={"document_id": doc.id, "doc_type": doc_type, "size_bytes": len(data)},
    )
    return doc


def stamp_referral(session: Session, *, actor: User, filing_id: int, now: datetime) -> Filing:
    """The issuing hospital's social security window stamps the referral certificate."""
    filing = repo.get(session, filing_id)
    if filing is None:
        raise NotFound(f"filing {filing_id} not found", code="filing.not_found")
    if filing.category != "referral":
        raise ValidationFailed(
            "only a referral has a referral certificate", code="filing.not_referral"
        )
    if actor.role != "hospital" or actor.institution_id != filing.referral_hospital_id:
        raise Forbidden(
            "only the issuing hospital stamps its referral certificate",
            code="filing.not_issuing_hospital",
        )
    if filing.state not in OPEN_STATES:
        raise Conflict(f"the filing is already {filing.state}", code="filing.closed")
    before = filing.snapshot()
    filing.referral_stamp = str(stamp_transition(filing.referral_stamp or "unstamped"))
    filing.referral_stamped_at = now
    filing.referral_stamped_by_user_id = actor.id
    _audit(session, filing, "referral_stamped", actor, before)
    return filing


def _missing(session: Session, filing: Filing, policy: FilingPolicy) -> list[str]:
    present = [d.doc_type for d in repo.documents(session, filing.id)]
    return rules.missing_documents(
        policy.category(filing.category).documents,
        present,
        commitment_letter_allowed=policy.commitment_letter_replaces_residence_proof,
    )


def _check_complete(session: Session, filing: Filing) -> None:
    policy = filing_policy_for(filing.insured_region)
    missing = _missing(session, filing, policy)
    if missing:
        raise ValidationFailed(
            f"documents missing: {', '.join(missing)}",
            code="filing.documents_missing",
            missing=missing,
        )
    if filing.category == "referral" and filing.referral_stamp != "stamped":
        raise ValidationFailed(
            "the referral certificate is not stamped by the issuing hospital",
            code="filing.referral_unstamped",
        )


def _check_return_answered(session: Session, filing: Filing) -> None:
    """Each document listed in the return must have been uploaded since the return."""
    mark = filing.returned_after_document_id or 0
    fresh = {d.doc_type for d in repo.documents(session, filing.id) if d.id > mark}
    missing = [kind for kind in filing.missing_documents or [] if kind not in fresh]
    if missing:
        raise ValidationFailed(
            f"the return asked for: {', '.join(missing)}; upload them before resubmitting",
            code="filing.documents_missing",
            missing=missing,
        )


def submit_filing(session: Session, *, actor: User, filing_id: int, today: date) -> Filing:
    """Hand the filing to the agency: draft → submitted, returned → resubmitted."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_applicant(actor, _person(session, filing.person_id))
    action = FilingAction.RESUBMIT if filing.state == FilingState.RETURNED else FilingAction.SUBMIT
    next_state(filing.state, action)  # refuse illegal moves before checking documents
    _check_complete(session, filing)
    if action == FilingAction.RESUBMIT:
        _check_return_answered(session, filing)
    before = _move(session, filing, action, actor)
    filing.submitted_on = today
    _audit(session, filing, str(action), actor, before)
    return filing


def approve_filing(session: Session, *, actor: User, filing_id: int, today: date) -> Filing:
    """Approve (审批通过): number, validity from the start day, lock period."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_reviewer(actor, filing)
    next_state(filing.state, FilingAction.APPROVE)
    _check_complete(session, filing)
    policy = filing_policy_for(filing.insured_region)
    rule = policy.category(filing.category)
    before = _move(session, filing, FilingAction.APPROVE, actor)
    if filing.category == "emergency" and filing.treatment_start is not None:
        start, end = rules.retroactive_validity(
            treatment_start=filing.treatment_start,
            treatment_end=filing.treatment_end,
            validity_months=rule.validity_months,
        )
    else:
        start = max(today, filing.requested_start or today)
        end = rules.validity_end(start, rule.validity_months)
    filing.valid_from, filing.valid_to = start, end
    filing.locked_until = rules.lock_end(start, rule.lock_months)
    filing.reviewer_user_id, filing.decided_on = actor.id, today
    filing.missing_documents = None
    sequence = repo.last_sequence(session, region=filing.insured_region, year=today.year) + 1
    filing.number = rules.filing_number(filing.insured_region, today.year, sequence)
    _audit(session, filing, "approve", actor, before)
    return filing


def reject_filing(
    session: Session, *, actor: User, filing_id: int, reason: str, today: date
) -> Filing:
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_reviewer(actor, filing)
    if not reason.strip():
        raise ValidationFailed("a rejection needs a reason", code="filing.reason_required")
    before = _move(session, filing, FilingAction.REJECT, actor)
    filing.reject_reason = reason.strip()
    filing.reviewer_user_id, filing.decided_on = actor.id, today
    _audit(session, filing, "reject", actor, before)
    return filing


def return_filing(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    missing: Sequence[str],
    note: str | None,
    today: date,
) -> Filing:
    """Return for missing documents (退回补正), listing them; uploaded ones are kept."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_reviewer(actor, filing)
    unknown = [m for m in missing if m not in rules.DOCUMENT_TYPES]
    if not missing or unknown:
        raise ValidationFailed(
            "a return lists the missing documents by type"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            code="filing.missing_required",
            document_types=list(rules.DOCUMENT_TYPES),
        )
    before = _move(session, filing, FilingAction.RETURN, actor)
    filing.missing_documents = list(dict.fromkeys(missing))
    filing.returned_after_document_id = max(
        (d.id for d in repo.documents(session, filing.id)), default=0
    )
    filing.return_note = note
    filing.reviewer_user_id, filing.decided_on = actor.id, today
    _audit(session, filing, "return", actor, before)
    return filing


# --- after approval --------------------------------------------------------------------


def _refuse_if_locked(filing: Filing, today: date, what: str) -> None:
    if filing.locked_until is not None and today <= filing.locked_until:
        raise Conflict(
            f"a {filing.category} filing cannot be {what} before {filing.locked_until}"
            f" (lock period from {filing.valid_from})",
            code="filing.locked",
            locked_until=filing.locked_until.isoformat(),
        )


def _expire_if_due(session: Session, filing: Filing, today: date) -> None:
    if filing.state == FilingState.APPROVED and rules.is_expired(filing.valid_to, today):
        before = _move(session, filing, FilingAction.EXPIRE, None)
        _audit(session, filing, "expire", "system", before)


def change_filing(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    destination: str | None,
    hospital_ids: Sequence[int] | None,
    today: date,
) -> Filing:
    """Change destination or hospitals of an approved filing, outside the lock period."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    person = _person(session, filing.person_id)
    _require_applicant(actor, person)
    _expire_if_due(session, filing, today)
    next_state(filing.state, FilingAction.CHANGE)
    _refuse_if_locked(filing, today, "changed")
    policy = filing_policy_for(filing.insured_region)
    new_destination = destination or filing.destination
    _fail(
        rules.destination_problems(new_destination, insured_region=person.insured_region),
        "filing.destination_invalid",
    )
    if hospital_ids is None and policy.hospital_choice.applies_to(filing.category):
        hospital_ids = [h.id for h in repo.chosen_hospitals(session, filing.id)]
    ids = _check_hospitals(session, policy, filing.category, new_destination, hospital_ids)
    before = _move(session, filing, FilingAction.CHANGE, actor)
    filing.destination = new_destination
    repo.replace_hospitals(session, filing.id, ids)
    filing.hospitals_chosen = bool(ids)
    _audit(session, filing, "change", actor, before)
    return filing


def cancel_filing(
    session: Session, *, actor: User, filing_id: int, reason: str | None, today: date
) -> Filing:
    """Cancel (注销): the filing still covers ``today``; local use works from the next day."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    _require_applicant(actor, _person(session, filing.person_id))
    _expire_if_due(session, filing, today)
    next_state(filing.state, FilingAction.CANCEL)
    _refuse_if_locked(filing, today, "cancelled")
    before = _move(session, filing, FilingAction.CANCEL, actor)
    filing.cancelled_on = today
    filing.cancel_reason = reason
    end = rules.cancellation_end(today)
    if filing.valid_to is None or filing.valid_to > end:
        filing.valid_to = end
    _audit(session, filing, "cancel", actor, before)
    return filing


def expire_filings(session: Session, *, today: date) -> list[Filing]:
    """Mark approved filings past their validity as expired (a daily job)."""
    expired = repo.expiring(session, today=today)
    for filing in expired:
        _expire_if_due(session, filing, today)
    return expired


def renew_filing(session: Session, *, actor: User, filing_id: int, today: date) -> Filing:
    """Re-apply after expiry (重新备案): a new draft with the same category, destination,
    hospitals and documents, to be reviewed again."""
    old = get_filing(session, actor=actor, filing_id=filing_id)
    _require_applicant(actor, _person(session, old.person_id))
    _expire_if_due(session, old, today)
    if old.state != FilingState.EXPIRED:
        raise Conflict(
            f"only an expired filing is renewed; this one is {old.state}"
            + (f" until {old.valid_to}" if old.valid_to else ""),
            code="filing.not_expired",
        )
    hospitals = [h.id for h in repo.chosen_hospitals(session, old.id)]
    new = create_filing(
        session,
        actor=actor,
        request=FilingRequest(
            person_id=old.person_id,
            category=old.category,
            destination=old.destination,
            hospital_ids=hospitals or None,
            referral_hospital_id=old.referral_hospital_id,
            hotline_reference=old.hotline_reference,
            hotline_called_at=old.hotline_called_at,
            treatment_start=old.treatment_start,
            treatment_end=old.treatment_end,
        ),
        today=today,
    )
    new.renews_filing_id = old.id
    for doc in repo.documents(session, old.id):
        if doc.doc_type == rules.REFERRAL_CERTIFICATE:
            continue  # a referral needs a new, newly stamped certificate
        session.add(
            FilingDocument(
                filing_id=new.id,
                doc_type=doc.doc_type,
                filename=doc.filename,
                content_type=doc.content_type,
                size_bytes=doc.size_bytes,
                sha256=doc.sha256,
                storage_path=doc.storage_path,
                uploaded_by_user_id=doc.uploaded_by_user_id,
            )
        )
    session.flush()
    return new


# --- views -----------------------------------------------------------------------------


def missing_documents(session: Session, *, filing: Filing) -> list[str]:
    return _missing(session, filing, filing_policy_for(filing.insured_region))


def applicable_hospitals(session: Session, *, filing: Filing) -> list[Any]:
    """Chosen hospitals, or every designated networked hospital of the destination."""
    if filing.hospitals_chosen:
        return repo.chosen_hospitals(session, filing.id)
    candidates = repo.hospitals_in(session, filing.destination)
    ids = set(
        rules.networked_hospitals(map(repo.facts, candidates), destination=filing.destination)
    )
    return [h for h in candidates if h.id in ids]


def _region_name(session: Session, code: str) -> str:
    region = session.get(Region, code)
    return region.name if region is not None else code


def certificate(session: Session, *, actor: User, filing_id: int) -> dict[str, Any]:
    """The filing certificate (备案凭证) as JSON, for someone who may see the filing."""
    return certificate_data(session, filing=get_filing(session, actor=actor, filing_id=filing_id))


def certificate_data(session: Session, *, filing: Filing) -> dict[str, Any]:
    """The certificate of an approved filing; names stay in Chinese."""
    if filing.number is None or filing.valid_from is None:
        raise Conflict(
            f"a certificate exists once the filing is approved (state {filing.state})",
            code="filing.not_approved",
        )
    person = _person(session, filing.person_id)
    hospitals = applicable_hospitals(session, filing=filing)
    zh, en = CATEGORY_NAMES[filing.category]
    cert: dict[str, Any] = {
        "filing_number": filing.number,
        "state": filing.state,
        "category": filing.category,
        "category_name": zh,
        "category_label": en,
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
    }
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


# --- for settlement ----------------------------------------------------------------------


def _applies_at(session: Session, filing: Filing, institution_id: int | None) -> bool:
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
        if not _applies_at(session, filing, institution_id):
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
    """Whether a long-term filing (resettled, long-term resident, posted) covers ``on``."""
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
    if not may_act_for(actor, person):
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


def now_utc() -> datetime:
    return datetime.now(UTC)
