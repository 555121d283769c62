"""Manual reimbursement (零星报销) use cases: submit, document, review, decide, pay.

A person who paid in full (off-site without direct settlement, an emergency filed after
discharge, outpatient costs paid in full, a card left at home) claims the money back.
The insured region's center reviews the claim; approving it settles it through the same
recording service as the hospital window (:func:`yibao.settlements.service.record_settlement`,
``source="reimbursement"``): the engine computes it with the insured region's policy and the
off-site status of the filing that applied on the treatment date, and the person's year
moves exactly as for a direct settlement. Services flush, never commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.audit.service import record
from yibao.auth.models import User
from yibao.claim_checks import service as claim_checks
from yibao.claim_checks.checks import DUPLICATE_INVOICE
from yibao.claim_checks.models import AuditFinding
from yibao.documents import service as documents
from yibao.documents.models import Document, DocumentOwner
from yibao.engine import Claim, ClaimLine, Settlement
from yibao.engine.models import LIABILITIES
from yibao.errors import Conflict, NotFound, ValidationFailed
from yibao.filings.service import filing_info_for
from yibao.identity import mask_identity_number, validate_identity_number
from yibao.invoices import normalise_invoice_number
from yibao.limits import check_limit
from yibao.money import from_fen, to_fen
from yibao.registry import service as registry
from yibao.registry.models import Institution, Person
from yibao.reimbursements import access, checks
from yibao.reimbursements import repository as repo
from yibao.reimbursements.models import (
    ReimbursementClaim,
    ReimbursementInvoice,
    ReimbursementLine,
)
from yibao.reimbursements.rules import rules_for
from yibao.reimbursements.schemas import ReimbursementAmend, ReimbursementCreate
from yibao.reimbursements.states import (
    OPEN_STATES,
    QUEUE_STATES,
    ClaimAction,
    ClaimState,
    next_state,
)
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import lock_person_year, preview_settlement, record_settlement

E4 = 10_000
SUBMITTERS = ("insured", "unit", "street_office", "admin")
REVIEWERS = ("agency", "admin")
_ICD10_SHAPE = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
_SNAPSHOT = ("state", "missing_documents", "rejection_reason", "settlement_id", "payout_fen")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# --- who may do what -------------------------------------------------------------------------


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


def get_claim(
    session: Session, *, actor: User, claim_id: int, lock: bool = False
) -> ReimbursementClaim:
    """The claim when ``actor`` may see it (404 otherwise, so ids leak nothing)."""
    claim = repo.get(session, claim_id, lock=lock)
    if claim is None or not access.may_view(session, actor, claim):
        raise NotFound(f"reimbursement claim {claim_id} not found", code="reimbursement.not_found")
    return claim


def list_claims(
    session: Session, *, actor: User, state: str | None = None, queue: bool = False
) -> list[ReimbursementClaim]:
    """The claims ``actor`` may see (see :mod:`yibao.reimbursements.access`), newest first."""
    states = [state] if state else ([str(s) for s in QUEUE_STATES] if queue else None)
    return repo.list_claims(session, where=access.claim_scope(session, actor), states=states)


# --- transitions -------------------------------------------------------------------------------


def _snapshot(claim: ReimbursementClaim) -> dict[str, Any]:
    return {name: getattr(claim, name) for name in _SNAPSHOT}


def _move(
    session: Session,
    claim: ReimbursementClaim,
    action: ClaimAction,
    actor: User,
    *,
    at: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    before = _snapshot(claim)
    claim.state = next_state(claim.state, action)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"reimbursement.{action}",
        entity="reimbursement_claim",
        entity_id=claim.id,
        before=before,
        after={**_snapshot(claim), **(extra or {})},
        at=at,
    )


# --- submission -------------------------------------------------------------------------------


def _check_diagnoses(codes: list[str]) -> list[str]:
    cleaned = [c.strip().upper() for c in codes]
    bad = [c for c in cleaned if not _ICD10_SHAPE.match(c)]
    if bad:
        raise ValidationFailed(
            f"diagnoses must be ICD-10 codes such as I21.0; not: {', '.join(bad)}",
            code="reimbursement.diagnosis_invalid",
        )
    return cleaned


def _check_claim_limits(*, invoices: int, lines: int = 0) -> None:
    """A claim's invoices and fee lines within ``invoices_per_claim`` and ``lines_per_claim``
    (:mod:`yibao.limits`); checked before anything is read or stored."""
    check_limit(
        invoices,
        limit="invoices_per_claim",
        what="invoices of this claim",
        code="limit.invoices_per_claim",
    )
    check_limit(
        lines, limit="lines_per_claim", what="fee lines of this claim", code="limit.lines_per_claim"
    )


def _add_invoices(
    session: Session, claim: ReimbursementClaim, invoices: list[Any], *, existing: set[str]
) -> None:
    for invoice in invoices:
        number = normalise_invoice_number(invoice.number)
        if not number:
            raise ValidationFailed("an invoice number is empty", code="reimbursement.invoice")
        if number in existing:
            raise ValidationFailed(
                f"invoice {number} is listed twice", code="reimbursement.invoice_repeated"
            )
        existing.add(number)
        session.add(
            ReimbursementInvoice(
                claim_id=claim.id, number=number, amount_fen=to_fen(invoice.amount)
            )
        )


def required_documents(session: Session, claim: ReimbursementClaim) -> list[str]:
    """The policy's documents for the claim's case, with the filing that applied then."""
    filing = _filing(session, claim)
    return rules_for(claim.insured_region).required_documents(
        case=claim.case_type, setting=claim.setting, filing_type=filing.type if filing else None
    )


def missing_documents(session: Session, claim: ReimbursementClaim) -> list[str]:
    have = {d.doc_type for d in repo.documents(session, claim.id) if not d.superseded}
    return [doc for doc in claim.required_documents if doc not in have]


def _filing(session: Session, claim: ReimbursementClaim) -> Any:
    return filing_info_for(
        session,
        person_id=claim.person_id,
        on=claim.treatment_date,
        treatment_region=claim.treatment_region,
        institution_id=claim.institution_id,
    )


def submit_claim(
    session: Session, *, actor: User, data: ReimbursementCreate, now: datetime | None = None
) -> ReimbursementClaim:
    """Receive a claim with its invoices, fee lines and diagnoses; documents follow."""
    _check_claim_limits(invoices=len(data.invoices), lines=len(data.lines))
    at = _now(now)
    person = _person(session, data.person_id)
    access.require_claimant(session, actor, person)
    institution = session.get(Institution, data.institution_id)
    if institution is None:
        raise ValidationFailed(
            f"institution {data.institution_id} not found", code="reimbursement.institution"
        )
    if data.treatment_date > at.date():
        raise ValidationFailed("the treatment date is in the future", code="reimbursement.date")
    if data.setting == "inpatient":
        if data.admitted_on is None or data.admitted_on > data.treatment_date:
            raise ValidationFailed(
                "an inpatient claim needs an admission day on or before the discharge day",
                code="reimbursement.stay",
            )
    elif data.admitted_on is not None:
        raise ValidationFailed("an outpatient claim has no admission", code="reimbursement.stay")
    if data.liability is not None and data.liability not in LIABILITIES:
        raise ValidationFailed(
            f"unknown liability {data.liability!r}", code="reimbursement.liability"
        )
    if data.payout.method in ("bank_account", "passbook") and not data.payout.account_number:
        raise ValidationFailed(
            f"payout to a {data.payout.method} needs its number", code="reimbursement.payout"
        )
    diagnoses = _check_diagnoses(data.diagnoses)
    claim = ReimbursementClaim(
        person_id=person.id,
        state=ClaimState.SUBMITTED,
        case_type=data.case_type,
        setting=data.setting,
        institution_id=institution.id,
        treatment_region=institution.region_code,
        insured_region=person.insured_region,
        treatment_date=data.treatment_date,
        admitted_on=data.admitted_on,
        emergency=data.emergency or data.case_type == "emergency_after_discharge",
        liability=data.liability,
        declared_total_fen=to_fen(data.total),
        diagnoses=diagnoses,
        submitted_via=actor.role,
        submitted_by=actor.id,
        submitted_at=at,
        required_documents=[],
        missing_documents=[],
        payout_method=data.payout.method,
        payout_account=data.payout.account_number,
    )
    session.add(claim)
    session.flush()
    claim.required_documents = required_documents(session, claim)
    _add_invoices(session, claim, data.invoices, existing=set())
    for number, line in enumerate(data.lines, start=1):
        session.add(
            ReimbursementLine(
                claim_id=claim.id,
                line_no=number,
                code=line.code.strip(),
                quantity_e4=int(line.quantity * E4),
                unit_price_e4=int(line.unit_price * E4),
                service_date=line.service_date,
            )
        )
    session.flush()
    checks.audit_claim(session, claim=claim, now=at)
    record(
        session,
        actor=actor,
        action="reimbursement.submit",
        entity="reimbursement_claim",
        entity_id=claim.id,
        before=None,
        after={
            "person_id": person.id,
            "case_type": claim.case_type,
            "setting": claim.setting,
            "total": str(data.total),
            "invoices": len(data.invoices),
            "lines": len(data.lines),
            "required_documents": claim.required_documents,
        },
        at=at,
    )
    return claim


def upload_document(
    session: Session, *, actor: User, claim_id: int, upload: documents.Upload
) -> Document:
    """Store a document (PDF, JPEG or PNG, checked by content, size-limited)."""
    claim = get_claim(session, actor=actor, claim_id=claim_id)
    access.require_claimant_of(session, actor, claim)
    if claim.state not in OPEN_STATES:
        raise Conflict(
            f"documents can be added while the claim is open (state {claim.state})",
            code="reimbursement.closed",
        )
    return documents.add_document(
        session, owner=DocumentOwner.claim(claim.id), upload=upload, actor=actor
    )


def resubmit_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    amend: ReimbursementAmend | None = None,
    now: datetime | None = None,
) -> ReimbursementClaim:
    """Hand a returned claim back, with what was missing; everything submitted is kept."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_claimant_of(session, actor, claim)
    next_state(claim.state, ClaimAction.RESUBMIT)  # refuse an illegal move before changing
    if amend is not None:
        if amend.diagnoses:
            added = [d for d in _check_diagnoses(amend.diagnoses) if d not in claim.diagnoses]
            claim.diagnoses = [*claim.diagnoses, *added]
        if amend.invoices:
            existing = {i.number for i in repo.invoices(session, claim.id)}
            _check_claim_limits(invoices=len(existing) + len(amend.invoices))
            _add_invoices(session, claim, amend.invoices, existing=existing)
    _move(session, claim, ClaimAction.RESUBMIT, actor, at=at)
    return claim


