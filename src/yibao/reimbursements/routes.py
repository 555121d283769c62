"""HTTP routes of manual reimbursement, under ``/api/v1/reimbursements``. Thin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from yibao.approvals.schemas import ApprovalRead
from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.claim_checks.schemas import FindingRead
from yibao.documents.models import DocumentOwner
from yibao.documents.routes import DocumentUpload, document_file
from yibao.documents.schemas import ClaimDocumentRead
from yibao.identity import mask_identity_number
from yibao.money import fmt, from_fen
from yibao.reimbursements import repository as repo
from yibao.reimbursements import service
from yibao.reimbursements.letter import letter_pdf
from yibao.reimbursements.models import ReimbursementClaim
from yibao.reimbursements.schemas import (
    InvoiceRead,
    LineRead,
    OverrideIn,
    PayIn,
    ReimbursementAmend,
    ReimbursementCreate,
    ReimbursementRead,
    ReimbursementSummary,
    RejectIn,
    ReturnIn,
)
from yibao.reimbursements.states import allowed_actions
from yibao.settlements.routes import IdempotencyKeyHeader, idempotent

router = APIRouter(prefix="/reimbursements", tags=["reimbursements"])

Claimant = Annotated[User, require_roles(*service.SUBMITTERS)]
Reviewer = Annotated[User, require_roles(*service.REVIEWERS)]
Anyone = Annotated[User, require_roles("insured", "unit", "street_office", "agency", "admin")]


def get_now() -> datetime:
    """The current time; tests override this dependency."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(get_now)]


