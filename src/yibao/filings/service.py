"""Filing use cases (备案): apply, upload, stamp, submit, review, withdraw, change,
correct, cancel, renew.

Services never commit: the caller's ``session_scope`` owns the transaction. Every state
change goes through the transition table (:mod:`yibao.filings.states`) and into the
audit log in the same transaction. ``today`` is passed in by the edge (the clock is
outside the system), so a filing's dates can be tested on any day. What a caller sees
(the read side: still missing, allowed actions, certificate and its verification) is
:mod:`yibao.filings.views`, what a filing covers for settlement
:mod:`yibao.filings.coverage` (its functions, ``get_filing``, ``certificate`` and
``certificate_data`` are re-exported here for their callers elsewhere).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yibao.audit.service import query as audit_query
from yibao.audit.service import record
from yibao.auth.models import User
from yibao.documents import service as documents
from yibao.documents.kinds import DocumentKind
from yibao.documents.models import Document, DocumentOwner
from yibao.errors import Conflict, NotFound, ValidationFailed
from yibao.filings import access, rules
from yibao.filings import repository as repo
from yibao.filings.coverage import LocalUse as LocalUse
from yibao.filings.coverage import filing_info_for as filing_info_for
from yibao.filings.coverage import has_valid_long_term_filing as has_valid_long_term_filing
from yibao.filings.coverage import local_use_for as local_use_for
from yibao.filings.coverage import local_use_suspended as local_use_suspended
from yibao.filings.letters import Contact, application_form_pdf, commitment_letter_pdf
from yibao.filings.models import Filing
from yibao.filings.policy import FilingPolicy, filing_policy_for
from yibao.filings.rules import HotlineApproval
from yibao.filings.states import (
    OPEN_STATES,
    FilingAction,
    FilingState,
    hospital_stamp,
    next_state,
)
from yibao.filings.states import stamp as stamp_transition
from yibao.filings.views import certificate as certificate
from yibao.filings.views import certificate_data as certificate_data
from yibao.filings.views import get_filing as get_filing
from yibao.filings.views import (
    hospitals_to_stamp,
    missing_documents,
    needs_hospital_stamps,
    referral_unstamped,
)
from yibao.filings.views import person_of_filing as _person
from yibao.identity import mask_identity_number
from yibao.registry.models import Institution, Person, Region

SUBMITTER_BY_ROLE = {
    "insured": "person",
    "unit": "unit",
    "street_office": "street_office",
    "agency": "agency",
    "admin": "agency",
}


# --- who may do what -------------------------------------------------------------------


def list_filings(
    session: Session, *, actor: User, person_id: int | None = None, state: str | None = None
) -> list[Filing]:
    """The filings ``actor`` may see (see :mod:`yibao.filings.access`), newest first."""
    return repo.list_filings(
        session,
        where=access.filing_scope(session, actor),
        person_id=person_id,
        states=[state] if state else None,
    )


def review_queue(session: Session, *, actor: User) -> list[Filing]:
    return repo.review_queue(session, insured_region=access.review_region(session, actor))


# --- transitions -----------------------------------------------------------------------


def _move(session: Session, filing: Filing, action: FilingAction, actor: User | None) -> Any:
    """Check the table, then return the audit 'before' snapshot; the caller sets the state."""
    target = next_state(filing.state, action)
    before = filing.snapshot()
    filing.state = str(target)
    return before


def _audit(
    session: Session,
    filing: Filing,
    action: str,
    actor: User | str | None,
    before: Any,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """One audit row: the snapshot before and after, and ``extra`` (a reason, a hospital)."""
    session.flush()
    record(
        session,
        actor=actor,
        action=f"filing.{action}",
        entity="filing",
        entity_id=filing.id,
        before=before,
        after={**filing.snapshot(), **(extra or {})},
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


def person_facts(person: Person, on: date) -> rules.PersonFacts:
    return rules.PersonFacts(
        scheme=person.scheme,
        person_type=person.person_type,
        age=rules.age_on(person.birth_date, on),
        sex=person.sex,
        employed_by_unit=person.unit_id is not None,
    )


def _check_category_fits(policy: FilingPolicy, category: str, person: Person, on: date) -> None:
    """The region offers the category and the person fits it (422 naming the reason)."""
    if not policy.offers(category):
        raise ValidationFailed(
            f"{policy.name} does not offer {category}; it offers {', '.join(policy.categories)}",
            code="filing.category_not_offered",
            offered=list(policy.categories),
        )
    fit = policy.category(category).fits.as_rule()
    _fail(
        rules.category_fit_problems(category, fit, person_facts(person, on)),
        "filing.category_unfit",
        category=category,
    )


def create_filing(session: Session, *, actor: User, request: FilingRequest, today: date) -> Filing:
    """A new draft filing (填写申请). Documents are uploaded next, then it is submitted."""
    person = _person(session, request.person_id)
    access.require_applicant(session, actor, person)
    if request.category not in rules.CATEGORIES:
        raise ValidationFailed(
            f"unknown category {request.category!r}; categories: {', '.join(rules.CATEGORIES)}",
            code="filing.category_unknown",
        )
    policy = filing_policy_for(person.insured_region)
    _check_category_fits(policy, request.category, person, today)
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
    session: Session, *, actor: User, filing_id: int, upload: documents.Upload
) -> Document:
    """Store an uploaded document (PDF, JPEG or PNG, checked by content, size-limited)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_applicant(session, actor, filing)
    if filing.state not in OPEN_STATES:
        raise Conflict(
            f"documents can only be added before the decision (state {filing.state})",
            code="filing.closed",
        )
    return documents.add_document(
        session, owner=DocumentOwner.filing(filing.id), upload=upload, actor=actor
    )


