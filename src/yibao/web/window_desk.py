"""The hospital window's other pages (医保窗口): its settlements (filtered, paged) and
reversing one with a reason, reconciliation with the hospital's own books, and the filings
waiting for this hospital's stamp.

Each page calls the services the API's routes call (``/settlements``,
``/settlements/{id}/reverse``, ``/reconciliations``, ``/filings``,
``/filings/{id}/referral-stamp``, ``/filings/{id}/hospital-stamp``) with the signed-in
hospital user as the actor; whether a settlement may be reversed, what a reconciliation
finds and whether a filing may be stamped is decided there.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.filings import service as filings
from yibao.filings import views as filing_views
from yibao.filings.models import Filing
from yibao.identity import mask_identity_number
from yibao.reconciliation import service as reconciliation
from yibao.reconciliation.compare import parse_details_csv, totals_of
from yibao.reconciliation.models import Reconciliation
from yibao.registry import service as registry
from yibao.settlements import service as settlements
from yibao.settlements.models import SettlementRecord
from yibao.web.files import download
from yibao.web.forms import FormError, act, attempt, day_field, status_of
from yibao.web.i18n import N_
from yibao.web.page import HospitalPage, Page, check_csrf, current_day, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute
from yibao.web.settlement_view import settlement_shown

SETTLEMENTS_PER_PAGE: Final = 50
RECONCILIATIONS_SHOWN: Final = 20
MAX_CSV_BYTES: Final = 2 * 1024 * 1024

REASON_REQUIRED: Final = N_("Give the reason for the reversal.")
REASON_TOO_LONG: Final = N_("The reason is at most 400 characters.")
BAD_DAY: Final = N_("The day is a date such as 2026-05-10.")
BAD_TOTALS: Final = N_(
    "Give the count and both amounts of your totals (such as 3, 1250.00 and 830.50), "
    "or upload your details."
)
BAD_FILE: Final = N_("The details file is a CSV file in UTF-8, at most 2 MB.")

DIFFERENCES: Final = {
    "missing": N_("Yibao has it, your details lack it"),
    "extra": N_("In your details, unknown to Yibao"),
    "amount_differs": N_("Amounts differ"),
    "totals_differ": N_("Totals differ"),
}
FIELDS: Final = {
    "count": N_("Count"),
    "total": N_("Total"),
    "fund_pay": N_("Funds pay"),
}
STAMPS: Final = {
    "referral-stamp": N_("Stamp the referral certificate"),
    "hospital-stamp": N_("Confirm the choice of this hospital"),
}
STATE_FILTERS: Final = ("settled", "reversed", "reversal")
SETTING_FILTERS: Final = ("inpatient", "outpatient")

EXAMPLE_CSV: Final = (
    "ref,total,fund_pay\r\n"
    "WEB-3f2a9c0d51e84b6c9a7d2e1f0b3c4d5e,1250.00,830.50\r\n"
    "WEB-8b1e4d2c7a9f4e3db6c5a0f1e2d3c4b5,-1250.00,-830.50\r\n"
    "S1024,86.40,0.00\r\n"
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


# --- the hospital's settlements ---------------------------------------------------------------


@router.get("/window/settlements")
def settlement_list(
    page: HospitalPage,
    session: SessionDep,
    request: Request,
    on: Annotated[str | None, Query(max_length=20)] = None,
    state: Annotated[Literal["settled", "reversed", "reversal", ""], Query()] = "",
    setting: Annotated[Literal["inpatient", "outpatient", ""], Query()] = "",
    number: PageNumber = 1,
) -> Response:
    """The hospital's settlements, newest first: today's unless another day (or every day,
    with an empty day) is asked for; an htmx request gets the table only."""
    error = None
    try:
        day = current_day() if on is None else day_field(on, BAD_DAY)
    except FormError as exc:
        day, error = None, exc.shown()
    ask = Paging(number, SETTLEMENTS_PER_PAGE)
    rows: list[SettlementRecord] = []
    if error is None:
        rows = settlements.search_settlements(
            session,
            actor=page.actor,
            on=day,
            state=state or None,
            setting=setting or None,
            limit=ask.limit,
            offset=ask.offset,
        )
    shown, next_page = ask.split(rows)
    filters = {"on": day.isoformat() if day else "", "state": state, "setting": setting}
    context: dict[str, Any] = {
        "settlements": shown,
        "patients": registry.persons_by_id(session, (row.person_id for row in shown)),
        "filters": filters,
        "day": day,
        "query": "&".join(f"{k}={v}" for k, v in filters.items()),
        "number": number,
        "next_page": next_page,
        "error": error,
        "states": STATE_FILTERS,
        "settings": SETTING_FILTERS,
    }
    status = status_of(error)
    if page.htmx:
        return page.render("desk_settlement_table.html", status_code=status, **context)
    return page.render("desk_settlements.html", status_code=status, **context)


def _settlement_page(
    page: Page,
    session: Session,
    settlement_id: int,
    *,
    error: dict[str, Any] | None = None,
    reason: str = "",
) -> Response:
    row = settlements.get_settlement(session, actor=page.actor, settlement_id=settlement_id)
    return page.render(
        "desk_settlement.html",
        status_code=status_of(error),
        error=error,
        reason=reason,
        **settlement_shown(page, session, row),
    )


@router.get("/window/settlements/{settlement_id}")
def settlement_detail(
    page: HospitalPage,
    session: SessionDep,
    settlement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One settlement of this hospital: its figures, the slip, and the reversal form."""
    return _settlement_page(page, session, settlement_id)


