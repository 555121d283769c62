"""The pages: the landing page, signing in and out, and the insured person's own pages.

Every page reads through the concepts' services with the signed-in user as the actor, as
the API's routes do; what a user may see is decided there. Each POST is checked for the
form's CSRF token by the router (:func:`yibao.web.page.check_csrf`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from yibao.auth import passwords, sessions
from yibao.auth.deps import SessionDep, client_address
from yibao.auth.models import User
from yibao.clock import business_date
from yibao.engine.render import MONEY_FIELDS
from yibao.errors import NotFound
from yibao.filings import service as filings
from yibao.filings import views as filing_views
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.reimbursements import service as reimbursements
from yibao.settlements import service as settlements
from yibao.settlements.models import SettlementRecord
from yibao.users import service as users
from yibao.web.error_messages import sentence_for
from yibao.web.forms import FormError, attempt, status_of
from yibao.web.i18n import N_
from yibao.web.page import (
    PAGE_SCOPE_KEY,
    SESSION_COOKIE,
    InsuredPage,
    PageDep,
    SignedInPage,
    check_csrf,
    now,
)
from yibao.web.paging import PageNumber, Paging

SETTLEMENTS_PER_PAGE: Final = 20
SETTLEMENTS_ON_HOME: Final = 5
MAX_ID: Final = 2**63 - 1

SIGN_IN_INVALID: Final = N_("The login name or the password is wrong.")
SIGN_IN_LOCKED: Final = N_(
    "Too many failed attempts: signing in to this account is locked for 15 minutes. "
    "Try again later."
)


class PageRoute(APIRoute):
    """A page's route: marks the request, so that its errors are answered with a page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            request.scope[PAGE_SCOPE_KEY] = True
            return await handler(request)

        return page_handler


router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def local_path(target: str | None, default: str = "/me") -> str:
    """Where to go after signing in: a path of this site only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- the landing page and signing in ------------------------------------------------------


@router.get("/")
def landing(page: PageDep) -> Response:
    return page.render("index.html", next="/me", login="", error=None)


@router.get("/login")
def login_form(page: PageDep, next: Annotated[str | None, Query()] = None) -> Response:
    return page.render("login.html", next=local_path(next), login="", error=None)


@router.post("/login")
def login(
    page: PageDep,
    session: SessionDep,
    login: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/me",
) -> Response:
    result = passwords.sign_in(
        session,
        login=login,
        password=password,
        now=now(),
        client=client_address(page.request),  # failures counted per address too
    )
    if result.user is None:
        locked = result.outcome is passwords.SignInOutcome.LOCKED
        error = SIGN_IN_INVALID
        if result.retry_after is not None:  # this address, not the account, is held back
            error = sentence_for("auth.too_many_failures") or SIGN_IN_LOCKED
        elif locked:
            error = SIGN_IN_LOCKED
        answer = page.render(
            "login.html",
            status_code=429 if locked else 401,
            next=local_path(next),
            login=login,
            error=error,
        )
        if locked:  # when to try again, as the API's 429 says it
            wait = result.retry_after
            if wait is None and result.locked_until is not None:
                wait = int((result.locked_until - now()).total_seconds())
            answer.headers["Retry-After"] = str(max(1, wait or 1))
        return answer
    started = sessions.start_session(
        session, user=result.user, now=now(), replaces=page.session_token
    )
    page.forget_session = False
    page.set_cookie(SESSION_COOKIE, started.token)
    if result.user.must_change_password:  # a temporary password given by an administrator
        return page.redirect(f"/me/password?{urlencode({'next': local_path(next)})}")
    return page.redirect(local_path(next))


@router.get("/logout")
def logout_form(page: PageDep) -> Response:
    if page.user is None:
        return page.redirect("/")
    return page.render("logout.html")


@router.post("/logout")
def logout(page: PageDep, session: SessionDep) -> Response:
    if page.session_token is not None:
        sessions.end_session(session, token=page.session_token)
    page.set_cookie(SESSION_COOKIE, None)
    return page.redirect("/")


# --- one's own password ----------------------------------------------------------------------

PASSWORDS_DIFFER: Final = N_("The two new passwords are not the same.")
# the rule a new password breaks, said for this form (it asks for no login name)
PASSWORD_ERRORS: Final = {
    "user.password_invalid": N_(
        "A password has 8 to 256 characters and neither starts nor ends with a space."
    ),
}


@router.get("/me/password")
def password_form(
    page: SignedInPage,
    next: Annotated[str | None, Query(max_length=500)] = None,
    changed: Annotated[bool, Query()] = False,
) -> Response:
    """Change one's own password (asked first after signing in with a temporary one)."""
    return page.render(
        "password.html",
        next=local_path(next),
        forced=page.actor.must_change_password,
        changed=changed,
        error=None,
    )


