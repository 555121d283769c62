"""One page request: its language, the signed-in user, the CSRF token, the cookies.

The signed-in user comes from the session cookie (:mod:`yibao.auth.sessions`) and is the
same :class:`~yibao.auth.models.User` the API's ``CurrentUser`` gives for a bearer token,
so the pages call every service with the same actor and write no access rule of their own.

CSRF: every form carries ``csrf_token``, an HMAC (the platform's secret key) of a seed the
browser cannot be made to send from elsewhere: the session's own secret (stored server-side)
once signed in, before that a random value in the ``yibao_csrf`` cookie (HttpOnly,
SameSite=Lax). Every POST of the pages is checked (:func:`check_csrf`, a dependency of the
whole router), from the form field or, for htmx requests, the ``X-CSRF-Token`` header.

Cookies are HttpOnly and SameSite=Lax, and Secure when the request came over HTTPS (behind
a proxy: run uvicorn with ``--proxy-headers`` so the scheme is the client's).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.auth.deps import SessionDep
from yibao.auth.models import User
from yibao.auth.sessions import session_user
from yibao.clock import business_date
from yibao.engine.phrases import Lang
from yibao.errors import Forbidden
from yibao.registry.models import Institution
from yibao.web.i18n import page_language
from yibao.web.rendering import Renderer

SESSION_COOKIE: Final = "yibao_session"
CSRF_COOKIE: Final = "yibao_csrf"
LANG_COOKIE: Final = "yibao_lang"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "X-CSRF-Token"
PAGE_SCOPE_KEY: Final = "yibao.page"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_YEAR: Final = 365 * 24 * 3600

# Scripts, styles and images come from Yibao itself; nothing inline, nothing evaluated.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # pages carry personal data and form tokens: never stored by a browser or a proxy
    "Cache-Control": "no-store",
    "Vary": "Cookie, Accept-Language, HX-Request",
}


def now() -> datetime:
    """The clock of the pages (tests may replace it)."""
    return datetime.now(UTC)


def current_day() -> date:
    """The business day in China by the pages' clock."""
    return business_date(now())


class SignInRequired(Exception):
    """The page needs a signed-in user: the answer is the sign-in page (then back here)."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is signed in, as plain values: still readable on an error page after the
    request's transaction was rolled back."""

    id: int
    name: str
    role: str
    pharmacy: bool = False  # a hospital user working for a pharmacy (its menu differs)


