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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final

import segno
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.clearing import service as clearing
from yibao.clock import business_date
from yibao.identity import mask_identity_number
from yibao.money import from_fen
from yibao.registry import service as registry
from yibao.verification import service as verification
from yibao.verification.service import Printed
from yibao.web.files import kind_name
from yibao.web.page import Page, SignedInPage, check_csrf, now
from yibao.web.pdf import PDF_MEDIA_TYPE, html_to_pdf
from yibao.web.routes import MAX_ID, Names, PageRoute
from yibao.web.settlement_view import settlement_shown

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


@dataclass(frozen=True, slots=True)
class Document:
    """A printed document: its template, its printed version and its context."""

    template: str
    printed: Printed
    filename: str  # the PDF's, without ".pdf"
    context: dict[str, Any]


def _values(request: Request, document: Document, *, pdf: bool, pdf_path: str) -> dict[str, Any]:
    """What a printed document's template needs: its header, its verification block (the
    code and the QR code of its check page) and its body's context."""
    printed = document.printed
    url = verify_url(request, printed.code)
    return {
        "printed": printed,
        "verify_url": url,
        "verify_path": f"/verify/{printed.code}",
        "pdf_path": pdf_path,
        "qr": qr_data_uri(url),
        "issued_on": business_date(printed.issued_at),
        "pdf": pdf,
        "layout": "print_pdf.html" if pdf else "base.html",
        **document.context,
    }


def _answer(page: Page, request: Request, document: Document, *, pdf: bool) -> Response:
    """The document as a page, or (``pdf``) as a PDF from the same template."""
    path = request.url.path.removesuffix(".pdf")
    values = _values(request, document, pdf=pdf, pdf_path=f"{path}.pdf")
    if not pdf:
        return page.render(document.template, **values)
    html = page.renderer.render(
        page.lang,
        document.template,
        {"page": page, "viewer": None, "csrf_token": "", "path": "", "switch_url": "", **values},
    )
    response = Response(
        html_to_pdf(html),
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{document.filename}.pdf"'},
    )
    return page.finish(response)


Issue = Callable[[Page, Session, Request, int], Document]


def _routes(path: str, issue: Issue) -> Issue:
    """A document's two routes: ``path`` (the page) and ``path.pdf`` (the PDF), both
    issued by ``issue`` (the PDF's route first: ``/print/clearing/5.pdf`` must not be read
    as the page of statement "5.pdf")."""

    def as_pdf(
        page: SignedInPage, session: SessionDep, request: Request, object_id: Id
    ) -> Response:
        return _answer(page, request, issue(page, session, request, object_id), pdf=True)

    def as_page(
        page: SignedInPage, session: SessionDep, request: Request, object_id: Id
    ) -> Response:
        return _answer(page, request, issue(page, session, request, object_id), pdf=False)

    name = issue.__name__.strip("_")
    router.add_api_route(f"{path}.pdf", as_pdf, methods=["GET"], name=f"{name}_pdf")
    router.add_api_route(path, as_page, methods=["GET"], name=f"{name}_page")
    return issue


# --- the filing certificate (备案凭证) ---------------------------------------------------------


def _certificate(page: Page, session: Session, request: Request, filing_id: int) -> Document:
    printed, cert = verification.issue_filing_certificate(
        session, actor=page.actor, filing_id=filing_id, secret=secret_of(request), now=now()
    )
    return Document(
        "print_certificate.html",
        printed,
        f"certificate-{cert['filing_number']}",
        {
            "cert": cert,
            "valid_from": date.fromisoformat(cert["valid_from"]),
            "valid_to": date.fromisoformat(cert["valid_to"]) if cert["valid_to"] else None,
            "approved_on": (
                date.fromisoformat(cert["approved_on"]) if cert["approved_on"] else None
            ),
            "filing_id": filing_id,
        },
    )


_routes("/print/filings/{object_id}/certificate", _certificate)


# --- the settlement slip (结算单) --------------------------------------------------------------


def _slip(page: Page, session: Session, request: Request, settlement_id: int) -> Document:
    printed, row = verification.issue_settlement_slip(
        session, actor=page.actor, settlement_id=settlement_id, secret=secret_of(request), now=now()
    )
    return Document(
        "print_slip.html", printed, f"slip-{printed.number}", settlement_shown(page, session, row)
    )


_routes("/print/settlements/{object_id}/slip", _slip)


def window_slip(page: Page, session: Session, request: Request, settlement_id: int) -> Response:
    """The window's slip (``/window/settlements/{id}/slip``, printed with the browser): the
    same printed version as the PDF, with its issuer, number and verification code."""
    document = _slip(page, session, request, settlement_id)
    pdf_path = f"/print/settlements/{settlement_id}/slip.pdf"
    return page.render(
        "window_slip.html", **_values(request, document, pdf=False, pdf_path=pdf_path)
    )


# --- the decision letter (报销决定书) -----------------------------------------------------------


def _decision(page: Page, session: Session, request: Request, claim_id: int) -> Document:
    printed, claim, decision = verification.issue_claim_letter(
        session, actor=page.actor, claim_id=claim_id, secret=secret_of(request), now=now()
    )
    person = registry.get_person(session, person_id=claim.person_id)
    return Document(
        "print_decision.html",
        printed,
        f"decision-{printed.number}",
        {
            "claim": claim,
            "decision": decision,
            "person": person,
            "identity_masked": mask_identity_number(person.identity_number),
            "names": Names(session),
            "amounts": (decision or {}).get("settlement") or {},
            "payout": from_fen(claim.payout_fen) if claim.payout_fen is not None else None,
            "missing": [kind_name(kind, page.lang) for kind in claim.missing_documents or []],
            "decided_on": business_date(claim.decided_at) if claim.decided_at else None,
        },
    )


_routes("/print/claims/{object_id}/decision", _decision)


# --- the clearing statement (清算单) -----------------------------------------------------------


def _statement(page: Page, session: Session, request: Request, statement_id: int) -> Document:
    printed, row = verification.issue_clearing_statement(
        session, actor=page.actor, statement_id=statement_id, secret=secret_of(request), now=now()
    )
    figures = {
        name: from_fen(getattr(row, f"{name}_fen")) for name in (*STATEMENT_FUNDS, "total", "cash")
    }
    return Document(
        "print_statement.html",
        printed,
        f"statement-{printed.number}",
        {
            "row": row,
            "names": Names(session),
            "figures": figures,
            "due": from_fen(clearing.amount_due_fen(row)),
            "funds": STATEMENT_FUNDS,
            "confirmed_on": business_date(row.confirmed_at) if row.confirmed_at else None,
        },
    )


_routes("/print/clearing/{object_id}", _statement)