def stamp_referral(session: Session, *, actor: User, filing_id: int, now: datetime) -> Filing:
    """The issuing hospital's social security window stamps the referral certificate."""
    filing = repo.get(session, filing_id)
    if filing is None:
        raise NotFound(f"filing {filing_id} not found", code="filing.not_found")
    if filing.category != "referral":
        raise ValidationFailed(
            "only a referral has a referral certificate", code="filing.not_referral"
        )
    access.require_issuing_hospital(actor, filing)
    if filing.state not in OPEN_STATES:
        raise Conflict(f"the filing is already {filing.state}", code="filing.closed")
    before = filing.snapshot()
    filing.referral_stamp = str(stamp_transition(filing.referral_stamp or "unstamped"))
    filing.referral_stamped_at = now
    filing.referral_stamped_by_user_id = actor.id
    _audit(session, filing, "referral_stamped", actor, before)
    return filing


def stamp_hospital(session: Session, *, actor: User, filing_id: int, now: datetime) -> Filing:
    """A chosen hospital's medical insurance office stamps the resettlement form (seed 000:
    医保办盖章), each for itself and once, where the region requires it."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    if not needs_hospital_stamps(filing):
        raise ValidationFailed(
            f"{filing_policy_for(filing.insured_region).name} does not ask the chosen"
            f" hospitals to stamp a {filing.category} filing",
            code="filing.stamp_not_required",
        )
    rows = {row.institution_id: row for row in repo.chosen_rows(session, filing.id)}
    institution_id = access.require_chosen_hospital(actor, rows)
    if filing.state not in access.STAMPABLE_STATES:
        raise Conflict(f"the filing is already {filing.state}", code="filing.closed")
    row = rows[institution_id]
    hospital_stamp(row.stamp_state)  # once per hospital: 409 listing no moves
    before = filing.snapshot()
    row.stamped_at, row.stamped_by_user_id = now, actor.id
    _audit(session, filing, "hospital_stamped", actor, before, {"institution_id": institution_id})
    return filing


def _check_complete(session: Session, filing: Filing) -> None:
    """Documents, the referral stamp and the chosen hospitals' stamps, before a review."""
    missing = missing_documents(session, filing=filing)
    if missing:
        asked = filing.state == FilingState.RETURNED and filing.missing_documents
        raise ValidationFailed(
            f"documents missing: {', '.join(missing)}"
            + ("; upload what the return asked for before resubmitting" if asked else ""),
            code="filing.documents_missing",
            missing=missing,
        )
    if referral_unstamped(filing):
        raise ValidationFailed(
            "the referral certificate is not stamped by the issuing hospital",
            code="filing.referral_unstamped",
        )
    owing = hospitals_to_stamp(session, filing=filing)
    if owing:
        raise ValidationFailed(
            "the form is not yet stamped by the medical insurance office of: "
            + ", ".join(f"{h.name} ({h.code})" for h in owing),
            code="filing.hospital_stamps_missing",
            hospitals=[{"id": h.id, "code": h.code, "name": h.name} for h in owing],
        )