@dataclass(slots=True)
class Page:
    request: Request
    lang: Lang
    remember_lang: bool = False
    user: User | None = None
    viewer: Viewer | None = None
    session_token: str | None = None
    session_seed: str | None = None  # the web session's CSRF secret
    anonymous_seed: str | None = None  # the yibao_csrf cookie
    new_anonymous_seed: bool = False
    forget_session: bool = False  # the cookie named no live session: remove it
    cookies: list[tuple[str, str | None, int | None]] = field(default_factory=list)

    @property
    def actor(self) -> User:
        """The signed-in user, the actor of every service call (else: sign in first)."""
        if self.user is None:
            raise SignInRequired
        return self.user

    @property
    def renderer(self) -> Renderer:
        renderer: Renderer = self.request.app.state.pages
        return renderer

    @property
    def secure(self) -> bool:
        return self.request.url.scheme == "https"

    @property
    def htmx(self) -> bool:
        """An htmx request (a "more" button, a filter): it gets the part of the page only."""
        return self.request.headers.get("HX-Request") == "true"

    def gettext(self, message: str) -> str:
        return self.renderer.gettext(self.lang, message)

    # --- CSRF -------------------------------------------------------------------------

    def _sign(self, seed: str) -> str:
        key = str(self.request.app.state.settings.secret_key).encode()
        return hmac.new(key, f"csrf|{seed}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self) -> str:
        """The token of this page's forms (a fresh anonymous seed is set as a cookie)."""
        if self.session_seed is not None:
            return self._sign(self.session_seed)
        if self.anonymous_seed is None:
            self.anonymous_seed = secrets.token_urlsafe(32)
            self.new_anonymous_seed = True
        return self._sign(self.anonymous_seed)

    def csrf_valid(self, token: str | None) -> bool:
        if not token:
            return False
        seeds = [self.session_seed]
        if not self.new_anonymous_seed:
            seeds.append(self.anonymous_seed)
        return any(
            hmac.compare_digest(token.encode(), self._sign(seed).encode()) for seed in seeds if seed
        )

    # --- answers ----------------------------------------------------------------------

    def switch_url(self, lang: Lang) -> str:
        """This page in another language (the choice is remembered in a cookie)."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        query.append(("lang", lang))
        return f"{self.request.url.path}?{urlencode(query)}"

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> Response:
        values = {
            "page": self,
            "viewer": self.viewer,
            "csrf_token": self.csrf_token(),
            "path": self.request.url.path,
            "switch_url": self.switch_url("zh" if self.lang == "en" else "en"),
            **context,
        }
        html = self.renderer.render(self.lang, template, values)
        return self.finish(HTMLResponse(html, status_code=status_code))

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))

    def set_cookie(self, name: str, value: str | None, max_age: int | None = None) -> None:
        """Set (or, with None, delete) a cookie on the answer."""
        self.cookies.append((name, value, max_age))

    def finish(self, response: Response) -> Response:
        if self.remember_lang:
            self.set_cookie(LANG_COOKIE, self.lang, _YEAR)
        if self.new_anonymous_seed and self.anonymous_seed:
            self.set_cookie(CSRF_COOKIE, self.anonymous_seed)
        if self.forget_session:
            self.set_cookie(SESSION_COOKIE, None)
        for name, value, max_age in self.cookies:
            if value is None:
                response.delete_cookie(
                    name, path="/", secure=self.secure, httponly=True, samesite="lax"
                )
            else:
                response.set_cookie(
                    name,
                    value,
                    max_age=max_age,
                    path="/",
                    secure=self.secure,
                    httponly=True,
                    samesite="lax",
                )
        self.cookies.clear()
        response.headers.update(SECURITY_HEADERS)
        return response


def anonymous_page(request: Request) -> Page:
    """The page of a request, without the database (error pages): the user found by
    :func:`get_page` when it ran, else nobody."""
    found = getattr(request.state, "page", None)
    if isinstance(found, Page):
        return found
    return Page(
        request=request,
        lang=page_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        ),
        remember_lang="lang" in request.query_params,
        anonymous_seed=request.cookies.get(CSRF_COOKIE),
    )


def get_page(request: Request, session: SessionDep) -> Page:
    page = anonymous_page(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = session_user(session, token=token, now=now())
        if found is None:
            page.forget_session = True
        else:
            user, row = found
            page.user = user
            workplace = (
                session.get(Institution, user.institution_id)
                if user.role == "hospital" and user.institution_id is not None
                else None
            )
            page.viewer = Viewer(
                id=user.id,
                name=user.name,
                role=user.role,
                pharmacy=workplace is not None and workplace.kind == "pharmacy",
            )
            page.session_token = token
            page.session_seed = row.csrf_secret
    request.state.page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]


async def check_csrf(request: Request, page: PageDep) -> None:
    """Every POST of the pages carries the form's token (field or htmx header)."""
    if request.method in _SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not page.csrf_valid(token):
        raise Forbidden(
            "the form has expired or did not come from this site: reload the page and try again",
            code="web.csrf",
        )


def signed_in(page: PageDep) -> Page:
    if page.user is None:
        raise SignInRequired
    return page


SignedInPage = Annotated[Page, Depends(signed_in)]


def _role_gate(roles: tuple[str, ...], refusal: str, code: str) -> Callable[[Page], Page]:
    """A page area's gate: a first, cheap filter by role like the API's role gates (the
    services decide what is shown)."""

    def gate(page: SignedInPage) -> Page:
        assert page.user is not None
        if page.user.role not in roles:
            raise Forbidden(refusal, code=code)
        return page

    return gate


# The person's own pages (参保人): other roles have their own home.
insured_only = _role_gate(("insured",), "these pages are for insured persons", "web.insured_only")
InsuredPage = Annotated[Page, Depends(insured_only)]

# The hospital's insurance window (医保窗口).
hospital_only = _role_gate(
    ("hospital",), "these pages are for the hospital's insurance window", "web.hospital_only"
)
HospitalPage = Annotated[Page, Depends(hospital_only)]

# The agencies (经办机构): review queues, recovery, clearing, dashboard, policies.
agency_only = _role_gate(
    ("agency",), "these pages are for medical insurance agencies", "web.agency_only"
)
AgencyPage = Annotated[Page, Depends(agency_only)]

# Those who file for others: street offices and insured units.
office_only = _role_gate(
    ("street_office", "unit"),
    "these pages are for street offices and insured units",
    "web.office_only",
)
OfficePage = Annotated[Page, Depends(office_only)]

# The administration pages (users, institutions, regions, units).
admin_only = _role_gate(("admin",), "these pages are for platform administrators", "web.admin_only")
AdminPage = Annotated[Page, Depends(admin_only)]
