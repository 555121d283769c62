"""HTTP routes for filings (备案), under ``/api/v1/filings``. Thin: the service decides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.clock import china_today
from yibao.documents.models import DocumentOwner
from yibao.documents.routes import DocumentUpload, document_file
from yibao.documents.schemas import FilingDocumentRead
from yibao.filings import repository as repo
from yibao.filings import rules, service, views
from yibao.filings.certificate import certificate_pdf
from yibao.filings.models import Filing
from yibao.filings.schemas import (
    CertificateCheckRead,
    FilingCancel,
    FilingChange,
    FilingCorrect,
    FilingCreate,
    FilingRead,
    FilingReject,
    FilingReturn,
    FilingSummary,
    FilingWithdraw,
    HospitalRead,
    LocalUseRead,
)

router = APIRouter(prefix="/filings", tags=["filings"])

APPLICANTS = ("insured", "unit", "street_office", "agency", "admin")
ANYONE = ("insured", "unit", "street_office", "agency", "hospital", "admin")
REVIEWERS = ("agency", "admin")
VERIFIERS = ("hospital", "agency", "admin")


def get_today() -> date:
    """Today's date; tests override this dependency to run a filing across months."""
    return china_today()


def get_now() -> datetime:
    return datetime.now(UTC)


Today = Annotated[date, Depends(get_today)]
Now = Annotated[datetime, Depends(get_now)]
Applicant = Annotated[User, require_roles(*APPLICANTS)]
Anyone = Annotated[User, require_roles(*ANYONE)]
Reviewer = Annotated[User, require_roles(*REVIEWERS)]
Hospital = Annotated[User, require_roles("hospital")]
Verifier = Annotated[User, require_roles(*VERIFIERS)]


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def _read(session: Session, filing: Filing, user: User, today: date) -> FilingRead:
    out = FilingRead.model_validate(filing)
    out.state = views.current_state(filing, today)
    out.category_name = rules.category_name(filing.category)
    out.allowed_actions = views.allowed_actions(session, actor=user, filing=filing, today=today)
    stamps = views.hospital_stamps(session, filing=filing)
    out.hospitals = [
        HospitalRead.model_validate(h).model_copy(
            update={"stamped_at": stamps[h.id].stamped_at if h.id in stamps else None}
        )
        for h in views.applicable_hospitals(session, filing=filing)
    ]
    out.documents = [
        FilingDocumentRead.model_validate(d) for d in repo.documents(session, filing.id)
    ]
    # One definition of what is still missing, in both fields (missing_documents is kept
    # for older clients); what the last return asked for is return_requested_documents.
    still_missing = views.missing_documents(session, filing=filing)
    out.documents_still_missing = still_missing
    out.missing_documents = list(still_missing)
    out.return_requested_documents = filing.missing_documents
    out.hospital_stamps_required = views.needs_hospital_stamps(filing)
    out.hospitals_to_stamp = [h.id for h in views.hospitals_to_stamp(session, filing=filing)]
    out.local_use_from = views.local_use_from(filing, today)
    return out


@router.post("", status_code=status.HTTP_201_CREATED, summary="Apply for a filing (draft)")
def create_filing(
    body: FilingCreate, session: SessionDep, user: Applicant, today: Today
) -> FilingRead:
    filing = service.create_filing(
        session,
        actor=user,
        request=service.FilingRequest(
            person_id=body.person_id,
            category=body.category,
            destination=body.destination,
            requested_start=body.requested_start,
            hospital_ids=body.hospital_ids,
            referral_hospital_id=body.referral_hospital_id,
            hotline_reference=body.hotline.reference if body.hotline else None,
            hotline_called_at=body.hotline.called_at if body.hotline else None,
            treatment_start=body.treatment_start,
            treatment_end=body.treatment_end,
        ),
        today=today,
    )
    return _read(session, filing, user, today)