def read_claim(session: Session, claim: ReimbursementClaim) -> ReimbursementRead:
    def e4(value: int) -> str:
        return f"{service.from_e4(value).normalize():f}"

    return ReimbursementRead(
        id=claim.id,
        person_id=claim.person_id,
        state=claim.state,
        allowed_actions=allowed_actions(claim.state),
        case_type=claim.case_type,
        setting=claim.setting,
        institution_id=claim.institution_id,
        insured_region=claim.insured_region,
        treatment_region=claim.treatment_region,
        treatment_date=claim.treatment_date,
        admitted_on=claim.admitted_on,
        emergency=claim.emergency,
        total=fmt(from_fen(claim.declared_total_fen)),
        diagnoses=list(claim.diagnoses),
        submitted_via=claim.submitted_via,
        submitted_at=claim.submitted_at,
        required_documents=list(claim.required_documents),
        documents_still_missing=service.missing_documents(session, claim),
        missing_documents=list(claim.missing_documents),
        return_note=claim.return_note,
        rejection_reason=claim.rejection_reason,
        filing_type=claim.filing_type,
        settlement_id=claim.settlement_id,
        settlement=service.settlement_summary(session, claim),
        payout=fmt(from_fen(claim.payout_fen)) if claim.payout_fen is not None else None,
        payout_method=claim.payout_method,
        payout_account_masked=service.mask_account(claim.payout_account),
        collector_name=claim.collector_name,
        collector_identity_masked=(
            mask_identity_number(claim.collector_identity) if claim.collector_identity else None
        ),
        collector_relation=claim.collector_relation,
        payout_reference=claim.payout_reference,
        paid_at=claim.paid_at,
        invoices=[
            InvoiceRead(number=i.number, amount=fmt(from_fen(i.amount_fen)))
            for i in repo.invoices(session, claim.id)
        ],
        lines=[
            LineRead(
                line_no=line.line_no,
                code=line.code,
                quantity=e4(line.quantity_e4),
                unit_price=e4(line.unit_price_e4),
                service_date=line.service_date,
            )
            for line in repo.lines(session, claim.id)
        ],
        documents=[ClaimDocumentRead.model_validate(d) for d in repo.documents(session, claim.id)],
        findings=[FindingRead.model_validate(f) for f in service.findings(session, claim)],
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Submit a reimbursement claim")
def submit(
    body: ReimbursementCreate, session: SessionDep, user: Claimant, now: Now
) -> ReimbursementRead:
    return read_claim(session, service.submit_claim(session, actor=user, data=body, now=now))


@router.get("", summary="Claims the caller may see (queue=true: awaiting review)")
def list_claims(
    session: SessionDep,
    user: Anyone,
    state: Annotated[str | None, Query()] = None,
    queue: Annotated[bool, Query()] = False,
) -> list[ReimbursementSummary]:
    return [
        ReimbursementSummary.model_validate(c)
        for c in service.list_claims(session, actor=user, state=state, queue=queue)
    ]


@router.get("/{claim_id}", summary="One claim with documents, audit findings and settlement")
def get_claim(claim_id: int, session: SessionDep, user: Anyone) -> ReimbursementRead:
    return read_claim(session, service.get_claim(session, actor=user, claim_id=claim_id))


@router.post(
    "/{claim_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (PDF, JPEG or PNG)",
)
def upload_document(
    claim_id: int, session: SessionDep, user: Claimant, upload: DocumentUpload
) -> ClaimDocumentRead:
    doc = service.upload_document(session, actor=user, claim_id=claim_id, upload=upload)
    return ClaimDocumentRead.model_validate(doc)


@router.get("/{claim_id}/documents/{document_id}", summary="Download a document")
def download_document(
    claim_id: int, document_id: int, request: Request, session: SessionDep, user: Anyone
) -> FileResponse:
    service.get_claim(session, actor=user, claim_id=claim_id)
    return document_file(
        request, session, owner=DocumentOwner.claim(claim_id), document_id=document_id
    )


@router.post("/{claim_id}/resubmit", summary="Resubmit a returned claim (adds, never drops)")
def resubmit(
    claim_id: int,
    session: SessionDep,
    user: Claimant,
    now: Now,
    body: ReimbursementAmend | None = None,
) -> ReimbursementRead:
    claim = service.resubmit_claim(session, actor=user, claim_id=claim_id, amend=body, now=now)
    return read_claim(session, claim)


@router.post("/{claim_id}/review", summary="Start the review (returns it if incomplete)")
def start_review(claim_id: int, session: SessionDep, user: Reviewer, now: Now) -> ReimbursementRead:
    return read_claim(
        session, service.start_review(session, actor=user, claim_id=claim_id, now=now)
    )


@router.post("/{claim_id}/return", summary="Return the claim listing what is missing")
def return_claim(
    claim_id: int, body: ReturnIn, session: SessionDep, user: Reviewer, now: Now
) -> ReimbursementRead:
    claim = service.return_claim(
        session,
        actor=user,
        claim_id=claim_id,
        missing=body.missing_documents,
        note=body.note,
        now=now,
    )
    return read_claim(session, claim)


@router.post(
    "/{claim_id}/approve",
    summary="Approve: settled by the engine and recorded (Idempotency-Key: exactly once)",
    response_model=ReimbursementRead,
)
def approve(
    claim_id: int,
    request: Request,
    session: SessionDep,
    user: Reviewer,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Blocking findings (a duplicate invoice, overlapping stays, totals that disagree)
    stop the approval unless overridden (``POST /reimbursements/{id}/override``); a
    duplicate of an invoice already paid stops it for good."""

    def operation() -> tuple[int, Any]:
        claim = service.approve_claim(session, actor=user, claim_id=claim_id, now=now)
        return 200, read_claim(session, claim).model_dump(mode="json")

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload={"claim_id": claim_id},
        operation=operation,
        key_required=False,
    )


@router.post(
    "/{claim_id}/override",
    status_code=202,
    summary="Ask to approve despite blocking findings, with a reason (a second reviewer decides)",
)
def override(
    claim_id: int, body: OverrideIn, session: SessionDep, user: Reviewer, now: Now
) -> ApprovalRead:
    approval = service.request_override(
        session, actor=user, claim_id=claim_id, reason=body.reason, now=now
    )
    return ApprovalRead.of(approval)


@router.post("/{claim_id}/reject", summary="Reject with a reason")
def reject(
    claim_id: int, body: RejectIn, session: SessionDep, user: Reviewer, now: Now
) -> ReimbursementRead:
    claim = service.reject_claim(
        session, actor=user, claim_id=claim_id, reason=body.reason, now=now
    )
    return read_claim(session, claim)


@router.post(
    "/{claim_id}/pay",
    summary="Record the payout (Idempotency-Key: exactly once)",
    response_model=ReimbursementRead,
)
def pay(
    claim_id: int,
    request: Request,
    session: SessionDep,
    user: Reviewer,
    now: Now,
    body: PayIn | None = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    paying = body or PayIn()

    def operation() -> tuple[int, Any]:
        claim = service.pay_claim(
            session,
            actor=user,
            claim_id=claim_id,
            reference=paying.reference,
            collector_name=paying.collector_name,
            collector_identity_number=paying.collector_identity_number,
            collector_relation=paying.collector_relation,
            now=now,
        )
        return 200, read_claim(session, claim).model_dump(mode="json")

    return idempotent(
        request,
        session,
        user=user,
        key=idempotency_key,
        payload={"claim_id": claim_id, **paying.model_dump(mode="json")},
        operation=operation,
        key_required=False,
    )


@router.get("/{claim_id}/decision", summary="The decision as JSON")
def decision(claim_id: int, session: SessionDep, user: Anyone) -> dict[str, Any]:
    return service.decision_for(session, actor=user, claim_id=claim_id)


@router.get(
    "/{claim_id}/decision.pdf",
    summary="The printable decision letter",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def decision_pdf(claim_id: int, session: SessionDep, user: Anyone) -> Response:
    data = service.decision_for(session, actor=user, claim_id=claim_id)
    return Response(
        letter_pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="reimbursement-{claim_id}.pdf"'},
    )