@router.post("/window/settlements/{settlement_id}/reverse")
def reverse(
    page: HospitalPage,
    session: SessionDep,
    settlement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reverse (冲正) with a reason, as ``POST /settlements/{id}/reverse``: the service
    decides whether this hospital may, and whether the settlement can be reversed."""
    actor = page.actor
    at = now()
    # the settlement must be this hospital's to see before anything is said about the form
    settlements.get_settlement(session, actor=actor, settlement_id=settlement_id)

    def reverse_now() -> SettlementRecord:
        text = reason.strip()
        if not text:
            raise FormError(REASON_REQUIRED)
        if len(text) > 400:
            raise FormError(REASON_TOO_LONG)
        return settlements.reverse_settlement(
            session,
            settlement_id=settlement_id,
            msg_id=f"WEB-R-{uuid.uuid4().hex}",
            reason=text,
            actor=actor,
            now=at,
        )

    return act(
        page,
        session,
        reverse_now,
        then=f"/window/settlements/{settlement_id}",
        failed=lambda error: _settlement_page(
            page, session, settlement_id, error=error, reason=reason
        ),
    )


# --- reconciliation (对账) --------------------------------------------------------------------


def _reconciliation_page(
    page: Page,
    session: Session,
    *,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    rows = reconciliation.list_reconciliations(session, actor=page.actor)
    return page.render(
        "desk_reconciliation.html",
        status_code=status_of(error),
        reconciliations=rows[:RECONCILIATIONS_SHOWN],
        error=error,
        form=form or {"day": current_day().isoformat(), "count": "", "total": "", "fund_pay": ""},
    )


@router.get("/window/reconciliation")
def reconciliation_form(page: HospitalPage, session: SessionDep) -> Response:
    return _reconciliation_page(page, session)


@router.get("/window/reconciliation/example.csv")
def reconciliation_example(page: HospitalPage) -> Response:
    """An example of the details file (the columns the page documents)."""
    return download(
        page, EXAMPLE_CSV.encode("utf-8"), "text/csv; charset=utf-8", "reconciliation-example.csv"
    )


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise FormError(BAD_TOTALS) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or abs(value) >= 10**14:
        raise FormError(BAD_TOTALS)
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit() or len(text.strip()) > 9:
        raise FormError(BAD_TOTALS)
    return int(text.strip())


@router.post("/window/reconciliation")
async def reconcile(
    page: HospitalPage,
    session: SessionDep,
    day: Annotated[str, Form(max_length=20)] = "",
    count: Annotated[str, Form(max_length=20)] = "",
    total: Annotated[str, Form(max_length=30)] = "",
    fund_pay: Annotated[str, Form(max_length=30)] = "",
    details: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Submit the hospital's totals and/or details for a day (``POST /reconciliations``);
    with details only, the totals are those of the details."""
    data = b""
    if details is not None and details.filename:
        data = await details.read(MAX_CSV_BYTES + 1)
    form = {"day": day, "count": count, "total": total, "fund_pay": fund_pay}
    return _submit_reconciliation(page, session, form, data)


def _submit_reconciliation(
    page: Page, session: Session, form: dict[str, str], data: bytes
) -> Response:
    actor = page.actor

    def submit() -> Reconciliation:
        on = day_field(form["day"], BAD_DAY)
        if on is None:
            raise FormError(BAD_DAY)
        details_csv = None
        if data:
            if len(data) > MAX_CSV_BYTES:
                raise FormError(BAD_FILE)
            try:
                details_csv = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise FormError(BAD_FILE) from None
        typed = [form["count"].strip(), form["total"].strip(), form["fund_pay"].strip()]
        if any(typed) or details_csv is None:
            if not all(typed):
                raise FormError(BAD_TOTALS)
            count, total, fund_pay = _count(typed[0]), _amount(typed[1]), _amount(typed[2])
        else:
            try:  # the details' own totals; a bad file is the service's to explain
                sums = totals_of(parse_details_csv(details_csv, "details.csv"))
                count, total, fund_pay = sums.count, sums.total, sums.fund_pay
            except ValueError:
                count, total, fund_pay = 0, Decimal("0.00"), Decimal("0.00")
        return reconciliation.submit_reconciliation(
            session,
            actor=actor,
            period_from=on,
            period_to=on,
            count=count,
            total=total,
            fund_pay=fund_pay,
            details_csv=details_csv,
        )

    row, error = attempt(session, submit)
    if row is not None:
        return page.redirect(f"/window/reconciliation/{row.id}")
    return _reconciliation_page(page, session, error=error, form=form)


@router.get("/window/reconciliation/{reconciliation_id}")
def reconciliation_detail(
    page: HospitalPage,
    session: SessionDep,
    reconciliation_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One reconciliation: matched, or every difference."""
    row = reconciliation.get_reconciliation(
        session, actor=page.actor, reconciliation_id=reconciliation_id
    )
    return page.render(
        "desk_reconciliation_result.html",
        row=row,
        differences=DIFFERENCES,
        fields=FIELDS,
    )


# --- referrals and chosen hospitals: the stamps this hospital owes ----------------------------


def _referrals_page(
    page: Page, session: Session, *, done: int | None = None, error: dict[str, Any] | None = None
) -> Response:
    actor = page.actor
    today = current_day()
    waiting: list[dict[str, Any]] = []
    for filing in filings.list_filings(session, actor=actor):
        actions = filing_views.allowed_actions(session, actor=actor, filing=filing, today=today)
        stamps = [name for name in actions if name in STAMPS]
        if stamps:
            waiting.append({"filing": filing, "stamps": stamps})
    patients = registry.persons_by_id(session, (item["filing"].person_id for item in waiting))
    return page.render(
        "desk_referrals.html",
        status_code=status_of(error),
        waiting=waiting,
        patients={pid: (p, mask_identity_number(p.identity_number)) for pid, p in patients.items()},
        names=Names(session),
        stamps=STAMPS,
        done=done,
        error=error,
    )


@router.get("/window/referrals")
def referrals(
    page: HospitalPage,
    session: SessionDep,
    done: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The filings naming this hospital that wait for its stamp: a referral certificate it
    issued, or the choice of this hospital on a filing where the region asks for it."""
    return _referrals_page(page, session, done=done)


def _stamp(page: Page, session: Session, filing_id: int, which: str) -> Response:
    actor = page.actor

    def stamp() -> Filing:
        call = filings.stamp_referral if which == "referral-stamp" else filings.stamp_hospital
        return call(session, actor=actor, filing_id=filing_id, now=now())

    return act(
        page,
        session,
        stamp,
        then=f"/window/referrals?done={filing_id}",
        failed=lambda error: _referrals_page(page, session, error=error),
    )


@router.post("/window/referrals/{filing_id}/referral-stamp")
def stamp_referral(
    page: HospitalPage, session: SessionDep, filing_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """As ``POST /filings/{id}/referral-stamp``: the issuing hospital's window stamps."""
    return _stamp(page, session, filing_id, "referral-stamp")


@router.post("/window/referrals/{filing_id}/hospital-stamp")
def stamp_hospital(
    page: HospitalPage, session: SessionDep, filing_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """As ``POST /filings/{id}/hospital-stamp``: a chosen hospital confirms the choice."""
    return _stamp(page, session, filing_id, "hospital-stamp")
