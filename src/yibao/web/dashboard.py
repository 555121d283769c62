"""The agency's fund dashboard (基金看板): the region's settlements and what the funds paid,
by month, by setting, by off-site status and by treatment region (charts drawn with Apache
ECharts, each with the table of its figures), and what the treatment regions advanced and
clearing has not yet confirmed.

The figures are summed in the database by the services, within what the signed-in agency
user may see (``settlements.access``: a centre sees its insured persons' settlements, a
treatment agency those made in its region). Yibao keeps no advance fund (预付金) per
treatment region, so the page cannot say what share of one is used: it says so, and shows
the amounts advanced and not yet confirmed in clearing, which exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from yibao.auth.deps import SessionDep
from yibao.clearing import service as clearing
from yibao.clock import business_date
from yibao.errors import Forbidden
from yibao.money import from_fen
from yibao.settlements import service as settlements
from yibao.web import labels
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, now
from yibao.web.routes import Names, PageRoute

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


@router.get("/agency/dashboard")
def dashboard(
    page: AgencyPage,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
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

    try:
        outstanding = clearing.outstanding(session, actor=actor)
    except Forbidden:  # an agency that takes no part in clearing (a street office's centre?)
        outstanding = None

    charts = [
        ("by-month", N_("By month"), N_("Month"), month_groups),
        ("by-setting", N_("By setting"), N_("Setting"), settings_),
        ("by-status", N_("By off-site status"), N_("Off-site status"), statuses),
        ("by-region", N_("By treatment region"), N_("Treatment region"), regions),
    ]
    return page.render(
        "dashboard.html",
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
        outstanding=outstanding,
    )