def submit_filing(session: Session, *, actor: User, filing_id: int, today: date) -> Filing:
    """Hand the filing to the agency: draft → submitted, returned → resubmitted."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_applicant(session, actor, filing)
    action = FilingAction.RESUBMIT if filing.state == FilingState.RETURNED else FilingAction.SUBMIT
    next_state(filing.state, action)  # refuse illegal moves before checking documents
    _check_complete(session, filing)
    before = _move(session, filing, action, actor)
    filing.submitted_on = today
    _audit(session, filing, str(action), actor, before)
    return filing


def withdraw_filing(
    session: Session, *, actor: User, filing_id: int, reason: str | None, today: date
) -> Filing:
    """Withdraw an application before its decision (撤回): a mistake undone. The filing is
    kept (``withdrawn``, final) for the history and no longer blocks a new one."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_applicant(session, actor, filing)
    before = _move(session, filing, FilingAction.WITHDRAW, actor)
    filing.withdrawn_on = today
    _audit(session, filing, "withdraw", actor, before, {"reason": reason})
    return filing


def approve_filing(session: Session, *, actor: User, filing_id: int, today: date) -> Filing:
    """Approve (审批通过): number, validity from the start day, lock period."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_reviewer(session, actor, filing)
    access.require_second_person(actor, filing)
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
    access.require_reviewer(session, actor, filing)
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
    access.require_reviewer(session, actor, filing)
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


def _refuse_if_locked(filing: Filing, today: date) -> None:
    """The lock period limits changes (seed 000: not changed within the year); cancelling
    is always possible and the centre corrects with a reason (``correct``)."""
    if filing.locked_until is not None and today <= filing.locked_until:
        raise Conflict(
            f"a {filing.category} filing cannot be changed before {filing.locked_until}"
            f" (lock period from {filing.valid_from}); it can be cancelled at any time, and"
            " the centre of the insured region corrects a mistake with a reason",
            code="filing.locked",
            locked_until=filing.locked_until.isoformat(),
        )


def _expire_if_due(session: Session, filing: Filing, today: date) -> None:
    if filing.state == FilingState.APPROVED and rules.is_expired(filing.valid_to, today):
        before = _move(session, filing, FilingAction.EXPIRE, None)
        _audit(session, filing, "expire", "system", before)


@dataclass(frozen=True, slots=True)
class FilingEdit:
    """What a change or a correction sets; None keeps the filing's value."""

    destination: str | None = None
    hospital_ids: Sequence[int] | None = None
    category: str | None = None


