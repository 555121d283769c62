"""The agency's filing review pages (备案审核): the review queue of the centre's insured
region and one filing with its person, hospitals, documents and history, approved, returned
with the list of missing documents, or rejected with a reason.

Every page calls the filings' services with the signed-in agency user as the actor, as the
API's ``/filings`` routes do: the queue is scoped by the service (``review_queue_page``),
another region's filing answers 404, and the service refuses an approval by the filing's
own creator (``filing.same_user``), shown on the form.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.documents.kinds import DocumentKind
from yibao.errors import Forbidden, ValidationFailed
from yibao.filings import rules, views
from yibao.filings import service as filings
from yibao.filings.models import Filing
from yibao.filings.states import REVIEWABLE_STATES
from yibao.identity import mask_identity_number
from yibao.registry.access import identity_number_for
from yibao.web import files
from yibao.web.filing import filing_document
from yibao.web.forms import FormError, act, status_of
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, current_day
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

FILINGS_PER_PAGE: Final = 25
QUEUE_STATES: Final = tuple(sorted(str(s) for s in REVIEWABLE_STATES))
# The kinds a reviewer may ask for when returning a filing (the filings' documents).
RETURNABLE_KINDS: Final = (
    DocumentKind.IDENTITY_COPY,
    DocumentKind.RESIDENCE_PROOF,
    DocumentKind.COMMITMENT_LETTER,
    DocumentKind.RETIREMENT_CERTIFICATE,
    DocumentKind.EMPLOYMENT_PROOF,
    DocumentKind.REFERRAL_CERTIFICATE,
    DocumentKind.EMERGENCY_RECORD,
    DocumentKind.APPLICATION_FORM,
    DocumentKind.OTHER,
)

NO_MISSING_CHOSEN: Final = N_("Tick at least one missing document to return the filing.")
NO_REASON: Final = N_("Write the reason for the rejection.")

# What happened to a filing, in words (its audit entries' actions).
HISTORY_ACTIONS: Final = {
    "created": N_("Application drafted"),
    "document_uploaded": N_("Document uploaded"),
    "submit": N_("Submitted for review"),
    "resubmit": N_("Resubmitted after completion"),
    "withdraw": N_("Withdrawn"),
    "referral_stamped": N_("Referral certificate stamped"),
    "hospital_stamped": N_("Stamped by a chosen hospital"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "return": N_("Returned for missing documents"),
    "change": N_("Changed"),
    "correct": N_("Corrected by the centre"),
    "cancel": N_("Cancelled"),
    "expire": N_("Expired"),
}

SUBMITTED_VIA: Final = {
    "person": N_("The insured person"),
    "unit": N_("The insured unit"),
    "street_office": N_("The street office"),
    "agency": N_("The centre"),
}


def kind_name(kind: str, lang: str) -> str:
    """A document kind's name in the page's language, capitalised in English (a list's
    first word)."""
    name = files.kind_name(kind, lang)
    return name if lang == "zh" else name.capitalize()


# --- the queue --------------------------------------------------------------------------


@router.get("/agency/filings")
def review_queue(
    page: AgencyPage,
    session: SessionDep,
    category: Annotated[str, Query(max_length=40)] = "",
    state: Annotated[Literal["submitted", "resubmitted", ""], Query()] = "",
    order: Annotated[Literal["oldest", "newest"], Query()] = "oldest",
    number: PageNumber = 1,
) -> Response:
    """Filings waiting for review in the centre's insured region: oldest first by default,
    filtered by category and state, a page at a time."""
    if category and category not in rules.CATEGORIES:
        raise ValidationFailed(
            f"unknown category {category!r}; categories: {', '.join(rules.CATEGORIES)}",
            code="filing.category_unknown",
        )
    ask = Paging(number, FILINGS_PER_PAGE)
    try:
        rows = filings.review_queue_page(
            session,
            actor=page.actor,
            category=category or None,
            state=state or None,
            oldest_first=order == "oldest",
            limit=ask.limit,
            offset=ask.offset,
        )
        not_reviewer = False
    except Forbidden:  # a treatment region's agency reviews no filings (the service says)
        rows, not_reviewer = [], True
    today = current_day()
    shown, next_page = ask.split(rows)
    return page.render(
        "review_filings.html",
        rows=[
            {
                "filing": filing,
                "person": person,
                "identity_masked": mask_identity_number(person.identity_number),
                "waiting_days": (today - filing.submitted_on).days if filing.submitted_on else None,
            }
            for filing, person in shown
        ],
        names=Names(session),
        categories=rules.CATEGORIES,
        states=QUEUE_STATES,
        category=category,
        state=state,
        order=order,
        number=number,
        next_page=next_page,
        query=_query(category, state, order),
        not_reviewer=not_reviewer,
    )


def _query(category: str, state: str, order: str) -> str:
    parts = [f"category={category}", f"state={state}", f"order={order}"]
    return "&".join(parts)


# --- one filing ---------------------------------------------------------------------------


def _filing_page(
    page: Page,
    session: Session,
    filing_id: int,
    *,
    error: dict[str, Any] | None = None,
    failed_form: str | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    actor = page.actor
    filing: Filing = views.get_filing(session, actor=actor, filing_id=filing_id)
    today = current_day()
    person = views.person_of_filing(session, filing.person_id)
    stamps = views.hospital_stamps(session, filing=filing)
    documents = filings.filing_documents(session, actor=actor, filing_id=filing.id)
    return page.render(
        "review_filing.html",
        status_code=status_of(error),
        filing=filing,
        state=views.current_state(filing, today),
        person=person,
        identity=identity_number_for(session, actor, person)[0],
        names=Names(session),
        hospitals=views.applicable_hospitals(session, filing=filing),
        stamps=stamps,
        stamps_required=views.needs_hospital_stamps(filing),
        documents=documents,
        commitment=any(d.doc_type == DocumentKind.COMMITMENT_LETTER for d in documents),
        still_missing=views.missing_documents(session, filing=filing),
        history=filings.filing_history(session, actor=actor, filing_id=filing.id),
        actions=views.allowed_actions(session, actor=actor, filing=filing, today=today),
        reviewable=filing.state in REVIEWABLE_STATES,
        returnable=RETURNABLE_KINDS,
        kind_name=lambda kind: kind_name(kind, page.lang),
        history_actions=HISTORY_ACTIONS,
        submitted_via=SUBMITTED_VIA,
        error=error,
        failed_form=failed_form,
        entered=entered or {},
    )


@router.get("/agency/filings/{filing_id}")
def review_filing(
    page: AgencyPage,
    session: SessionDep,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return _filing_page(page, session, filing_id)


@router.get("/agency/filings/{filing_id}/documents/{document_id}")
def review_document(
    page: AgencyPage,
    session: SessionDep,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """A document of the filing, shown in the browser (the service checks who may see it)."""
    return filing_document(page, session, filing_id, document_id, disposition="inline")


@router.post("/agency/filings/{filing_id}/approve")
def approve(
    page: AgencyPage,
    session: SessionDep,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Approve (审批通过): the service gives the number and the validity."""
    actor, today = page.actor, current_day()
    return act(
        page,
        session,
        lambda: filings.approve_filing(session, actor=actor, filing_id=filing_id, today=today),
        then=f"/agency/filings/{filing_id}",
        failed=lambda error: _filing_page(
            page, session, filing_id, error=error, failed_form="approve"
        ),
    )