# --- review ----------------------------------------------------------------------------------


def start_review(
    session: Session, *, actor: User, claim_id: int, now: datetime | None = None
) -> ReimbursementClaim:
    """Take the claim for review: completeness first (返回补正 with the list), then audits."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    next_state(claim.state, ClaimAction.START_REVIEW)
    # A filing may have been made since submission (emergency filed after discharge).
    claim.required_documents = required_documents(session, claim)
    missing = missing_documents(session, claim)
    if missing:
        claim.missing_documents = missing
        claim.return_note = "incomplete: documents missing"
        _move(session, claim, ClaimAction.RETURN, actor, at=at, extra={"automatic": True})
        return claim
    claim.missing_documents = []
    _move(session, claim, ClaimAction.START_REVIEW, actor, at=at)
    claim_checks.audit_settlements(session, now=at)
    checks.audit_claim(session, claim=claim, now=at)
    return claim


def return_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    missing: list[str] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> ReimbursementClaim:
    """Return the claim listing what is missing; nothing already submitted is dropped."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    next_state(claim.state, ClaimAction.RETURN)
    known = rules_for(claim.insured_region).documents
    listed = list(dict.fromkeys(missing or missing_documents(session, claim)))
    unknown = [d for d in listed if d not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown document types {unknown}; types: {', '.join(known)}",
            code="reimbursement.document_type_unknown",
        )
    if not listed and not note:
        raise ValidationFailed(
            "say what is missing (documents or a note)", code="reimbursement.return_empty"
        )
    if listed:
        # A document the reviewer finds unusable (an incomplete diagnosis certificate) must
        # be supplied again: it is kept, marked superseded, and a new one is required.
        claim.required_documents = list(dict.fromkeys([*claim.required_documents, *listed]))
        for doc in repo.documents(session, claim.id):
            if doc.doc_type in listed:
                doc.superseded = True
    claim.missing_documents = listed
    claim.return_note = note
    _move(session, claim, ClaimAction.RETURN, actor, at=at)
    return claim