@router.get("", summary="Filings the caller may see")
def list_filings(
    session: SessionDep,
    user: Anyone,
    person_id: int | None = None,
    state: str | None = None,
) -> list[FilingSummary]:
    rows = service.list_filings(session, actor=user, person_id=person_id, state=state)
    return [FilingSummary.model_validate(f) for f in rows]


@router.get("/queue", summary="Review queue of the reviewer's insured region")
def review_queue(session: SessionDep, user: Reviewer) -> list[FilingSummary]:
    return [FilingSummary.model_validate(f) for f in service.review_queue(session, actor=user)]


@router.get("/local-use", summary="Whether the card is suspended at home on a day")
def local_use(
    request: Request,
    session: SessionDep,
    user: Anyone,
    person_id: int,
    today: Today,
    on: Annotated[date | None, Query()] = None,
) -> LocalUseRead:
    result = service.local_use_for(
        session,
        actor=user,
        person_id=person_id,
        on=on or today,
        local_use_while_filed=request.app.state.settings.policy_local_use_while_filed,
    )
    return LocalUseRead.model_validate(result, from_attributes=True)


@router.get(
    "/verify",
    summary="Check a presented filing certificate by its number and verification code",
)
def verify_certificate(
    request: Request,
    session: SessionDep,
    user: Verifier,
    today: Today,
    number: Annotated[str, Query(max_length=40, examples=["BA110000-2026-000001"])],
    code: Annotated[str, Query(max_length=20)],
) -> CertificateCheckRead:
    check = views.verify_certificate(
        session, actor=user, number=number, code=code, secret=_secret(request), today=today
    )
    return CertificateCheckRead.model_validate(check)


@router.get("/{filing_id}", summary="One filing with its documents and hospitals")
def get_filing(filing_id: int, session: SessionDep, user: Anyone, today: Today) -> FilingRead:
    return _read(session, views.get_filing(session, actor=user, filing_id=filing_id), user, today)


@router.post(
    "/{filing_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (PDF, JPEG or PNG)",
)
def upload_document(
    filing_id: int, session: SessionDep, user: Applicant, upload: DocumentUpload
) -> FilingDocumentRead:
    doc = service.upload_document(session, actor=user, filing_id=filing_id, upload=upload)
    return FilingDocumentRead.model_validate(doc)


@router.get("/{filing_id}/documents/{document_id}", summary="Download an uploaded document")
def download_document(
    filing_id: int, document_id: int, request: Request, session: SessionDep, user: Anyone
) -> FileResponse:
    views.get_filing(session, actor=user, filing_id=filing_id)
    return document_file(
        request, session, owner=DocumentOwner.filing(filing_id), document_id=document_id
    )


@router.post("/{filing_id}/referral-stamp", summary="Stamp the referral certificate (hospital)")
def stamp_referral(
    filing_id: int, session: SessionDep, user: Hospital, now: Now, today: Today
) -> FilingRead:
    filing = service.stamp_referral(session, actor=user, filing_id=filing_id, now=now)
    return _read(session, filing, user, today)


@router.post(
    "/{filing_id}/hospital-stamp",
    summary="Stamp the resettlement form as one of the chosen hospitals (seed 000)",
)
def stamp_hospital(
    filing_id: int, session: SessionDep, user: Hospital, now: Now, today: Today
) -> FilingRead:
    filing = service.stamp_hospital(session, actor=user, filing_id=filing_id, now=now)
    return _read(session, filing, user, today)


@router.post("/{filing_id}/submit", summary="Submit, or resubmit after a return")
def submit(filing_id: int, session: SessionDep, user: Applicant, today: Today) -> FilingRead:
    filing = service.submit_filing(session, actor=user, filing_id=filing_id, today=today)
    return _read(session, filing, user, today)