def _apply_edit(
    session: Session, filing: Filing, person: Person, edit: FilingEdit, today: date
) -> dict[str, Any]:
    """Check ``edit`` against the region's rules and apply it; what changed, for the audit."""
    policy = filing_policy_for(filing.insured_region)
    category = edit.category or filing.category
    if category != filing.category:
        if rules.is_long_term(category) != rules.is_long_term(filing.category):
            raise ValidationFailed(
                f"a {filing.category} filing cannot become {category} (long-term and"
                " temporary filings differ in validity): cancel it and file anew",
                code="filing.category_kind_change",
            )
        _check_category_fits(policy, category, person, today)
        missing = missing_documents(session, filing=filing, category=category)
        if missing:
            raise ValidationFailed(
                f"{category} needs documents this filing does not have: {', '.join(missing)}",
                code="filing.documents_missing",
                missing=missing,
            )
    destination = edit.destination or filing.destination
    _fail(
        rules.destination_problems(destination, insured_region=person.insured_region),
        "filing.destination_invalid",
    )
    hospital_ids = edit.hospital_ids
    if hospital_ids is None and policy.hospital_choice.applies_to(category):
        hospital_ids = [h.id for h in repo.chosen_hospitals(session, filing.id)]
    ids = _check_hospitals(session, policy, category, destination, hospital_ids)
    before_ids = [h.id for h in repo.chosen_hospitals(session, filing.id)]
    changed = {
        key: value
        for key, value, old in (
            ("category", category, filing.category),
            ("destination", destination, filing.destination),
            ("hospital_ids", ids, before_ids),
        )
        if value != old
    }
    filing.category, filing.destination = category, destination
    repo.replace_hospitals(session, filing.id, ids)
    filing.hospitals_chosen = bool(ids)
    return changed


def change_filing(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    destination: str | None,
    hospital_ids: Sequence[int] | None,
    today: date,
    category: str | None = None,
) -> Filing:
    """Change destination, hospitals or category of an approved filing after the lock."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    person = _person(session, filing.person_id)
    access.require_applicant(session, actor, person)
    _expire_if_due(session, filing, today)
    next_state(filing.state, FilingAction.CHANGE)
    _refuse_if_locked(filing, today)
    before = _move(session, filing, FilingAction.CHANGE, actor)
    edit = FilingEdit(destination=destination, hospital_ids=hospital_ids, category=category)
    changed = _apply_edit(session, filing, person, edit, today)
    _audit(session, filing, "change", actor, before, {"changed": changed})
    return filing


def correct_filing(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    reason: str,
    edit: FilingEdit,
    today: date,
) -> Filing:
    """The centre of the insured region corrects an approved filing (更正), inside the lock
    period too, with a reason kept in the audit log. The person and the front desks cannot:
    for them the lock holds (``change``)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_corrector(session, actor, filing)
    if not reason.strip():
        raise ValidationFailed("a correction needs a reason", code="filing.reason_required")
    _expire_if_due(session, filing, today)
    next_state(filing.state, FilingAction.CORRECT)
    if edit == FilingEdit():
        raise ValidationFailed(
            "a correction names what it corrects (destination, hospital_ids or category)",
            code="filing.correction_empty",
        )
    person = _person(session, filing.person_id)
    before = _move(session, filing, FilingAction.CORRECT, actor)
    changed = _apply_edit(session, filing, person, edit, today)
    _audit(
        session, filing, "correct", actor, before, {"reason": reason.strip(), "changed": changed}
    )
    return filing