def _engine_claim(session: Session, claim: ReimbursementClaim) -> Claim:
    person = _person(session, claim.person_id)
    institution = session.get(Institution, claim.institution_id)
    assert institution is not None
    return Claim(
        claim_id=f"R{claim.id}",
        date=claim.treatment_date,
        setting="inpatient" if claim.setting == "inpatient" else "outpatient",
        person=person_info(person),
        institution=institution_info(institution),
        lines=tuple(
            ClaimLine(
                code=line.code,
                quantity=from_e4(line.quantity_e4),
                unit_price=from_e4(line.unit_price_e4),
                line_id=str(line.line_no),
            )
            for line in repo.lines(session, claim.id)
        ),
        filing=_filing(session, claim),
        emergency=claim.emergency,
        liability=claim.liability,
    )


def from_e4(value: int) -> Decimal:
    return Decimal(value) / Decimal(E4)


def approve_claim(
    session: Session, *, actor: User, claim_id: int, now: datetime | None = None
) -> ReimbursementClaim:
    """Approve: settle through the shared recording service (the engine computes it)."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    access.require_second_person(actor, claim)
    next_state(claim.state, ClaimAction.APPROVE)
    missing = missing_documents(session, claim)
    if missing:
        raise ValidationFailed(
            f"documents missing: {', '.join(missing)}; return the claim instead",
            code="reimbursement.documents_missing",
            missing=missing,
        )
    _refuse_on_findings(session, claim, at=at, overridden=_overridden_keys(session, claim))
    engine_claim = _engine_claim(session, claim)
    settlement, result = record_settlement(
        session,
        claim=engine_claim,
        person_id=claim.person_id,
        source="reimbursement",
        institution_id=claim.institution_id,
        account_person_id=claim.person_id,
        msg_id=f"reimbursement-{claim.id}",
        actor=actor,
        now=at,
    )
    claim.settlement_id = settlement.id
    claim.filing_type = engine_claim.filing.type if engine_claim.filing else None
    # The person paid everything: they get back what the funds pay and what their
    # personal account pays (the account is debited by the recording service).
    claim.payout_fen = to_fen(result.fund_pay_total + result.account_pay)
    claim.reviewed_by = actor.id
    claim.decided_at = at
    _move(
        session,
        claim,
        ClaimAction.APPROVE,
        actor,
        at=at,
        extra={"offsite_status": result.offsite_status, "policy_id": result.policy_id},
    )
    return claim


# --- findings that block ------------------------------------------------------------------------

OVERRIDE_FINDINGS = "reimbursement.override_findings"


def _paid_twice(session: Session, finding: AuditFinding) -> bool:
    """A duplicate invoice that was already paid out: by a standing direct settlement (the
    fund paid the hospital) or by a paid manual claim. Nobody can override that."""
    if finding.code != DUPLICATE_INVOICE:
        return False
    other_kind, other_ref = finding.evidence.get("other_kind"), finding.evidence.get("other_ref")
    if other_kind == "settlement":
        return True
    if other_kind == "reimbursement" and str(other_ref).isdigit():
        other = repo.get(session, int(str(other_ref)))
        return other is not None and other.state == ClaimState.PAID
    return False


def _refuse_on_findings(
    session: Session, claim: ReimbursementClaim, *, at: datetime, overridden: set[str] | None
) -> None:
    """Run the checks again inside this transaction, after taking the lock that every
    settlement of the person's year takes, so a direct settlement or another approval of
    the same invoice committed a moment ago is seen (and one that comes later waits for
    this one). A duplicate already paid stops the claim; other blocking findings stop the
    approval unless a second reviewer overrode them (``overridden``; None at payout)."""
    lock_person_year(session, person_id=claim.person_id, year=claim.treatment_date.year)
    found = checks.audit_claim(session, claim=claim, now=at)
    paid = [f for f in found if _paid_twice(session, f)]
    if paid:
        raise Conflict(
            "cannot be paid: " + "; ".join(f.message for f in paid),
            code="reimbursement.already_paid",
            findings=[f.key for f in paid],
        )
    if overridden is None:
        return
    blocking = [f for f in found if f.severity == "blocking" and f.key not in overridden]
    if blocking:
        raise Conflict(
            "blocking audit findings: "
            + "; ".join(f.message for f in blocking)
            + "; a reviewer may ask to override them with a reason (a second reviewer approves)",
            code="reimbursement.blocking_findings",
            findings=[f.key for f in blocking],
        )


def _overridden_keys(session: Session, claim: ReimbursementClaim) -> set[str]:
    keys: set[str] = set()
    for payload in approvals.approved_requests(
        session, kind=OVERRIDE_FINDINGS, subject=f"reimbursement:{claim.id}"
    ):
        keys.update(payload["findings"])
    return keys


def request_override(
    session: Session, *, actor: User, claim_id: int, reason: str, now: datetime | None = None
) -> Approval:
    """Ask to approve a claim despite its blocking findings, with a written reason; a second
    reviewer of the centre decides (四眼原则). A duplicate already paid is never overridden."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    next_state(claim.state, ClaimAction.APPROVE)  # only a claim that could be approved now
    if not reason.strip():
        raise ValidationFailed("an override needs a written reason", code="reimbursement.reason")
    found = checks.audit_claim(session, claim=claim, now=at)
    paid = [f for f in found if _paid_twice(session, f)]
    if paid:
        raise Conflict(
            "cannot be overridden: " + "; ".join(f.message for f in paid),
            code="reimbursement.already_paid",
        )
    blocking = sorted({f.key for f in found if f.severity == "blocking"})
    if not blocking:
        raise Conflict(
            "the claim has no blocking findings", code="reimbursement.nothing_to_override"
        )
    return approvals.request_approval(
        session,
        kind=OVERRIDE_FINDINGS,
        subject=f"reimbursement:{claim.id}",
        summary=f"approve claim {claim.id} despite {len(blocking)} blocking finding(s): "
        f"{reason.strip()[:200]}",
        payload={"claim_id": claim.id, "reason": reason.strip()[:400], "findings": blocking},
        region_code=claim.insured_region,
        actor=actor,
        now=at,
    )


