"""The insured person's manual reimbursement claims (零星报销): list, start, follow, complete.

A person who paid in full claims the money back: the case (the reimbursement cases of the
insured region's policy data), the hospital and dates, the diagnoses, the invoices, the
fee lines (typed row by row, or a CSV file: ``code,quantity,unit_price,service_date``),
and the payout (bank account, passbook or cash to a family member). The claim is then
submitted (``reimbursements.service.submit_claim``); its page lists the documents the case
needs, shows which are still missing, takes the uploads, and once the centre returned it
for what is missing, resubmits it. Every call goes to the same service functions as the API
(``/api/v1/reimbursements``) with the signed-in person as the actor: a claim of somebody
else does not exist here (404).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.auth.models import User
from yibao.clock import business_date
from yibao.documents import service as documents
from yibao.documents.kinds import DocumentKind
from yibao.registry import repository as registry_repo
from yibao.registry.models import Person
from yibao.reimbursements import repository as claim_repo
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.models import ReimbursementClaim
from yibao.reimbursements.rules import rules_for
from yibao.reimbursements.schemas import (
    InvoiceIn,
    LineIn,
    PayoutIn,
    ReimbursementCreate,
)
from yibao.reimbursements.states import OPEN_STATES, allowed_actions
from yibao.settlements import service as settlements
from yibao.web.files import document_response, download, kind_name
from yibao.web.forms import FormError, act, attempt, status_of
from yibao.web.i18n import N_
from yibao.web.page import InsuredPage, Page, check_csrf, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

CLAIMS_PER_PAGE: Final = 20
INVOICE_ROWS: Final = 3
LINE_ROWS: Final = 5
MAX_CSV_LINES: Final = 2000
CSV_COLUMNS: Final = ("code", "quantity", "unit_price", "service_date")
CSV_EXAMPLE: Final = (
    "code,quantity,unit_price,service_date\r\n"
    "D0001,2,35.50,2026-05-02\r\n"
    "D0006,6,12.80,2026-05-03\r\n"
    "X001,1,300.00,\r\n"
)
DECIDED: Final = frozenset({"approved", "paid", "rejected"})

PAYOUT_METHODS: Final = {
    "bank_account": N_("Bank account"),
    "passbook": N_("Passbook"),
    "family_cash": N_("Cash collected by a family member"),
}
RELATIONS: Final = {
    "spouse": N_("Spouse"),
    "parent": N_("Parent"),
    "child": N_("Child"),
    "sibling": N_("Brother or sister"),
}

# the form's own words for what it refuses (each names the row and the column)
CSV_NOT_TEXT: Final = N_("The fee lines file is not a CSV text file in UTF-8.")
CSV_HEADER: Final = N_(
    "The first line of the fee lines file must name the columns %(expected)s; it reads %(found)s."
)
CSV_FIELDS: Final = N_("Fee lines file, line %(row)s: %(count)s values, expected %(expected)s.")
CSV_TOO_LONG: Final = N_("The fee lines file has more than %(limit)s lines.")
CSV_WHERE: Final = N_("Fee lines file, line %(row)s")
TYPED_WHERE: Final = N_("Fee line %(row)s")
INVOICE_WHERE: Final = N_("Invoice %(row)s")
NOT_A_NUMBER: Final = N_("%(where)s, column “%(column)s”: “%(value)s” is not a number.")
NOT_POSITIVE: Final = N_("%(where)s, column “%(column)s”: “%(value)s” must be more than 0.")
NOT_A_DATE: Final = N_(
    "%(where)s, column “%(column)s”: “%(value)s” is not a date (year-month-day, 2026-05-02)."
)
MISSING_VALUE: Final = N_("%(where)s, column “%(column)s”: the value is missing.")
TOO_LONG: Final = N_(
    "%(where)s, column “%(column)s”: the value is longer than %(limit)s characters."
)
MAX_CODE: Final = 60
TOO_PRECISE: Final = N_(
    "%(where)s, column “%(column)s”: “%(value)s” has too many digits or decimals."
)
NO_LINES: Final = N_("Give at least one fee line: type it in the table or upload the file.")
NO_INVOICE: Final = N_("Give at least one invoice with its number and amount.")
NO_DIAGNOSIS: Final = N_("Give at least one diagnosis as an ICD-10 code, such as I21.0.")
BAD_TOTAL: Final = N_("The total paid is an amount in yuan above 0, such as 2360.00.")
BAD_DATE: Final = N_("The treatment day and, for a stay, the admission day are dates.")
NO_HOSPITAL: Final = N_("Choose the hospital that treated you.")
NO_FILE: Final = N_("Choose the file to upload.")
OUT_OF_RANGE: Final = N_("A value is out of range: %(detail)s")

# column names of the typed rows (message ids), by CSV column
TYPED_COLUMNS: Final = {
    "code": N_("Catalog code"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price (yuan)"),
    "service_date": N_("Day given"),
    "number": N_("Invoice number"),
    "amount": N_("Amount (yuan)"),
}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


class ClaimFormError(Exception):
    """A form's error in the page's words, with the values to put into the message."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def say(page: Page, message: str, **params: Any) -> str:
    """A message id said in the page's language, with its values."""
    text = page.gettext(message)
    return text % params if params else text