def cancel_filing(
    session: Session, *, actor: User, filing_id: int, reason: str | None, today: date
) -> Filing:
    """Cancel (注销), at any time, lock period or not (seed 001: the person cancels to go
    back home): the cancellation is made ``today``, the filing still covers ``today``, and
    the card works at home again from the next day (:func:`rules.local_use_from`)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_applicant(session, actor, filing)
    _expire_if_due(session, filing, today)
    before = _move(session, filing, FilingAction.CANCEL, actor)
    filing.cancelled_on = today
    filing.cancel_reason = reason
    end = rules.cancellation_end(today)
    if filing.valid_to is None or filing.valid_to > end:
        filing.valid_to = end
    _audit(session, filing, "cancel", actor, before, {"reason": reason})
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
    access.require_applicant(session, actor, old)
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
    documents.copy_documents(
        session,
        source=DocumentOwner.filing(old.id),
        target=DocumentOwner.filing(new.id),
        skip=[rules.REFERRAL_CERTIFICATE],  # a referral needs a new, newly stamped certificate
    )
    return new


# --- the agency's review pages (issue 10) ----------------------------------------------


def review_queue_page(
    session: Session,
    *,
    actor: User,
    category: str | None = None,
    state: str | None = None,
    oldest_first: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Filing, Person]]:
    """A page of the review queue of ``actor``'s insured region (all regions for admins),
    each filing with its person: by the day submitted, oldest first by default, filtered
    by category and by state (submitted or resubmitted)."""
    return repo.review_queue_page(
        session,
        insured_region=access.review_region(session, actor),
        categories=[category] if category else None,
        states=[state] if state else None,
        oldest_first=oldest_first,
        limit=limit,
        offset=offset,
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of a filing's history, from its audit entries."""

    at: datetime
    action: str  # created, submit, resubmit, hospital_stamped, approve, return, reject, ...
    by: str  # the user's name, or "system"
    role: str | None
    reason: str | None = None
    missing: tuple[str, ...] = ()


def filing_history(session: Session, *, actor: User, filing_id: int) -> list[HistoryEntry]:
    """What happened to a filing, oldest first, for someone who may see it (404 otherwise)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    entries = audit_query(session, entity="filing", entity_id=str(filing.id), limit=200)
    steps: list[HistoryEntry] = []
    for entry in reversed(entries):
        after = entry.after or {}
        label = entry.actor
        name = label.split(" ", 1)[1] if entry.actor_user_id is not None and " " in label else label
        reason = after.get("reason") or (
            after.get("reject_reason") if entry.action == "filing.reject" else None
        )
        missing = after.get("missing_documents") if entry.action == "filing.return" else None
        steps.append(
            HistoryEntry(
                at=entry.at,
                action=entry.action.removeprefix("filing."),
                by=name,
                role=entry.actor_role,
                reason=str(reason) if reason else None,
                missing=tuple(missing or ()),
            )
        )
    return steps


def filing_documents(session: Session, *, actor: User, filing_id: int) -> list[Document]:
    """The documents of a filing ``actor`` may see, in upload order (404 otherwise)."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    return repo.documents(session, filing.id)


def filing_document_file(
    session: Session, *, actor: User, filing_id: int, document_id: int, upload_dir: Path
) -> tuple[Document, Path]:
    """One stored document of a filing ``actor`` may see, and where its bytes are."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    return documents.stored_file(
        session,
        owner=DocumentOwner.filing(filing.id),
        document_id=document_id,
        upload_dir=upload_dir,
    )


# --- for the pages: what a person may apply for, checks without saving, signed letters ------


@dataclass(frozen=True, slots=True)
class CategoryOption:
    """A category the person's insured region offers, and what applying for it means."""

    code: str
    long_term: bool
    problems: tuple[str, ...]  # why the person does not fit (empty: they do)
    documents: tuple[str, ...]  # the documents the region requires
    hospital_choice: bool  # hospitals are chosen (seed 000)
    max_hospitals: int
    hospital_stamps: bool  # each chosen hospital stamps the form before the review
    commitment_allowed: bool  # a personal commitment letter replaces the residence proof
    reasons: tuple[rules.FitReason, ...] = ()  # the problems as data, for a page's words

    @property
    def fits(self) -> bool:
        return not self.problems