def _may_override(session: Session, user: User, payload: Mapping[str, Any]) -> bool:
    claim = repo.get(session, int(payload["claim_id"]))
    return claim is not None and access.is_reviewer(session, user, claim)


def _carry_out_override(
    session: Session, payload: Mapping[str, Any], approval: Approval, user: User
) -> Mapping[str, Any]:
    record(
        session,
        actor=user,
        action="reimbursement.findings_overridden",
        entity="reimbursement",
        entity_id=int(payload["claim_id"]),
        before=None,
        after={
            "findings": payload["findings"],
            "reason": payload["reason"],
            "requested_by": approval.requested_by,
        },
    )
    return {"claim_id": payload["claim_id"], "findings": payload["findings"]}


approvals.register_kind(
    approvals.ApprovalKind(OVERRIDE_FINDINGS, _may_override, _carry_out_override)
)


def reject_claim(
    session: Session, *, actor: User, claim_id: int, reason: str, now: datetime | None = None
) -> ReimbursementClaim:
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    next_state(claim.state, ClaimAction.REJECT)
    if not reason.strip():
        raise ValidationFailed("a rejection needs a reason", code="reimbursement.reason")
    claim.rejection_reason = reason.strip()[:400]
    claim.reviewed_by = actor.id
    claim.decided_at = at
    _move(session, claim, ClaimAction.REJECT, actor, at=at)
    return claim


