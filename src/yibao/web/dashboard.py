"""The agency's fund dashboard (基金看板): the region's settlements and what the funds paid,
by month, by setting, by off-site status and by treatment region (charts drawn with Apache
ECharts, each with the table of its figures), and the advance fund (预付金) per region pair
with the share of it in use and its warning.

The figures are summed in the database by the services, within what the signed-in agency
user may see (``settlements.access``: a centre sees its insured persons' settlements, a
treatment agency those made in its region). The advance fund, its part in use, the
suggested amount and the warning levels (70%, 90%) are :mod:`yibao.clearing.advance`'s;
recording a new amount is asked here by the insured region's centre and approved by a
second person under Approvals (四眼原则).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.approvals.models import Approval
from yibao.auth.deps import SessionDep
from yibao.clearing import advance
from yibao.clock import business_date
from yibao.errors import Forbidden
from yibao.money import from_fen
from yibao.settlements import service as settlements
from yibao.web import labels
from yibao.web.forms import FormError, attempt
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, now
from yibao.web.routes import MAX_ID, Names, PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

FUNDS: Final = (
    ("pool_fen", N_("Pool fund")),
    ("supplementary_fen", N_("Supplementary insurance")),
    ("assistance_fen", N_("Medical assistance")),
)
_SUMS: Final = (
    "settlements",
    "reversals",
    "total_fen",
    "pool_fen",
    "supplementary_fen",
    "assistance_fen",
    "fund_fen",
)
NOT_STATED: Final = N_("Not stated")

# The advance fund's levels (yibao.clearing.advance decides them), in words beside a mark.
ADVANCE_LEVELS: Final = {
    advance.OK: N_("Normal"),
    advance.WARNING: N_("Warning"),
    advance.SERIOUS: N_("Serious warning"),
    advance.NO_ADVANCE: N_("No advance fund recorded"),
}
ADVANCE_MARKS: Final = {
    advance.OK: "●",
    advance.WARNING: "▲",
    advance.SERIOUS: "■",
    advance.NO_ADVANCE: "○",
}
BAD_ADVANCE_AMOUNT: Final = N_(
    "The advance fund is a number of yuan, such as 1200000 or 1200000.50."
)
BAD_ADVANCE_DATE: Final = N_("Give the date from which the amount applies, such as 2026-07-01.")
NO_TREATMENT_REGION: Final = N_("Choose the treatment region the fund was paid to.")
# The clearing service's refusals of an amount, said in the page's language.
ADVANCE_REFUSALS: Final = {
    "clearing.advance_negative": N_("An advance fund is never negative. To end one, record 0.00."),
    "clearing.advance_fen": N_("An amount has at most two decimals (fen)."),
    "clearing.advance_too_large": N_("This amount is larger than any advance fund can be."),
    "clearing.advance_same_region": N_("An advance fund is paid to another region."),
    "clearing.advance_region": N_("Choose the treatment region the fund was paid to."),
    "clearing.advance_not_debtor": N_(
        "Only the centre of the insured region that pays the advance fund records it."
    ),
}


@dataclass
class Group:
    """One bar of a chart and one row of its table: the database's sums of the groups
    that fall under it (counts, and fen)."""

    key: str
    name: str
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_SUMS, 0))


def _fold(rows: Iterable[Any], key: Callable[[Any], str]) -> dict[str, Group]:
    """The grouped rows gathered under a coarser key (the rows are the database's groups,
    a few dozen at most, never single settlements)."""
    out: dict[str, Group] = {}
    for row in rows:
        group = out.setdefault(key(row), Group(key(row), ""))
        for name in _SUMS:
            group.sums[name] += int(getattr(row, name) or 0)
    return out


def _chart(page: Page, title: str, groups: list[Group]) -> dict[str, Any]:
    return {
        "kind": "bar",
        "title": page.gettext(title),
        "unit": page.gettext(N_("yuan")),
        "categories": [g.name for g in groups],
        "stacked": True,
        "series": [
            {"name": page.gettext(name), "values": [str(from_fen(g.sums[f])) for g in groups]}
            for f, name in FUNDS
        ],
    }


def _setting_of(row: Any) -> str:
    return "pharmacy" if row.source == "pharmacy" else str(row.setting)


def _advance_section(
    session: Session, page: Page, *, record: str | None, form: dict[str, str] | None
) -> dict[str, Any]:
    """The advance fund of each pair as the clearing service answers for the user, and
    the recording form when the user's centre records them."""
    actor = page.actor
    context: dict[str, Any] = {
        "usage": None,
        "recording": None,
        "form": None,
        "levels": ADVANCE_LEVELS,
        "marks": ADVANCE_MARKS,
        "warning_percent": advance.WARNING_PERCENT,
        "serious_percent": advance.SERIOUS_PERCENT,
    }
    try:
        usage = advance.usage(session, actor=actor)
    except Forbidden:  # an agency that takes no part in clearing
        return context
    region = advance.recording_region(session, actor=actor)
    context.update(usage=usage, recording=region)
    if region is None:
        return context
    suggestions = {u.treatment_region: u.suggestion for u in usage if u.insured_region == region}
    regions = advance.treatment_regions(session, actor=actor, usage_rows=usage)
    chosen = (form or {}).get("treatment_region") or record
    if chosen not in regions:
        worst = [u for u in usage if u.insured_region == region and u.treatment_region in regions]
        worst.sort(key=lambda u: (advance.LEVELS.index(u.level), -u.in_use_fen))
        chosen = worst[0].treatment_region if worst else (regions[0] if regions else None)
    suggestion = suggestions.get(chosen) if chosen else None
    today = business_date(now())
    context["form"] = {
        "regions": [(code, suggestions.get(code)) for code in regions],
        "chosen": chosen,
        "suggestion": suggestion,
        "months": advance.suggestion_months(today),
        "amount": (form or {}).get("amount")
        or (str(from_fen(suggestion.amount_fen)) if suggestion and suggestion.amount_fen else ""),
        "effective_from": (form or {}).get("effective_from") or today.isoformat(),
        "note": (form or {}).get("note", ""),
    }
    return context