@router.post("/me/password")
def change_password(
    page: SignedInPage,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    new_password_again: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/me",
) -> Response:
    """The new password, typed twice; every other browser of the user is signed out."""
    actor = page.actor
    forced = actor.must_change_password

    def change() -> User:
        if new_password != new_password_again:
            raise FormError(PASSWORDS_DIFFER)
        return users.change_own_password(
            session,
            actor=actor,
            current_password=current_password,
            new_password=new_password,
            keep_session=page.session_token,
        )

    _user, error = attempt(session, change)
    if error is not None:
        if error["code"] in PASSWORD_ERRORS:
            error = {**error, "message": PASSWORD_ERRORS[error["code"]]}
        return page.render(
            "password.html",
            status_code=status_of(error),
            next=local_path(next),
            forced=forced,
            changed=False,
            error=error,
        )
    return page.redirect(f"/me/password?{urlencode({'changed': 1, 'next': local_path(next)})}")


# --- home -----------------------------------------------------------------------------------


@router.get("/me")
def home(page: SignedInPage, session: SessionDep) -> Response:
    user = page.actor
    if user.role != "insured":
        return page.render("home_staff.html", workplace=_workplace(session, user))
    return page.render("home_insured.html", **_insured_home(session, user))


def _workplace(session: Session, user: User) -> str | None:
    """Where a desk user works, by name (its agency, institution or unit)."""
    if user.institution_id is not None:
        return registry.get_institution(session, institution_id=user.institution_id).name
    if user.unit_id is not None:
        return registry.get_unit(session, unit_id=user.unit_id).name
    agency = registry_access.agency_of(session, user)
    return agency.name if agency is not None else None


class Names:
    """Names of regions and institutions, each read once per page."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._regions: dict[str, str] = {}
        self._institutions: dict[int, str] = {}

    def region(self, code: str | None) -> str:
        if code is None:
            return ""
        if code not in self._regions:
            try:
                self._regions[code] = registry.get_region(self.session, code=code).name
            except NotFound:  # a province named by a filing needs no row
                self._regions[code] = code
        return self._regions[code]

    def institution(self, institution_id: int | None) -> str:
        if institution_id is None:
            return ""
        if institution_id not in self._institutions:
            self._institutions[institution_id] = registry.get_institution(
                self.session, institution_id=institution_id
            ).name
        return self._institutions[institution_id]


def _insured_home(session: Session, user: User) -> dict[str, Any]:
    assert user.person_id is not None  # an insured user is bound to a person
    today = business_date(now())
    filings_seen = [
        {
            "filing": filing,
            "state": filing_views.current_state(filing, today),
            "local_use_from": filing_views.local_use_from(filing, today),
        }
        for filing in filings.list_filings(session, actor=user)
    ]
    rows = settlements.list_settlements(session, actor=user, limit=SETTLEMENTS_ON_HOME + 1)
    account = registry.account_of(session, actor=user, person_id=user.person_id)
    family = registry.family_of(session, actor=user, person_id=user.person_id)
    relatives = {person.id: person.name for _link, person in family}
    shared = [m for m in account.movements if m.beneficiary_id is not None]
    return {
        "names": Names(session),
        "filings": filings_seen,
        "account": account,
        "family": [(link.relation, person.name) for link, person in family],
        "shared": [(m, relatives.get(m.beneficiary_id or 0, "")) for m in shared[-5:][::-1]],
        "settlements": rows[:SETTLEMENTS_ON_HOME],
        "more_settlements": len(rows) > SETTLEMENTS_ON_HOME,
        "next_page": None,
        "claims": reimbursements.list_claims(session, actor=user),
    }


# --- settlements ----------------------------------------------------------------------------


@router.get("/me/settlements")
def my_settlements(
    page: InsuredPage,
    session: SessionDep,
    number: PageNumber = 1,
) -> Response:
    """Every settlement of the person, newest first, a page at a time; an htmx request
    (the "more" button) gets only the next rows."""
    ask = Paging(number, SETTLEMENTS_PER_PAGE)
    rows: list[SettlementRecord] = settlements.list_settlements(
        session, actor=page.actor, limit=ask.limit, offset=ask.offset
    )
    shown, next_page = ask.split(rows)
    context: dict[str, Any] = {
        "names": Names(session),
        "settlements": shown,
        "next_page": next_page,
    }
    if page.htmx:
        return page.render("_settlement_rows.html", **context)
    return page.render("settlements.html", **context)


@router.get("/me/settlements/{settlement_id}")
def my_settlement(
    page: InsuredPage,
    session: SessionDep,
    settlement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One settlement explained: every amount to the fen, each line, and the engine's
    reasons in the reader's language. Another person's settlement does not exist here."""
    row = settlements.get_settlement(session, actor=page.actor, settlement_id=settlement_id)
    explained = settlements.settlement_explained(session, record_=row, lang=page.lang)
    names = Names(session)
    return page.render(
        "settlement.html",
        row=row,
        s=explained,
        amounts=[(name, explained["amounts"][name]) for name in MONEY_FIELDS],
        waterfall=settlements.settlement_waterfall(row, lang=page.lang),
        institution=names.institution(row.institution_id),
        names=names,
    )