def pay_claim(
    session: Session,
    *,
    actor: User,
    claim_id: int,
    reference: str | None = None,
    collector_name: str | None = None,
    collector_identity_number: str | None = None,
    collector_relation: str | None = None,
    now: datetime | None = None,
) -> ReimbursementClaim:
    """Record the payout: to the bank account or passbook given, or cash to a family member
    whose identity is recorded."""
    at = _now(now)
    claim = get_claim(session, actor=actor, claim_id=claim_id, lock=True)
    access.require_reviewer(session, actor, claim)
    next_state(claim.state, ClaimAction.PAY)
    _refuse_on_findings(session, claim, at=at, overridden=None)
    if claim.payout_method == "family_cash":
        if not (collector_name and collector_identity_number and collector_relation):
            raise ValidationFailed(
                "cash collected by a family member needs their name, identity number and relation",
                code="reimbursement.collector_required",
            )
        number = validate_identity_number(collector_identity_number)
        person = _person(session, claim.person_id)
        if number == person.identity_number:
            raise ValidationFailed(
                "the collector is a family member, not the person",
                code="reimbursement.collector_is_person",
            )
        claim.collector_name = collector_name.strip()[:100]
        claim.collector_identity = number
        claim.collector_relation = collector_relation
    elif collector_name or collector_identity_number:
        raise ValidationFailed(
            f"a collector applies to cash payouts, this one goes to a {claim.payout_method}",
            code="reimbursement.collector_not_cash",
        )
    claim.payout_reference = reference or f"RB{claim.id:08d}"
    claim.paid_by = actor.id
    claim.paid_at = at
    _move(
        session,
        claim,
        ClaimAction.PAY,
        actor,
        at=at,
        extra={
            "payout": str(from_fen(claim.payout_fen or 0)),
            "method": claim.payout_method,
            "account": mask_account(claim.payout_account),
            "collector_identity_number": (
                mask_identity_number(claim.collector_identity) if claim.collector_identity else None
            ),
        },
    )
    return claim