def form_error(page: Page, error: dict[str, Any] | None) -> dict[str, Any] | None:
    """The error of ``attempt`` with its sentence in the page's language (``text``)."""
    if error is None:
        return None
    if error.get("message"):
        return {**error, "text": say(page, error["message"], **error.get("params", {}))}
    return {**error, "text": None}


def attempt_form(session: Session, call: Any) -> tuple[Any, dict[str, Any] | None]:
    """``attempt`` that also says the form's own errors with their values."""
    params: dict[str, Any] = {}

    def run() -> Any:
        try:
            return call()
        except ClaimFormError as exc:
            params.update(exc.params)
            raise FormError(exc.message) from None

    result, error = attempt(session, run)
    if error is not None:
        error["params"] = params
    return result, error


# --- reading numbers, dates and the CSV file ------------------------------------------------


def _number(text: str, *, where: str, column: str, positive: bool = True) -> Decimal:
    value = text.strip().replace(",", "")
    if not value:
        raise ClaimFormError(MISSING_VALUE, where=where, column=column)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ClaimFormError(NOT_A_NUMBER, where=where, column=column, value=text) from None
    if not number.is_finite():
        raise ClaimFormError(NOT_A_NUMBER, where=where, column=column, value=text)
    if number < 0 or (positive and number == 0):
        raise ClaimFormError(NOT_POSITIVE, where=where, column=column, value=text)
    return number


def _day(text: str, *, where: str, column: str) -> date | None:
    value = text.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ClaimFormError(NOT_A_DATE, where=where, column=column, value=text) from None


def _line(page: Page, where: str, columns: dict[str, str], values: dict[str, str]) -> LineIn:
    code = values["code"].strip()
    if not code:
        raise ClaimFormError(MISSING_VALUE, where=where, column=columns["code"])
    if len(code) > MAX_CODE:
        raise ClaimFormError(TOO_LONG, where=where, column=columns["code"], limit=MAX_CODE)
    quantity = _number(values["quantity"], where=where, column=columns["quantity"])
    price = _number(values["unit_price"], where=where, column=columns["unit_price"], positive=False)
    day = _day(values.get("service_date", ""), where=where, column=columns["service_date"])
    try:
        return LineIn(code=code, quantity=quantity, unit_price=price, service_date=day)
    except ValidationError as exc:
        column = str(exc.errors()[0]["loc"][0]) if exc.errors() else "quantity"
        raise ClaimFormError(
            TOO_PRECISE,
            where=where,
            column=columns.get(column, column),
            value=values.get(column, ""),
        ) from None


def parse_fee_csv(page: Page, data: bytes) -> list[LineIn]:
    """The fee lines of an uploaded CSV file (UTF-8, a BOM allowed; the first line names
    the columns ``code,quantity,unit_price,service_date``, the last may be left out).
    The first mistake is refused naming its line of the file and its column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClaimFormError(CSV_NOT_TEXT) from None
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_CSV_LINES + 1:
        raise ClaimFormError(CSV_TOO_LONG, limit=MAX_CSV_LINES)
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header not in (list(CSV_COLUMNS), list(CSV_COLUMNS[:3])):
        raise ClaimFormError(
            CSV_HEADER, expected=",".join(CSV_COLUMNS), found=",".join(header) or "—"
        )
    lines: list[LineIn] = []
    columns = {name: name for name in CSV_COLUMNS}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ClaimFormError(CSV_FIELDS, row=number, count=len(row), expected=len(header))
        where = say(page, CSV_WHERE, row=number)
        lines.append(_line(page, where, columns, dict(zip(header, row, strict=True))))
    return lines


# --- the new claim's form -------------------------------------------------------------------


@dataclass
class ClaimForm:
    """What the person typed, kept to show the form again after an error."""

    case_type: str = ""
    setting: str = "inpatient"
    institution_id: str = ""
    admitted_on: str = ""
    treatment_date: str = ""
    emergency: bool = False
    total: str = ""
    diagnoses: str = ""
    invoices: list[dict[str, str]] = field(default_factory=list)
    lines: list[dict[str, str]] = field(default_factory=list)
    payout_method: str = "bank_account"
    account_number: str = ""

    def padded(self) -> ClaimForm:
        """At least the form's empty rows (more when more were typed)."""
        empty_invoice = {"number": "", "amount": ""}
        empty_line = {"code": "", "quantity": "", "unit_price": "", "service_date": ""}
        self.invoices += [dict(empty_invoice) for _ in range(INVOICE_ROWS - len(self.invoices))]
        self.lines += [dict(empty_line) for _ in range(LINE_ROWS - len(self.lines))]
        return self


