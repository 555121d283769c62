"""The agency's clearing pages (清算): the months, building a month, the statements per
region pair with their counts and sums per fund, a chart of the year by month, a
statement's settlements (paged), asking to confirm a statement (a second user approves:
四眼原则), and its export as CSV and Excel.

Every page calls the clearing service as the API's routes (``/api/v1/clearing``) do, with
the signed-in agency user as the actor: which statements a user sees, who may confirm and
when are decided there. The page only lays out the stored figures.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Final

import xlsxwriter  # type: ignore[import-untyped]
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.approvals.models import Approval
from yibao.auth.deps import SessionDep
from yibao.clearing import service as clearing
from yibao.clearing.models import ClearingStatement
from yibao.clock import business_date
from yibao.money import from_fen
from yibao.web import labels
from yibao.web.files import download
from yibao.web.forms import FormError, attempt, status_of
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

SETTLEMENTS_PER_PAGE: Final = 50
MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
BAD_MONTH: Final = N_("Give the month as year and month, such as 2026-05.")

# The funds of a statement, in the order of the statement (field of ClearingStatement).
FUNDS: Final = (
    ("pool_fen", N_("Pool fund")),
    ("supplementary_fen", N_("Supplementary insurance")),
    ("assistance_fen", N_("Medical assistance")),
    ("account_fen", N_("Personal account")),
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def _last_month() -> str:
    today = business_date(now())
    first = date(today.year, today.month, 1)
    previous = date.fromordinal(first.toordinal() - 1)
    return f"{previous.year:04d}-{previous.month:02d}"


def _amount_due_fen(row: Any) -> int:
    """The statement's own amount due (the service's definition)."""
    return int(row.pool_fen + row.supplementary_fen + row.assistance_fen + row.account_fen)


def _year_chart(page: Page, year: int, months: Sequence[Any]) -> dict[str, Any]:
    """The figures of the year's chart: per month, the sums per fund (yuan text)."""
    by_month = {row.year_month: row for row in months}
    keys = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    return {
        "title": page.gettext(N_("Amount due per month, by fund")),
        "unit": page.gettext(N_("yuan")),
        "categories": keys,
        "stacked": True,
        "series": [
            {
                "name": page.gettext(name),
                "values": [
                    str(from_fen(int(getattr(by_month[k], field) or 0))) if k in by_month else "0"
                    for k in keys
                ],
            }
            for field, name in FUNDS
        ],
    }


def _clearing(
    page: Page,
    session: Session,
    *,
    month: str | None,
    year: int | None,
    month_text: str = "",
    error: dict[str, Any] | None = None,
    built: int | None = None,
) -> Response:
    actor = page.actor
    every_month = clearing.month_totals(session, actor=actor)
    if year is None:
        year = int(month[:4]) if month else business_date(now()).year
    of_year = [row for row in every_month if row.year_month.startswith(f"{year:04d}-")]
    statements = clearing.list_statements(session, actor=actor, month=month) if month else []
    years = sorted({int(row.year_month[:4]) for row in every_month} | {year}, reverse=True)
    return page.render(
        "clearing.html",
        status_code=status_of(error),
        names=Names(session),
        months=every_month,
        month=month,
        year=year,
        years=years,
        of_year=of_year,
        year_chart=_year_chart(page, year, of_year),
        statements=statements,
        funds=FUNDS,
        due=_amount_due_fen,
        month_text=month_text or month or _last_month(),
        error=error,
        built=built,
    )