def mask_account(number: str | None) -> str | None:
    if not number:
        return None
    return "*" * max(0, len(number) - 4) + number[-4:]


# --- reading ---------------------------------------------------------------------------------


def findings(session: Session, claim: ReimbursementClaim) -> list[AuditFinding]:
    """The claim's own findings, and those of the direct settlements they point at."""
    own = claim_checks.findings_for(session, subject_kind="reimbursement", subject_id=claim.id)
    related: list[AuditFinding] = []
    refs = {
        int(f.evidence["other_ref"])
        for f in own
        if f.evidence.get("other_kind") == "settlement" and str(f.evidence["other_ref"]).isdigit()
    }
    for ref in sorted(refs):
        related.extend(
            claim_checks.findings_for(session, subject_kind="settlement", subject_id=ref)
        )
    return [*own, *related]


def settlement_summary(session: Session, claim: ReimbursementClaim) -> dict[str, Any] | None:
    if claim.settlement_id is None:
        return None
    settlement = session.get(SettlementRecord, claim.settlement_id)
    if settlement is None:
        return None
    result: dict[str, Any] = json.loads(settlement.result_json)
    return result


def decision(session: Session, claim: ReimbursementClaim) -> dict[str, Any]:
    """Everything the decision letter says, as data."""
    person = _person(session, claim.person_id)
    institution = session.get(Institution, claim.institution_id)
    return {
        "claim_id": claim.id,
        "state": claim.state,
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
        "person": {
            "id": person.id,
            "name": person.name,
            "identity_number_masked": mask_identity_number(person.identity_number),
        },
        "insured_region": claim.insured_region,
        "institution": {
            "code": institution.code if institution else None,
            "name": institution.name if institution else None,
            "region": claim.treatment_region,
            "level": institution.level if institution else None,
        },
        "case_type": claim.case_type,
        "setting": claim.setting,
        "admitted_on": claim.admitted_on.isoformat() if claim.admitted_on else None,
        "treatment_date": claim.treatment_date.isoformat(),
        "diagnoses": list(claim.diagnoses),
        "invoices": [
            {"number": i.number, "amount": str(from_fen(i.amount_fen))}
            for i in repo.invoices(session, claim.id)
        ],
        "filing_type": claim.filing_type,
        "rejection_reason": claim.rejection_reason,
        "settlement": settlement_summary(session, claim),
        "payout": str(from_fen(claim.payout_fen)) if claim.payout_fen is not None else None,
        "payout_method": claim.payout_method,
        "payout_account_masked": mask_account(claim.payout_account),
        "collector": (
            {
                "name": claim.collector_name,
                "identity_number_masked": mask_identity_number(claim.collector_identity),
                "relation": claim.collector_relation,
            }
            if claim.collector_identity
            else None
        ),
        "paid_at": claim.paid_at.isoformat() if claim.paid_at else None,
        "payout_reference": claim.payout_reference,
    }


