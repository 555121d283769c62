"""Designated institutions of a treatment region (定点医药机构查询): search by name, level
and type (hospital or pharmacy, general or specialised), with whether each takes off-site
direct settlement (联网直接结算). Reference data any signed-in user sees, read through the
registry's service; the filters answer in place with htmx and work as a plain form."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.auth.models import User
from yibao.filings.coverage import filings_in_force
from yibao.registry import service as registry
from yibao.web.filing import HOSPITAL_SPECIALTIES, INSTITUTION_KINDS
from yibao.web.page import SignedInPage, check_csrf, current_day
from yibao.web.paging import Paging
from yibao.web.routes import PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

PER_PAGE: Final = 20


def _treatment_regions(session: Session) -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in registry.all_regions(session)]


def _sensible_region(session: Session, user: User, choices: set[str]) -> str:
    """The region a first visit shows: an insured person's treatment region of the filing
    in force today (long-term first), a hospital's own region; else none chosen ("")."""
    if user.role == "hospital" and user.institution_id is not None:
        return registry.get_institution(session, institution_id=user.institution_id).region_code
    if user.role == "insured" and user.person_id is not None:
        person = registry.get_person(session, person_id=user.person_id)
        in_force = filings_in_force(session, actor=user, person=person, on=current_day())
        for info, _covers in in_force:
            if info.destination in choices:
                return info.destination
    return ""


@router.get("/institutions")
def institutions(
    page: SignedInPage,
    session: SessionDep,
    request: Request,
    region: Annotated[str | None, Query(max_length=6, pattern=r"^(\d{6})?$")] = None,
    name: Annotated[str, Query(max_length=50)] = "",
    kind: Annotated[Literal["", "hospital", "pharmacy"], Query()] = "",
    level: Annotated[Literal["", "1", "2", "3"], Query()] = "",
    specialty: Annotated[Literal["", "general", "specialised"], Query()] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    regions = _treatment_regions(session)
    # the first visit shows the user's own treatment region; "" is every region
    chosen = (
        region
        if region is not None
        else _sensible_region(session, page.actor, {code for code, _name in regions})
    )
    ask = Paging(number, PER_PAGE)
    rows, next_page = ask.split(
        registry.search_institutions(
            session,
            region=chosen or None,
            name=name or None,
            kind=kind or None,
            level=int(level) if level else None,
            specialty=specialty or None,
            limit=ask.limit,
            offset=ask.offset,
        )
    )
    region_names = dict(regions)
    filters = {
        "region": chosen,
        "name": name,
        "kind": kind,
        "level": level,
        "specialty": specialty,
    }
    query = urlencode([(k, v) for k, v in filters.items() if v or k == "region"])
    context: dict[str, Any] = {
        "regions": regions,
        "region_names": region_names,
        "filters": filters,
        "rows": rows,
        "number": number,
        "previous_url": f"/institutions?{query}&page={number - 1}" if number > 1 else None,
        "next_url": f"/institutions?{query}&page={next_page}" if next_page else None,
        "kinds": INSTITUTION_KINDS,
        "specialties": HOSPITAL_SPECIALTIES,
    }
    if page.htmx:
        return page.render("_institutions_results.html", **context)
    return page.render("institutions.html", **context)
