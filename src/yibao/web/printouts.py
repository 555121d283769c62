"""Printed documents (打印文书): the filing certificate, the settlement slip, the decision
letter on a reimbursement claim and the clearing statement, each as a page and as a PDF
rendered from the same template (:mod:`yibao.web.pdf`).

Every document is read through :mod:`yibao.verification.service` with the signed-in user as
the actor: it reads the object through its own concept's service (whoever may see the object
may print it, anyone else gets 404) and records the printed version with its verification
code. Each document carries the issuer, its number, the date, and the code with a QR code of
its public check page (``/verify/<code>``, :mod:`yibao.web.verify`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

import segno
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from yibao.auth.deps import SessionDep
from yibao.clearing import service as clearing
from yibao.clock import business_date
from yibao.documents.kinds import KIND_NAMES, DocumentKind
from yibao.engine.phrases import Lang
from yibao.identity import mask_identity_number
from yibao.money import from_fen
from yibao.registry.models import Person
from yibao.settlements import service as settlements
from yibao.verification import service as verification
from yibao.verification.service import Printed
from yibao.web.page import Page, SignedInPage, check_csrf, now
from yibao.web.pdf import PDF_MEDIA_TYPE, html_to_pdf
from yibao.web.routes import MAX_ID, Names, PageRoute

FUNDS: Final = ("pool_fund_pay", "supplementary_pay", "assistance_pay")
STATEMENT_FUNDS: Final = ("pool", "supplementary", "assistance", "account")

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def secret_of(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def verify_url(request: Request, code: str) -> str:
    """The public check page of a code, on this site (what the QR code holds)."""
    return str(request.base_url).rstrip("/") + f"/verify/{code}"


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as an inline SVG image (``data:``; the CSP allows it)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#000"))


def document_name(kind: str, lang: Lang) -> str:
    """A document kind's name (身份证复印件 / copy of the identity card)."""
    try:
        names = KIND_NAMES[DocumentKind(kind)]
    except ValueError:
        return kind
    return names.chinese if lang == "zh" else names.english


def _answer(
    page: Page,
    request: Request,
    template: str,
    printed: Printed,
    *,
    pdf: bool,
    filename: str,
    **context: Any,
) -> Response:
    """The document as a page, or (``pdf``) as a PDF from the same template."""
    url = verify_url(request, printed.code)
    values = {
        "printed": printed,
        "verify_url": url,
        "verify_path": f"/verify/{printed.code}",
        "qr": qr_data_uri(url),
        "issued_on": business_date(printed.issued_at),
        "pdf": pdf,
        "layout": "print_pdf.html" if pdf else "base.html",
        **context,
    }
    if not pdf:
        return page.render(template, **values)
    html = page.renderer.render(
        page.lang,
        template,
        {"page": page, "viewer": None, "csrf_token": "", "path": "", "switch_url": "", **values},
    )
    response = Response(
        html_to_pdf(html),
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
    )
    return page.finish(response)


def _today() -> date:
    return business_date(now())


# --- the filing certificate (备案凭证) ---------------------------------------------------------


def _certificate(
    page: Page, session: SessionDep, request: Request, filing_id: int, *, pdf: bool
) -> Response:
    printed, cert = verification.issue_filing_certificate(
        session, actor=page.actor, filing_id=filing_id, secret=secret_of(request), now=now()
    )
    return _answer(
        page,
        request,
        "print_certificate.html",
        printed,
        pdf=pdf,
        filename=f"certificate-{cert['filing_number']}",
        cert=cert,
        valid_from=date.fromisoformat(cert["valid_from"]),
        valid_to=date.fromisoformat(cert["valid_to"]) if cert["valid_to"] else None,
        approved_on=date.fromisoformat(cert["approved_on"]) if cert["approved_on"] else None,
        filing_id=filing_id,
    )


@router.get("/print/filings/{filing_id}/certificate")
def certificate_page(
    page: SignedInPage, session: SessionDep, request: Request, filing_id: Id
) -> Response:
    return _certificate(page, session, request, filing_id, pdf=False)


@router.get("/print/filings/{filing_id}/certificate.pdf")
def certificate_pdf(
    page: SignedInPage, session: SessionDep, request: Request, filing_id: Id
) -> Response:
    return _certificate(page, session, request, filing_id, pdf=True)