@router.get("/agency/dashboard")
def dashboard(
    page: AgencyPage,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    record: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    requested: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _dashboard(page, session, year=year, record=record, requested=requested)


def _dashboard(
    page: Page,
    session: Session,
    *,
    year: int | None,
    record: str | None = None,
    requested: int | None = None,
    form: dict[str, str] | None = None,
    error: dict[str, Any] | None = None,
) -> Response:
    actor = page.actor
    this_year = business_date(now()).year
    year = year or this_year
    rows = settlements.fund_breakdown(session, actor=actor, year=year)
    names = Names(session)

    months = _fold(rows, lambda r: str(r.year_month))
    by_month = [months.get(f"{year:04d}-{m:02d}") for m in range(1, 13)]
    month_groups = [
        g if g is not None else Group(f"{year:04d}-{m:02d}", "")
        for m, g in enumerate(by_month, start=1)
    ]
    for g in month_groups:
        g.name = g.key

    settings_ = sorted(_fold(rows, _setting_of).values(), key=lambda g: g.key)
    for g in settings_:
        table = labels.SOURCES if g.key == "pharmacy" else labels.SETTINGS
        g.name = page.gettext(labels.label(table, g.key))

    statuses = sorted(
        _fold(rows, lambda r: str(r.offsite_status or "")).values(), key=lambda g: g.key
    )
    for g in statuses:
        g.name = page.gettext(labels.label(labels.OFFSITE_STATUSES, g.key) or NOT_STATED)

    regions = sorted(_fold(rows, lambda r: str(r.treatment_region)).values(), key=lambda g: g.key)
    for g in regions:
        g.name = names.region(g.key)

    charts = [
        ("by-month", N_("By month"), N_("Month"), month_groups),
        ("by-setting", N_("By setting"), N_("Setting"), settings_),
        ("by-status", N_("By off-site status"), N_("Off-site status"), statuses),
        ("by-region", N_("By treatment region"), N_("Treatment region"), regions),
    ]
    return page.render(
        "dashboard.html",
        status_code=error["status"] if error else 200,
        error=error,
        requested=requested,
        advance=_advance_section(session, page, record=record, form=form),
        year=year,
        years=list(range(this_year, this_year - 4, -1)),
        names=names,
        funds=FUNDS,
        charts=[
            {
                "id": cid,
                "title": title,
                "column": column,
                "groups": groups,
                "data": _chart(page, title, groups),
            }
            for cid, title, column, groups in charts
        ],
        empty=not rows,
    )


@router.post("/agency/dashboard/advance-funds")
def record_advance_fund(
    page: AgencyPage,
    session: SessionDep,
    treatment_region: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    effective_from: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
) -> Response:
    """Ask to record the advance fund this centre has paid a treatment region (as
    ``POST /api/v1/clearing/advance-funds``): a second person of the centre approves it."""
    typed = {
        "treatment_region": treatment_region.strip(),
        "amount": amount.strip(),
        "effective_from": effective_from.strip(),
        "note": note.strip(),
    }

    def ask() -> Approval:
        if not typed["treatment_region"]:
            raise FormError(NO_TREATMENT_REGION)
        try:
            value = Decimal(typed["amount"].replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise FormError(BAD_ADVANCE_AMOUNT) from None
        if not value.is_finite():
            raise FormError(BAD_ADVANCE_AMOUNT)
        try:
            day = date.fromisoformat(typed["effective_from"]) if typed["effective_from"] else None
        except ValueError:
            raise FormError(BAD_ADVANCE_DATE) from None
        return advance.request_advance_fund(
            session,
            actor=page.actor,
            treatment_region=typed["treatment_region"],
            amount=value,
            effective_from=day,
            note=typed["note"] or None,
        )

    approval, error = attempt(session, ask)
    if approval is None:
        assert error is not None
        if error.get("code") in ADVANCE_REFUSALS:
            error = {**error, "message": ADVANCE_REFUSALS[error["code"]]}
        return _dashboard(page, session, year=year, form=typed, error=error)
    where = f"year={year}&" if year else ""
    return page.redirect(f"/agency/dashboard?{where}requested={approval.id}#advance")
