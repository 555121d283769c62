"""The centre's review of manual reimbursement claims (零星报销审核).

The queue of the agency's own region (``reimbursements.service.claims_page`` scopes it),
oldest or newest first, filtered by case and by audit finding, a page at a time (htmx
swaps the table; every link and form also works without it). A claim's page shows its
documents inline (images as pictures, PDFs opened in a new tab), the fee lines, what the
engine would pay and why, and the audit findings with their evidence; the reviewer starts
the review, returns the claim with the list of missing documents, approves, rejects with a
reason, asks a second reviewer to override blocking findings (四眼原则, answered "pending"
until another reviewer approves it under 复核), and records the payout. Every action is the
service function the API's route calls, with the signed-in reviewer as the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.claim_checks.checks import CHECK_CODES, severity
from yibao.clock import as_utc, business_date
from yibao.engine import explanation_lines
from yibao.engine.render import MONEY_FIELDS
from yibao.identity import mask_identity_number
from yibao.registry import access as registry_access
from yibao.registry.models import Person
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.rules import CASES
from yibao.web.claims import claim_context, claim_document, form_error
from yibao.web.forms import act, attempt, status_of
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

CLAIMS_PER_PAGE: Final = 20
DEFAULT_REGION: Final = "000000"  # no region's own file: the default reimbursement rules

FINDINGS: Final = {
    "audit.duplicate_invoice": N_("Invoice claimed twice"),
    "audit.overlapping_stay": N_("Overlapping hospital stays"),
    "audit.total_mismatch": N_("Totals disagree"),
    "audit.sex_age_inconsistent": N_("Item does not fit the patient's sex or age"),
    "audit.frequency_limit": N_("Item given more often than allowed"),
}
SEVERITIES: Final = {
    "blocking": N_("Blocks the approval"),
    "warning": N_("Warning only"),
}
EVIDENCE: Final = {
    "invoice_number": N_("Invoice number"),
    "times": N_("Times found"),
    "within_claim": N_("Within this claim"),
    "other_kind": N_("Other record"),
    "other_ref": N_("Its number"),
    "other_person_id": N_("Its person"),
    "other_treatment_date": N_("Its treatment day"),
    "stay": N_("This stay"),
    "other_stay": N_("The other stay"),
    "overlap": N_("Overlapping days"),
    "compared": N_("Compared figures"),
    "declared": N_("Declared amount"),
    "lines_total": N_("Sum of the lines"),
    "difference": N_("Difference (yuan)"),
    "invoices": N_("Invoices given"),
    "line": N_("Line"),
    "line_id": N_("Line"),
    "code": N_("Code"),
    "person_sex": N_("Sex of the person"),
    "person_age": N_("Age of the person"),
    "restriction": N_("Restriction of the item"),
    "day": N_("Day of the item"),
    "limit": N_("Times allowed"),
    "in_this": N_("In this claim"),
    "elsewhere": N_("In other records"),
}
APPROVAL_STATES: Final = {
    "pending": N_("Waiting for a second reviewer"),
    "approved": N_("Approved by a second reviewer"),
    "rejected": N_("Refused by a second reviewer"),
}
QUEUE_STATES: Final = {
    "": N_("Awaiting review"),
    "all": N_("All claims"),
    "returned": N_("Returned for completion"),
    "approved": N_("Approved"),
    "paid": N_("Paid"),
    "rejected": N_("Rejected"),
}
OVERRIDE_PENDING: Final = N_(
    "The override was asked for: it waits for a second reviewer under Approvals."
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def _region(session: Session, page: Page) -> str:
    return registry_access.center_region(session, page.actor) or DEFAULT_REGION


# --- the queue -----------------------------------------------------------------------------


@router.get("/agency/claims")
def review_queue(
    page: AgencyPage,
    session: SessionDep,
    request: Request,
    state: Annotated[Literal["", "all", "returned", "approved", "paid", "rejected"], Query()] = "",
    case: Annotated[str, Query(max_length=40)] = "",
    finding: Annotated[str, Query(max_length=40)] = "",
    sort: Annotated[Literal["oldest", "newest"], Query()] = "oldest",
    number: PageNumber = 1,
) -> Response:
    """The claims of the centre's region awaiting review (or in another state), oldest
    first by default; an htmx request gets only the table."""
    case = case if case in CASES else ""
    finding = finding if finding in CHECK_CODES else ""
    ask = Paging(number, CLAIMS_PER_PAGE)
    rows = reimbursements.claims_page(
        session,
        actor=page.actor,
        queue=state == "",
        state=None if state in ("", "all") else state,
        case_type=case or None,
        finding=finding or None,
        oldest_first=sort == "oldest",
        limit=ask.limit,
        offset=ask.offset,
    )
    shown, next_page = ask.split(rows)
    today = business_date(now())
    filters = {"state": state, "case": case, "finding": finding, "sort": sort}
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    context: dict[str, Any] = {
        "claims": shown,
        "persons": reimbursements.claimants(session, shown),
        "findings": reimbursements.finding_codes_by_claim(session, shown),
        "ages": {c.id: (today - business_date(as_utc(c.submitted_at))).days for c in shown},
        "names": Names(session),
        "filters": filters,
        "query": query,
        "number": number,
        "next_page": next_page,
        "region": _region(session, page),
        "cases": CASES,
        "finding_codes": CHECK_CODES,
        "finding_names": FINDINGS,
        "queue_states": QUEUE_STATES,
        "severity": severity,
    }
    if page.htmx:
        return page.render("review_claims_table.html", **context)
    return page.render("review_claims.html", **context)


# --- one claim -----------------------------------------------------------------------------


def _review_page(
    page: Page,
    session: Session,
    claim_id: int,
    *,
    error: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Response:
    claim = reimbursements.get_claim(session, actor=page.actor, claim_id=claim_id)
    context = claim_context(page, session, claim)
    person = session.get(Person, claim.person_id)
    assert person is not None
    preview, preview_error = None, None
    if claim.settlement_id is None and claim.state not in ("rejected",):
        result, preview_error = attempt(
            session,
            lambda: reimbursements.preview_claim(session, actor=page.actor, claim_id=claim.id),
        )
        if result is not None:
            preview = {
                "amounts": {name: getattr(result, name) for name in MONEY_FIELDS},
                "explanation": explanation_lines(result, lang=page.lang),
                "status": result.status,
                "reason": result.reason,
            }
    found = reimbursements.findings(session, claim)
    return page.render(
        "review_claim.html",
        status_code=status_of(error),
        error=form_error(page, error),
        notice=notice,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        preview=preview,
        preview_error=preview_error,
        found=found,
        blocking=[f for f in found if f.severity == "blocking"],
        overrides=reimbursements.override_requests(session, actor=page.actor, claim_id=claim.id),
        finding_names=FINDINGS,
        severities=SEVERITIES,
        evidence_names=EVIDENCE,
        approval_states=APPROVAL_STATES,
        money_fields=MONEY_FIELDS,
        **context,
    )


@router.get("/agency/claims/{claim_id}")
def review_claim(
    page: AgencyPage,
    session: SessionDep,
    claim_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    asked: Annotated[Literal["", "override"], Query()] = "",
) -> Response:
    notice = OVERRIDE_PENDING if asked == "override" else None
    return _review_page(page, session, claim_id, notice=notice)


@router.get("/agency/claims/{claim_id}/documents/{document_id}")
def review_document(
    page: AgencyPage,
    session: SessionDep,
    claim_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return claim_document(page, session, claim_id, document_id)


def _act(page: Page, session: Session, claim_id: int, call: Callable[[], Any]) -> Response:
    """Run a reviewer's action; back to the claim, or the claim with the error."""
    return act(
        page,
        session,
        call,
        then=f"/agency/claims/{claim_id}",
        failed=lambda error: _review_page(page, session, claim_id, error=error),
    )