# --- the settlement slip (结算单) --------------------------------------------------------------


def _slip(
    page: Page, session: SessionDep, request: Request, settlement_id: int, *, pdf: bool
) -> Response:
    printed, row = verification.issue_settlement_slip(
        session, actor=page.actor, settlement_id=settlement_id, secret=secret_of(request), now=now()
    )
    explained = settlements.settlement_explained(session, record_=row, lang=page.lang)
    person = session.get(Person, row.person_id)
    assert person is not None
    names = Names(session)
    return _answer(
        page,
        request,
        "print_slip.html",
        printed,
        pdf=pdf,
        filename=f"slip-{printed.number}",
        row=row,
        s=explained,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        institution=names.institution(row.institution_id),
        names=names,
        funds=FUNDS,
    )


@router.get("/print/settlements/{settlement_id}/slip")
def slip_page(
    page: SignedInPage, session: SessionDep, request: Request, settlement_id: Id
) -> Response:
    return _slip(page, session, request, settlement_id, pdf=False)


@router.get("/print/settlements/{settlement_id}/slip.pdf")
def slip_pdf(
    page: SignedInPage, session: SessionDep, request: Request, settlement_id: Id
) -> Response:
    return _slip(page, session, request, settlement_id, pdf=True)


# --- the decision letter (报销决定书) -----------------------------------------------------------


def _decision(
    page: Page, session: SessionDep, request: Request, claim_id: int, *, pdf: bool
) -> Response:
    printed, claim, decision = verification.issue_claim_letter(
        session, actor=page.actor, claim_id=claim_id, secret=secret_of(request), now=now()
    )
    person = session.get(Person, claim.person_id)
    assert person is not None
    amounts = (decision or {}).get("settlement") or {}
    return _answer(
        page,
        request,
        "print_decision.html",
        printed,
        pdf=pdf,
        filename=f"decision-{printed.number}",
        claim=claim,
        decision=decision,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        names=Names(session),
        amounts=amounts,
        payout=from_fen(claim.payout_fen) if claim.payout_fen is not None else None,
        missing=[document_name(kind, page.lang) for kind in claim.missing_documents or []],
        decided_on=business_date(claim.decided_at) if claim.decided_at else None,
    )


@router.get("/print/claims/{claim_id}/decision")
def decision_page(
    page: SignedInPage, session: SessionDep, request: Request, claim_id: Id
) -> Response:
    return _decision(page, session, request, claim_id, pdf=False)


@router.get("/print/claims/{claim_id}/decision.pdf")
def decision_pdf(
    page: SignedInPage, session: SessionDep, request: Request, claim_id: Id
) -> Response:
    return _decision(page, session, request, claim_id, pdf=True)


# --- the clearing statement (清算单) -----------------------------------------------------------


def _statement(
    page: Page, session: SessionDep, request: Request, statement_id: int, *, pdf: bool
) -> Response:
    printed, row = verification.issue_clearing_statement(
        session, actor=page.actor, statement_id=statement_id, secret=secret_of(request), now=now()
    )
    figures = {
        name: from_fen(getattr(row, f"{name}_fen")) for name in (*STATEMENT_FUNDS, "total", "cash")
    }
    return _answer(
        page,
        request,
        "print_statement.html",
        printed,
        pdf=pdf,
        filename=f"statement-{printed.number}",
        row=row,
        names=Names(session),
        figures=figures,
        due=from_fen(clearing.amount_due_fen(row)),
        funds=STATEMENT_FUNDS,
        confirmed_on=business_date(row.confirmed_at) if row.confirmed_at else None,
    )


@router.get("/print/clearing/{statement_id}.pdf")
def statement_pdf(
    page: SignedInPage, session: SessionDep, request: Request, statement_id: Id
) -> Response:
    return _statement(page, session, request, statement_id, pdf=True)


# after the PDF: "/print/clearing/5.pdf" must not be read as the page of statement "5.pdf"
@router.get("/print/clearing/{statement_id}")
def statement_page(
    page: SignedInPage, session: SessionDep, request: Request, statement_id: Id
) -> Response:
    return _statement(page, session, request, statement_id, pdf=False)