@router.post("/agency/filings/{filing_id}/return")
def return_filing(
    page: AgencyPage,
    session: SessionDep,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    missing: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Return for completion (退回补正), listing the missing documents."""
    actor, today = page.actor, current_day()
    chosen = [m[:40] for m in (missing or [])[:20] if m]

    def send_back() -> Filing:
        if not chosen:
            raise FormError(NO_MISSING_CHOSEN)
        return filings.return_filing(
            session,
            actor=actor,
            filing_id=filing_id,
            missing=chosen,
            note=note.strip() or None,
            today=today,
        )

    return act(
        page,
        session,
        send_back,
        then=f"/agency/filings/{filing_id}",
        failed=lambda error: _filing_page(
            page,
            session,
            filing_id,
            error=error,
            failed_form="return",
            entered={"missing": chosen, "note": note},
        ),
    )


@router.post("/agency/filings/{filing_id}/reject")
def reject(
    page: AgencyPage,
    session: SessionDep,
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Reject (不予备案) with a reason."""
    actor, today = page.actor, current_day()

    def refuse() -> Filing:
        if not reason.strip():
            raise FormError(NO_REASON)
        return filings.reject_filing(
            session, actor=actor, filing_id=filing_id, reason=reason, today=today
        )

    return act(
        page,
        session,
        refuse,
        then=f"/agency/filings/{filing_id}",
        failed=lambda error: _filing_page(
            page, session, filing_id, error=error, failed_form="reject", entered={"reason": reason}
        ),
    )