def _rows(*columns: list[str]) -> list[list[str]]:
    width = max((len(c) for c in columns), default=0)
    return [[c[i] if i < len(c) else "" for c in columns] for i in range(width)]


def _person_id(user: User) -> int:
    assert user.person_id is not None  # an insured user is bound to a person
    return user.person_id


def _hospitals(session: Session, names: Names) -> list[tuple[str, list[Any]]]:
    """Designated hospitals by region (as ``GET /institutions?kind=hospital``)."""
    groups: dict[str, list[Any]] = {}
    for institution in registry_repo.list_institutions(session, kind="hospital"):
        groups.setdefault(institution.region_code, []).append(institution)
    return [(names.region(code), rows) for code, rows in sorted(groups.items())]


def _new_page(
    page: Page,
    session: Session,
    form: ClaimForm,
    *,
    error: dict[str, Any] | None = None,
) -> Response:
    user = page.actor
    person = session.get(Person, _person_id(user))
    assert person is not None
    names = Names(session)
    cases = reimbursements.case_choices(person.insured_region)
    rules = rules_for(person.insured_region)
    case_documents = [
        {
            "case": name,
            "setting": setting,
            "documents": list(case.by_setting[setting]),
        }
        for name, case in rules.cases.items()
        for setting in case.by_setting
    ]
    return page.render(
        "claim_new.html",
        status_code=status_of(error),
        person=person,
        region=person.insured_region,
        cases=cases,
        case_documents=case_documents,
        hospitals=_hospitals(session, names),
        form=form.padded(),
        error=form_error(page, error),
        payout_methods=PAYOUT_METHODS,
        csv_columns=CSV_COLUMNS,
        doc_name=lambda kind: kind_name(kind, page.lang),
        today=business_date(now()).isoformat(),
    )


@router.get("/me/claims")
def my_claims(
    page: InsuredPage,
    session: SessionDep,
    request: Request,
    number: PageNumber = 1,
) -> Response:
    """The person's claims, newest first, with their state."""
    ask = Paging(number, CLAIMS_PER_PAGE)
    shown, next_page = ask.split(
        reimbursements.claims_page(session, actor=page.actor, limit=ask.limit, offset=ask.offset)
    )
    context: dict[str, Any] = {"names": Names(session), "claims": shown, "next_page": next_page}
    if page.htmx:
        return page.render("claim_rows.html", **context)
    return page.render("claim_list.html", **context)


@router.get("/me/claims/fee-lines-example.csv")
def fee_lines_example(page: InsuredPage) -> Response:
    """An example of the fee lines file (the columns the form reads)."""
    return download(
        page, CSV_EXAMPLE.encode("utf-8"), "text/csv; charset=utf-8", "fee-lines-example.csv"
    )


@router.get("/me/claims/new")
def new_claim(page: InsuredPage, session: SessionDep) -> Response:
    return _new_page(page, session, ClaimForm())


