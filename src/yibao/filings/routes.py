"""HTTP routes for filings (备案), under ``/api/v1/filings``. Thin: the service decides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.errors import NotFound
from yibao.filings import repository as repo
from yibao.filings import service
from yibao.filings.certificate import certificate_pdf
from yibao.filings.models import Filing
from yibao.filings.schemas import (
    DocumentRead,
    FilingCancel,
    FilingChange,
    FilingCreate,
    FilingRead,
    FilingReject,
    FilingReturn,
    FilingSummary,
    HospitalRead,
    LocalUseRead,
)
from yibao.filings.states import allowed_actions

router = APIRouter(prefix="/filings", tags=["filings"])

APPLICANTS = ("insured", "unit", "street_office", "agency", "admin")
ANYONE = ("insured", "unit", "street_office", "agency", "hospital", "admin")
REVIEWERS = ("agency", "admin")


def get_today() -> date:
    """Today's date; tests override this dependency to run a filing across months."""
    return date.today()


def get_now() -> datetime:
    return datetime.now(UTC)


Today = Annotated[date, Depends(get_today)]
Now = Annotated[datetime, Depends(get_now)]
Applicant = Annotated[User, require_roles(*APPLICANTS)]
Anyone = Annotated[User, require_roles(*ANYONE)]
Reviewer = Annotated[User, require_roles(*REVIEWERS)]
Hospital = Annotated[User, require_roles("hospital")]


def _read(session: Session, filing: Filing) -> FilingRead:
    out = FilingRead.model_validate(filing)
    out.allowed_actions = allowed_actions(filing.state)
    out.hospitals = [
        HospitalRead.model_validate(h) for h in service.applicable_hospitals(session, filing=filing)
    ]
    out.documents = [DocumentRead.model_validate(d) for d in repo.documents(session, filing.id)]
    out.documents_still_missing = service.missing_documents(session, filing=filing)
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
    return _read(session, filing)


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


@router.get("/{filing_id}", summary="One filing with its documents and hospitals")
def get_filing(filing_id: int, session: SessionDep, user: Anyone) -> FilingRead:
    return _read(session, service.get_filing(session, actor=user, filing_id=filing_id))


@router.post(
    "/{filing_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (PDF, JPEG or PNG)",
)
def upload_document(
    filing_id: int,
    request: Request,
    session: SessionDep,
    user: Applicant,
    doc_type: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> DocumentRead:
    settings = request.app.state.settings
    limit: int = settings.upload_max_bytes
    data = file.file.read(limit + 1)
    doc = service.upload_document(
        session,
        actor=user,
        filing_id=filing_id,
        doc_type=doc_type,
        filename=file.filename or "upload",
        content_type=file.content_type or "application/octet-stream",
        data=data,
        upload_dir=settings.upload_dir,
        max_bytes=limit,
    )
    return DocumentRead.model_validate(doc)


@router.get("/{filing_id}/documents/{document_id}", summary="Download an uploaded document")
def download_document(
    filing_id: int, document_id: int, request: Request, session: SessionDep, user: Anyone
) -> FileResponse:
    service.get_filing(session, actor=user, filing_id=filing_id)
    doc = repo.document(session, filing_id, document_id)
    if doc is None:
        raise NotFound(f"document {document_id} not found", code="filing.document_not_found")
    path = request.app.state.settings.upload_dir / doc.storage_path
    return FileResponse(path, media_type=doc.content_type, filename=doc.filename)


@router.post("/{filing_id}/referral-stamp", summary="Stamp the referral certificate (hospital)")
def stamp_referral(filing_id: int, session: SessionDep, user: Hospital, now: Now) -> FilingRead:
    filing = service.stamp_referral(session, actor=user, filing_id=filing_id, now=now)
    return _read(session, filing)


@router.post("/{filing_id}/submit", summary="Submit, or resubmit after a return")
def submit(filing_id: int, session: SessionDep, user: Applicant, today: Today) -> FilingRead:
    return _read(
        session, service.submit_filing(session, actor=user, filing_id=filing_id, today=today)
    )


@router.post("/{filing_id}/approve", summary="Approve (reviewer of the insured region)")
def approve(filing_id: int, session: SessionDep, user: Reviewer, today: Today) -> FilingRead:
    filing = service.approve_filing(session, actor=user, filing_id=filing_id, today=today)
    return _read(session, filing)


@router.post("/{filing_id}/reject", summary="Reject with a reason")
def reject(
    filing_id: int, body: FilingReject, session: SessionDep, user: Reviewer, today: Today
) -> FilingRead:
    filing = service.reject_filing(
        session, actor=user, filing_id=filing_id, reason=body.reason, today=today
    )
    return _read(session, filing)


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
    return _read(session, filing)


@router.post("/{filing_id}/change", summary="Change destination or hospitals after the lock")
def change(
    filing_id: int, body: FilingChange, session: SessionDep, user: Applicant, today: Today
) -> FilingRead:
    filing = service.change_filing(
        session,
        actor=user,
        filing_id=filing_id,
        destination=body.destination,
        hospital_ids=body.hospital_ids,
        today=today,
    )
    return _read(session, filing)


@router.post("/{filing_id}/cancel", summary="Cancel; local use works again from the next day")
def cancel(
    filing_id: int, body: FilingCancel, session: SessionDep, user: Applicant, today: Today
) -> FilingRead:
    filing = service.cancel_filing(
        session, actor=user, filing_id=filing_id, reason=body.reason, today=today
    )
    return _read(session, filing)


@router.post(
    "/{filing_id}/renew",
    status_code=status.HTTP_201_CREATED,
    summary="Re-apply after expiry (a new draft)",
)
def renew(filing_id: int, session: SessionDep, user: Applicant, today: Today) -> FilingRead:
    return _read(
        session, service.renew_filing(session, actor=user, filing_id=filing_id, today=today)
    )


@router.get("/{filing_id}/certificate", summary="The filing certificate as JSON")
def certificate_json(filing_id: int, session: SessionDep, user: Anyone) -> dict[str, Any]:
    return service.certificate(session, actor=user, filing_id=filing_id)


@router.get(
    "/{filing_id}/certificate.pdf",
    summary="The filing certificate as a printable PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_file(filing_id: int, session: SessionDep, user: Anyone) -> Response:
    cert = service.certificate(session, actor=user, filing_id=filing_id)
    return Response(
        certificate_pdf(cert),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{cert["filing_number"]}.pdf"'},
    )