ClaimId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/agency/claims/{claim_id}/review")
def start_review(page: AgencyPage, session: SessionDep, claim_id: ClaimId) -> Response:
    """Take the claim for review (returned at once if a required document is missing)."""
    return _act(
        page,
        session,
        claim_id,
        lambda: reimbursements.start_review(
            session, actor=page.actor, claim_id=claim_id, now=now()
        ),
    )


@router.post("/agency/claims/{claim_id}/return")
def return_claim(
    page: AgencyPage,
    session: SessionDep,
    claim_id: ClaimId,
    missing: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Return the claim listing what is missing (none ticked: whatever is missing)."""
    return _act(
        page,
        session,
        claim_id,
        lambda: reimbursements.return_claim(
            session,
            actor=page.actor,
            claim_id=claim_id,
            missing=[m[:40] for m in missing[:20]],
            note=note.strip() or None,
            now=now(),
        ),
    )


@router.post("/agency/claims/{claim_id}/approve")
def approve(page: AgencyPage, session: SessionDep, claim_id: ClaimId) -> Response:
    return _act(
        page,
        session,
        claim_id,
        lambda: reimbursements.approve_claim(
            session, actor=page.actor, claim_id=claim_id, now=now()
        ),
    )


@router.post("/agency/claims/{claim_id}/reject")
def reject(
    page: AgencyPage,
    session: SessionDep,
    claim_id: ClaimId,
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    return _act(
        page,
        session,
        claim_id,
        lambda: reimbursements.reject_claim(
            session, actor=page.actor, claim_id=claim_id, reason=reason, now=now()
        ),
    )


@router.post("/agency/claims/{claim_id}/override")
def override(
    page: AgencyPage,
    session: SessionDep,
    claim_id: ClaimId,
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Ask to approve despite blocking findings: pending until a second reviewer decides."""
    return act(
        page,
        session,
        lambda: reimbursements.request_override(
            session, actor=page.actor, claim_id=claim_id, reason=reason, now=now()
        ),
        then=f"/agency/claims/{claim_id}?asked=override",
        failed=lambda error: _review_page(page, session, claim_id, error=error),
    )


@router.post("/agency/claims/{claim_id}/pay")
def pay(
    page: AgencyPage,
    session: SessionDep,
    claim_id: ClaimId,
    reference: Annotated[str, Form(max_length=60)] = "",
    collector_name: Annotated[str, Form(max_length=100)] = "",
    collector_identity_number: Annotated[str, Form(max_length=18)] = "",
    collector_relation: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record the payout (to the account given, or cash to a family member)."""
    return _act(
        page,
        session,
        claim_id,
        lambda: reimbursements.pay_claim(
            session,
            actor=page.actor,
            claim_id=claim_id,
            reference=reference.strip() or None,
            collector_name=collector_name.strip() or None,
            collector_identity_number=collector_identity_number.strip() or None,
            collector_relation=collector_relation or None,
            now=now(),
        ),
    )