def category_options(
    session: Session, *, actor: User, person_id: int, today: date
) -> list[CategoryOption]:
    """Every category the person's insured region offers, each with whether the person fits
    it (the rule :func:`create_filing` applies) and what it needs."""
    person = _person(session, person_id)
    access.require_applicant(session, actor, person)
    policy = filing_policy_for(person.insured_region)
    facts = person_facts(person, today)
    options = []
    for code, rule in policy.categories.items():
        options.append(
            CategoryOption(
                code=code,
                long_term=rules.is_long_term(code),
                problems=tuple(rules.category_fit_problems(code, rule.fits.as_rule(), facts)),
                reasons=tuple(rules.category_fit_reasons(rule.fits.as_rule(), facts)),
                documents=tuple(rule.documents),
                hospital_choice=policy.hospital_choice.applies_to(code),
                max_hospitals=policy.hospital_choice.max_count,
                hospital_stamps=policy.needs_hospital_stamps(code),
                commitment_allowed=policy.commitment_letter_replaces_residence_proof
                and rules.RESIDENCE_PROOF in rule.documents,
            )
        )
    return options


def check_hospital_choice(
    session: Session,
    *,
    actor: User,
    person_id: int,
    category: str,
    destination: str,
    hospital_ids: Sequence[int],
) -> list[str]:
    """What is wrong with choosing ``hospital_ids`` (empty: the choice is right), checked
    exactly as :func:`create_filing` checks it, writing nothing."""
    person = _person(session, person_id)
    access.require_applicant(session, actor, person)
    policy = filing_policy_for(person.insured_region)
    try:
        _check_hospitals(session, policy, category, destination, hospital_ids)
    except ValidationFailed as exc:
        problems = exc.extra.get("problems")
        return list(problems) if problems else [exc.message]
    return []


def choosable_hospitals(session: Session, *, destination: str) -> list[Institution]:
    """The hospitals of a destination (a province or a city), level 3 first: the list a
    person chooses from (the choice is checked by :func:`check_hospital_choice`)."""
    if rules.destination_problems(destination, insured_region="000000"):
        return []
    return repo.hospitals_in(session, destination)