@router.get("/agency/clearing")
def clearing_page(
    page: AgencyPage,
    session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    built: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    return _clearing(page, session, month=month, year=year, built=built)


@router.post("/agency/clearing/build")
def build_month(
    page: AgencyPage,
    session: SessionDep,
    month: Annotated[str, Form(max_length=20)] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    """Build (or rebuild) the month's draft statements; with ``confirm``, also ask to
    confirm those this centre owes (as ``POST /clearing/months/{month}?confirm=true``)."""
    text = month.strip()

    def build() -> list[ClearingStatement]:
        if not MONTH.match(text):
            raise FormError(BAD_MONTH)
        return clearing.build_month(session, actor=page.actor, month=text, confirm=confirm)

    rows, error = attempt(session, build)
    if rows is None:
        return _clearing(
            page,
            session,
            month=text if MONTH.match(text) else None,
            year=None,
            month_text=text,
            error=error,
        )
    return page.redirect(f"/agency/clearing?month={text}&built={len(rows)}")


# --- one statement --------------------------------------------------------------------------


def _statement(
    page: Page,
    session: Session,
    request: Request,
    statement_id: int,
    number: int,
    *,
    error: dict[str, Any] | None = None,
    requested: int | None = None,
) -> Response:
    actor = page.actor
    row = clearing.get_statement(session, actor=actor, statement_id=statement_id)
    ask = Paging(number, SETTLEMENTS_PER_PAGE)
    rows = clearing.statement_settlements(
        session, actor=actor, statement_id=statement_id, limit=ask.limit, offset=ask.offset
    )
    shown, next_page = ask.split(rows)
    context: dict[str, Any] = {
        "names": Names(session),
        "statement": row,
        "settlements": shown,
        "next_page": next_page,
    }
    if page.htmx and error is None:
        return page.render("clearing_rows.html", **context)
    return page.render(
        "clearing_statement.html",
        status_code=status_of(error),
        funds=FUNDS,
        due=_amount_due_fen(row),
        fund_total=row.pool_fen + row.supplementary_fen + row.assistance_fen,
        error=error,
        requested=requested,
        pending=clearing.pending_confirmation(session, actor=actor, statement_id=row.id),
        **context,
    )


@router.get("/agency/clearing/statements/{statement_id}")
def statement_page(
    page: AgencyPage,
    session: SessionDep,
    request: Request,
    statement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    number: PageNumber = 1,
    requested: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _statement(page, session, request, statement_id, number, requested=requested)


@router.post("/agency/clearing/statements/{statement_id}/confirm")
def confirm_statement(
    page: AgencyPage,
    session: SessionDep,
    request: Request,
    statement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Ask to confirm (freeze) the statement: the service decides who and when; a second
    user approves the request (``clearing.confirm``) under 复核."""

    def ask() -> Approval:
        return clearing.confirm_statement(session, actor=page.actor, statement_id=statement_id)

    approval, error = attempt(session, ask)
    if approval is None:
        return _statement(page, session, request, statement_id, 1, error=error)
    return page.redirect(f"/agency/clearing/statements/{statement_id}?requested={approval.id}")


# --- exports ---------------------------------------------------------------------------------

_COLUMNS: Final = (
    N_("Settlement"),
    N_("Kind"),
    N_("Date"),
    N_("Month stored"),
    N_("Institution"),
    N_("Setting"),
    N_("Total bill"),
    N_("Pool fund"),
    N_("Supplementary insurance"),
    N_("Medical assistance"),
    N_("Personal account"),
    N_("Paid in cash"),
)
_AMOUNTS: Final = (
    "total_fen",
    "pool_fund_pay_fen",
    "supplementary_pay_fen",
    "assistance_pay_fen",
    "account_pay_fen",
    "cash_pay_fen",
)
_STATEMENT_AMOUNTS: Final = (
    "total_fen",
    "pool_fen",
    "supplementary_fen",
    "assistance_fen",
    "account_fen",
    "cash_fen",
)


def _export(
    page: Page, session: Session, statement_id: int
) -> tuple[ClearingStatement, list[str], list[list[Any]], list[Any]]:
    """The statement, the header, one row per settlement (amounts as Decimal yuan) and
    the statement's own stored totals row."""
    row, items = clearing.statement_export(session, actor=page.actor, statement_id=statement_id)
    names = Names(session)
    header = [page.gettext(c) for c in _COLUMNS]
    body = [
        [
            s.id,
            page.gettext(labels.label(labels.SETTLEMENT_STATES, s.state)),
            s.claim_date.isoformat(),
            s.year_month,
            names.institution(s.institution_id),
            page.gettext(labels.label(labels.SETTINGS, s.setting)),
            *(from_fen(getattr(s, name)) for name in _AMOUNTS),
        ]
        for s in items
    ]
    totals = [
        page.gettext(N_("Statement total")),
        "",
        "",
        row.year_month,
        f"{names.region(row.insured_region)} → {names.region(row.treatment_region)}",
        "",
        *(from_fen(getattr(row, name)) for name in _STATEMENT_AMOUNTS),
    ]
    return row, header, body, totals


def _filename(row: ClearingStatement, suffix: str) -> str:
    return (
        f"clearing-{row.year_month}-{row.insured_region}-{row.treatment_region}-{row.id}.{suffix}"
    )


@router.get("/agency/clearing/statements/{statement_id}/export.csv")
def export_csv(
    page: AgencyPage,
    session: SessionDep,
    statement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The statement's settlements, one a line, then the statement's own totals; UTF-8 with
    a byte-order mark so spreadsheet programs read the Chinese names."""
    row, header, body, totals = _export(page, session, statement_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([str(v) if isinstance(v, Decimal) else v for v in r] for r in body)
    writer.writerow([str(v) if isinstance(v, Decimal) else v for v in totals])
    return download(
        page,
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        "text/csv; charset=utf-8",
        _filename(row, "csv"),
    )


@router.get("/agency/clearing/statements/{statement_id}/export.xlsx")
def export_xlsx(
    page: AgencyPage,
    session: SessionDep,
    statement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The same as the CSV, as an Excel workbook (amounts as numbers with two decimals)."""
    row, header, body, totals = _export(page, session, statement_id)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(row.year_month)
    bold = book.add_format({"bold": True})
    yuan = book.add_format({"num_format": "#,##0.00"})
    yuan_bold = book.add_format({"num_format": "#,##0.00", "bold": True})
    sheet.write_row(0, 0, header, bold)
    for index, values in enumerate([*body, totals], start=1):
        last = index == len(body) + 1
        for column, value in enumerate(values):
            if isinstance(value, Decimal):
                # Excel keeps numbers as binary doubles: two decimals show the fen exactly
                sheet.write_number(index, column, float(value), yuan_bold if last else yuan)
            else:
                sheet.write(index, column, value, bold if last else None)
    sheet.set_column(0, 3, 12)
    sheet.set_column(4, 4, 28)
    sheet.set_column(5, 11, 16)
    book.close()
    return download(
        page,
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(row, "xlsx"),
    )