@router.post("/me/claims/new")
def submit_claim(
    page: InsuredPage,
    session: SessionDep,
    case_type: Annotated[str, Form(max_length=40)] = "",
    setting: Annotated[str, Form(max_length=12)] = "inpatient",
    institution_id: Annotated[str, Form(max_length=20)] = "",
    admitted_on: Annotated[str, Form(max_length=10)] = "",
    treatment_date: Annotated[str, Form(max_length=10)] = "",
    emergency: Annotated[str, Form(max_length=5)] = "",
    total: Annotated[str, Form(max_length=20)] = "",
    diagnoses: Annotated[str, Form(max_length=200)] = "",
    invoice_number: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
    invoice_amount: Annotated[list[str], Form()] = [],  # noqa: B006
    line_code: Annotated[list[str], Form()] = [],  # noqa: B006
    line_quantity: Annotated[list[str], Form()] = [],  # noqa: B006
    line_unit_price: Annotated[list[str], Form()] = [],  # noqa: B006
    line_date: Annotated[list[str], Form()] = [],  # noqa: B006
    fee_file: Annotated[UploadFile | None, File()] = None,
    payout_method: Annotated[str, Form(max_length=20)] = "bank_account",
    account_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Submit the claim: the fee lines typed and those of the file, the invoices, the
    payout; the documents are then uploaded on the claim's page."""
    form = ClaimForm(
        case_type=case_type,
        setting=setting,
        institution_id=institution_id,
        admitted_on=admitted_on,
        treatment_date=treatment_date,
        emergency=emergency == "yes",
        total=total,
        diagnoses=diagnoses,
        invoices=[
            {"number": n, "amount": a}
            for n, a in _rows(invoice_number[:50], invoice_amount[:50])
            if n.strip() or a.strip()
        ],
        lines=[
            {"code": c, "quantity": q, "unit_price": p, "service_date": d}
            for c, q, p, d in _rows(
                line_code[:200], line_quantity[:200], line_unit_price[:200], line_date[:200]
            )
            if c.strip() or q.strip() or p.strip() or d.strip()
        ],
        payout_method=payout_method,
        account_number=account_number,
    )
    limit: int = page.request.app.state.settings.upload_max_bytes
    file_data = fee_file.file.read(limit + 1) if fee_file is not None and fee_file.filename else b""

    def submit() -> ReimbursementClaim:
        return reimbursements.submit_claim(
            session, actor=page.actor, data=_create(page, form, file_data), now=now()
        )

    claim, error = attempt_form(session, submit)
    if claim is None:
        return _new_page(page, session, form, error=error)
    return page.redirect(f"/me/claims/{claim.id}")


def _create(page: Page, form: ClaimForm, file_data: bytes) -> ReimbursementCreate:
    """The service's input from the form (the service checks the rest)."""
    columns = {name: page.gettext(text) for name, text in TYPED_COLUMNS.items()}
    lines = [
        _line(page, say(page, TYPED_WHERE, row=index), columns, values)
        for index, values in enumerate(form.lines, start=1)
    ]
    if file_data:
        lines += parse_fee_csv(page, file_data)
    invoices = []
    for index, row in enumerate(form.invoices, start=1):
        where = say(page, INVOICE_WHERE, row=index)
        if not row["number"].strip():
            raise ClaimFormError(MISSING_VALUE, where=where, column=columns["number"])
        if len(row["number"].strip()) > MAX_CODE:
            raise ClaimFormError(TOO_LONG, where=where, column=columns["number"], limit=MAX_CODE)
        amount = _number(row["amount"], where=where, column=columns["amount"])
        invoices.append((row["number"].strip(), amount, where))
    if not form.institution_id.strip().isdigit():
        raise FormError(NO_HOSPITAL)
    try:
        total = Decimal(form.total.strip().replace(",", ""))
    except InvalidOperation:
        raise FormError(BAD_TOTAL) from None
    if not total.is_finite() or total <= 0:
        raise FormError(BAD_TOTAL)
    try:
        treated = date.fromisoformat(form.treatment_date.strip())
        admitted = (
            date.fromisoformat(form.admitted_on.strip()) if form.admitted_on.strip() else None
        )
    except ValueError:
        raise FormError(BAD_DATE) from None
    codes = [c for c in form.diagnoses.replace("，", ",").replace(" ", ",").split(",") if c]
    if not codes:
        raise FormError(NO_DIAGNOSIS)
    if not invoices:
        raise FormError(NO_INVOICE)
    if not lines:
        raise FormError(NO_LINES)
    try:
        return ReimbursementCreate(
            person_id=_person_id(page.actor),
            case_type=form.case_type,  # checked by the model
            setting=form.setting,
            institution_id=int(form.institution_id),
            treatment_date=treated,
            admitted_on=admitted if form.setting == "inpatient" else None,
            emergency=form.emergency,
            total=total,
            diagnoses=codes,
            invoices=[InvoiceIn(number=n, amount=a) for n, a, _ in invoices],
            lines=lines,
            payout=PayoutIn(
                method=form.payout_method,
                account_number=form.account_number.strip() or None,
            ),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ClaimFormError(OUT_OF_RANGE, detail=f"{where}: {first['msg']}") from None


# --- one claim ------------------------------------------------------------------------------


def claim_context(page: Page, session: Session, claim: ReimbursementClaim) -> dict[str, Any]:
    """What both the person's and the reviewer's page show of a claim."""
    names = Names(session)
    docs = claim_repo.documents(session, claim.id)
    missing = reimbursements.missing_documents(session, claim)
    explained = None
    if claim.settlement_id is not None:
        row = settlements.get_settlement(
            session, actor=page.actor, settlement_id=claim.settlement_id
        )
        explained = settlements.settlement_explained(session, record_=row, lang=page.lang)
    lines: list[dict[str, Any]] = [
        {
            "line_no": line.line_no,
            "code": line.code,
            "quantity": format(reimbursements.from_e4(line.quantity_e4).normalize(), "f"),
            "unit_price": reimbursements.from_e4(line.unit_price_e4),
            "amount": reimbursements.from_e4(line.quantity_e4)
            * reimbursements.from_e4(line.unit_price_e4),
            "service_date": line.service_date,
        }
        for line in claim_repo.lines(session, claim.id)
    ]
    return {
        "claim": claim,
        "names": names,
        "documents": docs,
        "required": claim.required_documents,
        "missing": missing,
        "provided": {d.doc_type for d in docs if not d.superseded},
        "invoices": claim_repo.invoices(session, claim.id),
        "lines": lines,
        "lines_total": sum((Decimal(line["amount"]) for line in lines), Decimal(0)),
        "allowed": allowed_actions(claim.state),
        "open": claim.state in OPEN_STATES,
        "decided": claim.state in DECIDED,
        "s": explained,
        "account_masked": reimbursements.mask_account(claim.payout_account),
        "payout_methods": PAYOUT_METHODS,
        "relations": RELATIONS,
        "doc_name": lambda kind: kind_name(kind, page.lang),
        "kinds": [str(kind) for kind in DocumentKind],
    }


def _claim_page(
    page: Page, session: Session, claim_id: int, *, error: dict[str, Any] | None = None
) -> Response:
    claim = reimbursements.get_claim(session, actor=page.actor, claim_id=claim_id)
    return page.render(
        "claim_detail.html",
        status_code=status_of(error),
        error=form_error(page, error),
        **claim_context(page, session, claim),
    )


@router.get("/me/claims/{claim_id}")
def my_claim(
    page: InsuredPage, session: SessionDep, claim_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    return _claim_page(page, session, claim_id)


def upload_from(page: Page, doc_type: str, file: UploadFile | None) -> documents.Upload:
    """A document as the service takes it (``documents.routes`` builds the same)."""
    if file is None or not file.filename:
        raise FormError(NO_FILE)
    settings = page.request.app.state.settings
    limit: int = settings.upload_max_bytes
    return documents.Upload(
        doc_type=doc_type,
        filename=file.filename,
        content_type=file.content_type or "application/octet-stream",
        data=file.file.read(limit + 1),
        upload_dir=settings.upload_dir,
        max_bytes=limit,
    )


@router.post("/me/claims/{claim_id}/documents")
def upload_document(
    page: InsuredPage,
    session: SessionDep,
    claim_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    doc_type: Annotated[str, Form(max_length=40)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    return act(
        page,
        session,
        lambda: reimbursements.upload_document(
            session, actor=page.actor, claim_id=claim_id, upload=upload_from(page, doc_type, file)
        ),
        then=f"/me/claims/{claim_id}#documents-title",
        failed=lambda error: _claim_page(page, session, claim_id, error=error),
    )


@router.post("/me/claims/{claim_id}/resubmit")
def resubmit(
    page: InsuredPage, session: SessionDep, claim_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Hand the completed claim back to the centre."""
    return act(
        page,
        session,
        lambda: reimbursements.resubmit_claim(
            session, actor=page.actor, claim_id=claim_id, now=now()
        ),
        then=f"/me/claims/{claim_id}",
        failed=lambda error: _claim_page(page, session, claim_id, error=error),
    )


def claim_document(page: Page, session: Session, claim_id: int, document_id: int) -> Response:
    """A document of a claim, shown in the browser: the person's own, or (a reviewer) one
    of the region's (the service decides who may see it)."""
    doc, path = reimbursements.claim_document(
        session,
        actor=page.actor,
        claim_id=claim_id,
        document_id=document_id,
        upload_dir=page.request.app.state.settings.upload_dir,
    )
    return document_response(page, doc, path)


@router.get("/me/claims/{claim_id}/documents/{document_id}")
def my_document(
    page: InsuredPage,
    session: SessionDep,
    claim_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return claim_document(page, session, claim_id, document_id)