@router.post("/{filing_id}/withdraw", summary="Withdraw an application before its decision (kept)")
def withdraw(
    filing_id: int,
    session: SessionDep,
    user: Applicant,
    today: Today,
    body: FilingWithdraw | None = None,
) -> FilingRead:
    filing = service.withdraw_filing(
        session,
        actor=user,
        filing_id=filing_id,
        reason=body.reason if body else None,
        today=today,
    )
    return _read(session, filing, user, today)


@router.post("/{filing_id}/approve", summary="Approve (reviewer of the insured region)")
def approve(filing_id: int, session: SessionDep, user: Reviewer, today: Today) -> FilingRead:
    filing = service.approve_filing(session, actor=user, filing_id=filing_id, today=today)
    return _read(session, filing, user, today)


@router.post("/{filing_id}/reject", summary="Reject with a reason")
def reject(
    filing_id: int, body: FilingReject, session: SessionDep, user: Reviewer, today: Today
) -> FilingRead:
    filing = service.reject_filing(
        session, actor=user, filing_id=filing_id, reason=body.reason, today=today
    )
    return _read(session, filing, user, today)


@router.post("/{filing_id}/return", summary="Return for missing documents, listing them")
def return_filing(
    filing_id: int, body: FilingReturn, session: SessionDep, user: Reviewer, today: Today
) -> FilingRead:
    filing = service.return_filing(
        session,
        actor=user,
        filing_id=filing_id,
        missing=body.missing_documents,
        note=body.note,
        today=today,
    )
    return _read(session, filing, user, today)


@router.post(
    "/{filing_id}/change", summary="Change destination, hospitals or category after the lock"
)
def change(
    filing_id: int, body: FilingChange, session: SessionDep, user: Applicant, today: Today
) -> FilingRead:
    filing = service.change_filing(
        session,
        actor=user,
        filing_id=filing_id,
        destination=body.destination,
        hospital_ids=body.hospital_ids,
        category=body.category,
        today=today,
    )
    return _read(session, filing, user, today)


@router.post(
    "/{filing_id}/correct",
    summary="Correct an approved filing, inside the lock too (centre, with a reason)",
)
def correct(
    filing_id: int, body: FilingCorrect, session: SessionDep, user: Reviewer, today: Today
) -> FilingRead:
    filing = service.correct_filing(
        session,
        actor=user,
        filing_id=filing_id,
        reason=body.reason,
        edit=service.FilingEdit(
            destination=body.destination, hospital_ids=body.hospital_ids, category=body.category
        ),
        today=today,
    )
    return _read(session, filing, user, today)


@router.post(
    "/{filing_id}/cancel", summary="Cancel at any time; the card works at home from the next day"
)
def cancel(
    filing_id: int,
    session: SessionDep,
    user: Applicant,
    today: Today,
    body: FilingCancel | None = None,
) -> FilingRead:
    filing = service.cancel_filing(
        session, actor=user, filing_id=filing_id, reason=body.reason if body else None, today=today
    )
    return _read(session, filing, user, today)


@router.post(
    "/{filing_id}/renew",
    status_code=status.HTTP_201_CREATED,
    summary="Re-apply after expiry (a new draft)",
)
def renew(filing_id: int, session: SessionDep, user: Applicant, today: Today) -> FilingRead:
    filing = service.renew_filing(session, actor=user, filing_id=filing_id, today=today)
    return _read(session, filing, user, today)


@router.get("/{filing_id}/certificate", summary="The filing certificate as JSON")
def certificate_json(
    filing_id: int, request: Request, session: SessionDep, user: Anyone
) -> dict[str, Any]:
    return views.certificate(session, actor=user, filing_id=filing_id, secret=_secret(request))


@router.get(
    "/{filing_id}/certificate.pdf",
    summary="The filing certificate as a printable PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_file(
    filing_id: int, request: Request, session: SessionDep, user: Anyone
) -> Response:
    cert = views.certificate(session, actor=user, filing_id=filing_id, secret=_secret(request))
    return Response(
        certificate_pdf(cert),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{cert["filing_number"]}.pdf"'},
    )