def decision_for(session: Session, *, actor: User, claim_id: int) -> dict[str, Any]:
    claim = get_claim(session, actor=actor, claim_id=claim_id)
    if claim.state not in (ClaimState.APPROVED, ClaimState.PAID, ClaimState.REJECTED):
        raise Conflict(
            f"a decision letter exists once the claim is decided (state {claim.state})",
            code="reimbursement.not_decided",
        )
    return decision(session, claim)


# --- for the pages: a page of claims, their findings and claimants in bulk, a document ------


def claims_page(
    session: Session,
    *,
    actor: User,
    queue: bool = False,
    state: str | None = None,
    case_type: str | None = None,
    finding: str | None = None,
    oldest_first: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[ReimbursementClaim]:
    """A page of the claims ``actor`` may see (``queue``: those awaiting review), newest
    first or oldest first, of one case or with one audit finding."""
    states = [state] if state else ([str(s) for s in QUEUE_STATES] if queue else None)
    return repo.page_claims(
        session,
        where=access.claim_scope(session, actor),
        states=states,
        case_type=case_type,
        finding_code=finding,
        oldest_first=oldest_first,
        limit=limit,
        offset=offset,
    )


def finding_codes_by_claim(
    session: Session, claims: list[ReimbursementClaim]
) -> dict[int, list[str]]:
    """The stored findings' codes of each claim (claims the caller already holds), in one query."""
    found: dict[int, list[str]] = {claim.id: [] for claim in claims}
    for claim_id, code in repo.finding_codes(session, list(found)):
        if code not in found[claim_id]:
            found[claim_id].append(code)
    return found


def claimants(session: Session, claims: list[ReimbursementClaim]) -> dict[int, Person]:
    """The persons of claims the caller already holds, by id, in one query."""
    return registry.persons_by_id(session, (claim.person_id for claim in claims))


def claim_document(
    session: Session, *, actor: User, claim_id: int, document_id: int, upload_dir: Path
) -> tuple[Document, Path]:
    """One document of a claim ``actor`` may see, and where its bytes are (404 otherwise)."""
    claim = get_claim(session, actor=actor, claim_id=claim_id)
    return documents.stored_file(
        session, owner=DocumentOwner.claim(claim.id), document_id=document_id, upload_dir=upload_dir
    )


def preview_claim(session: Session, *, actor: User, claim_id: int) -> Settlement:
    """What approving the claim now would pay (the engine's full result); nothing stored.
    For the claim's reviewers only."""
    claim = get_claim(session, actor=actor, claim_id=claim_id)
    access.require_reviewer(session, actor, claim)
    return preview_settlement(
        session,
        claim=_engine_claim(session, claim),
        person_id=claim.person_id,
        account_person_id=claim.person_id,
    )


def override_requests(session: Session, *, actor: User, claim_id: int) -> list[Approval]:
    """The override requests (四眼原则) made for a claim, newest first (reviewers only)."""
    claim = get_claim(session, actor=actor, claim_id=claim_id)
    access.require_reviewer(session, actor, claim)
    return list(
        session.scalars(
            select(Approval)
            .where(
                Approval.kind == OVERRIDE_FINDINGS,
                Approval.subject == f"reimbursement:{claim.id}",
            )
            .order_by(Approval.id.desc())
        )
    )


def case_choices(region: str) -> dict[str, tuple[str, list[str]]]:
    """The reimbursement cases of a region's policy data: title and the settings each covers."""
    rules = rules_for(region)
    return {name: (case.title, list(case.by_setting)) for name, case in rules.cases.items()}