def list_filings_page(
    session: Session,
    *,
    actor: User,
    state: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[tuple[Filing, Person]]:
    """One page of the filings ``actor`` may see (:func:`list_filings`), newest first, each
    with its person (one query)."""
    return repo.list_filings_with_persons(
        session,
        where=access.filing_scope(session, actor),
        states=[state] if state else None,
        limit=limit,
        offset=offset,
    )


def _open_for_applicant(session: Session, actor: User, filing_id: int) -> Filing:
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    access.require_applicant(session, actor, filing)
    if filing.state not in OPEN_STATES:
        raise Conflict(
            f"documents can only be added before the decision (state {filing.state})",
            code="filing.closed",
        )
    return filing


def _letter(
    session: Session,
    *,
    actor: User,
    filing: Filing,
    kind: str,
    data: bytes,
    upload_dir: Path,
    max_bytes: int,
) -> Document:
    upload = documents.Upload(
        doc_type=kind,
        filename=f"{kind}.pdf",
        content_type="application/pdf",
        data=data,
        upload_dir=upload_dir,
        max_bytes=max_bytes,
    )
    return upload_document(session, actor=actor, filing_id=filing.id, upload=upload)


def _validated_contact(contact: Contact) -> Contact:
    phone, address = contact.phone.strip(), contact.address.strip()
    problems = []
    if not re.fullmatch(r"\+?[0-9][0-9 -]{5,18}[0-9]", phone):
        problems.append("the contact phone is a number such as 13800138000 or 010-12345678")
    if not address or len(address) > 200:
        problems.append("the address at the destination is required (at most 200 characters)")
    _fail(problems, "filing.contact_invalid")
    return Contact(phone=phone, address=address)


def _region_label(session: Session, code: str) -> str:
    region = session.get(Region, code)
    return f"{region.name}（{code}）" if region is not None else code


def record_application_form(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    contact: Contact,
    today: date,
    upload_dir: Path,
    max_bytes: int,
) -> Document:
    """Store the application form (备案申请表) with the applicant's contact details."""
    filing = _open_for_applicant(session, actor, filing_id)
    contact = _validated_contact(contact)
    filing.contact_phone, filing.contact_address = contact.phone, contact.address
    person = _person(session, filing.person_id)
    data = application_form_pdf(
        person_name=person.name,
        identity_masked=mask_identity_number(person.identity_number),
        insured_region_name=_region_label(session, filing.insured_region),
        destination_name=_region_label(session, filing.destination),
        category_name=rules.category_name(filing.category),
        hospitals=[h.name for h in repo.chosen_hospitals(session, filing.id)],
        contact=contact,
        applied_on=today,
    )
    return _letter(
        session,
        actor=actor,
        filing=filing,
        kind=DocumentKind.APPLICATION_FORM,
        data=data,
        upload_dir=upload_dir,
        max_bytes=max_bytes,
    )


def commitment_allowed(filing: Filing) -> bool:
    """Whether a personal commitment letter may stand in for this filing's residence proof."""
    policy = filing_policy_for(filing.insured_region)
    return (
        policy.commitment_letter_replaces_residence_proof
        and policy.offers(filing.category)
        and rules.RESIDENCE_PROOF in policy.category(filing.category).documents
    )


def sign_commitment(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    signer: str,
    contact: Contact,
    today: date,
    upload_dir: Path,
    max_bytes: int,
) -> Document:
    """The person signs the personal commitment letter (个人承诺书) by typing their name; it
    is stored as the filing's ``commitment_letter`` where the region lets it replace the
    residence proof (422 ``filing.commitment_not_allowed`` elsewhere)."""
    filing = _open_for_applicant(session, actor, filing_id)
    if not commitment_allowed(filing):
        raise ValidationFailed(
            f"{filing_policy_for(filing.insured_region).name} does not accept a personal"
            f" commitment letter for a {filing.category} filing: upload the residence proof",
            code="filing.commitment_not_allowed",
        )
    person = _person(session, filing.person_id)
    if signer.strip() != person.name:
        raise ValidationFailed(
            "the commitment letter is signed with the insured person's name as registered",
            code="filing.commitment_signer",
        )
    data = commitment_letter_pdf(
        person_name=person.name,
        identity_masked=mask_identity_number(person.identity_number),
        destination_name=_region_label(session, filing.destination),
        category_name=rules.category_name(filing.category),
        signer=signer.strip(),
        contact=_validated_contact(contact),
        signed_on=today,
    )
    return _letter(
        session,
        actor=actor,
        filing=filing,
        kind=DocumentKind.COMMITMENT_LETTER,
        data=data,
        upload_dir=upload_dir,
        max_bytes=max_bytes,
    )


def edit_application(
    session: Session,
    *,
    actor: User,
    filing_id: int,
    destination: str | None,
    hospital_ids: Sequence[int] | None,
    today: date,
) -> Filing:
    """Change the destination or the chosen hospitals of an application before its decision
    (a draft, or a filing returned for completion), checked as :func:`create_filing` checks
    them. A hospital kept keeps its stamp; a new one still owes its stamp."""
    filing = get_filing(session, actor=actor, filing_id=filing_id)
    person = _person(session, filing.person_id)
    access.require_applicant(session, actor, person)
    if filing.state not in (FilingState.DRAFT, FilingState.RETURNED):
        raise Conflict(
            f"only a draft or a returned application is edited (state {filing.state})",
            code="filing.not_editable",
        )
    policy = filing_policy_for(filing.insured_region)
    target = destination or filing.destination
    _fail(
        rules.destination_problems(target, insured_region=person.insured_region),
        "filing.destination_invalid",
    )
    if hospital_ids is None and policy.hospital_choice.applies_to(filing.category):
        hospital_ids = [h.id for h in repo.chosen_hospitals(session, filing.id)]
    ids = _check_hospitals(session, policy, filing.category, target, hospital_ids)
    before = filing.snapshot()
    filing.destination = target
    repo.replace_hospitals(session, filing.id, ids)
    filing.hospitals_chosen = bool(ids)
    _audit(session, filing, "edited", actor, before, {"hospital_ids": ids})
    return filing
