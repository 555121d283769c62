"""Self-registration of insured persons (参保人自助注册): identity number, a one-time code
sent to the phone registered for the person, then a login name and a password.

The rules (check character, who gets a code, how long it lives, how many tries, how often
codes are sent, who may be created) are :mod:`yibao.users.registration`'s; this page only
asks and answers. Every answer to an identity number is the same whether it belongs to
anybody or not. The SMS sender is ``app.state.sms`` (the demo's writes to the server log).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from yibao.auth import passwords, sessions
from yibao.auth.deps import SessionDep
from yibao.errors import ValidationFailed
from yibao.users import registration
from yibao.users import service as users
from yibao.users.registration import Checked, Requested, TicketState
from yibao.users.sms import LoggingSmsSender, SmsSender
from yibao.web.forms import FormError, attempt
from yibao.web.i18n import N_
from yibao.web.page import SESSION_COOKIE, Page, PageDep, check_csrf, now
from yibao.web.routes import PageRoute

_DEFAULT_SENDER: Final = LoggingSmsSender()

IDENTITY_WORDS: Final = {
    "identity.malformed": N_("An identity number has 18 characters: 17 digits, then a digit or X."),
    "identity.birth_date": N_("This identity number holds a birth date that cannot be."),
    "identity.check_digit": N_(
        "The last character of this identity number does not match the others "
        "(GB 11643 check). Check the number on your identity card."
    ),
}
TOO_SOON: Final = N_("A code was sent less than a minute ago. Wait a minute before asking again.")
TOO_MANY: Final = N_(
    "At most 5 codes a day are sent for one identity number. Try again tomorrow, or "
    "register at a medical insurance window."
)
CODE_WRONG: Final = N_("The code is wrong. Tries left for this code: %(left)s.")
CODE_LOCKED: Final = N_("The code was wrong 5 times and no longer works. Ask for a new code.")
CODE_EXPIRED: Final = N_(
    "There is no valid code for this identity number: it is older than 10 minutes, was "
    "used, or was typed wrong too often. Ask for a new code."
)
CODE_SHAPE: Final = N_("The code has 6 digits.")
TICKET_INVALID: Final = N_(
    "This registration has expired (15 minutes after the code). Start again."
)
PASSWORDS_DIFFER: Final = N_("The two passwords differ.")
PASSWORD_RULE: Final = N_(
    "A password has 8 to 256 characters and neither starts nor ends with a space."
)
LOGIN_RULE: Final = N_(
    "A login name has 2 to 40 characters: lower-case letters, digits, _ . or -, "
    "starting with a letter or a digit."
)
LOGIN_TAKEN: Final = N_("This login name is taken: choose another.")

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def _sms(request: Request) -> SmsSender:
    sender: SmsSender | None = getattr(request.app.state, "sms", None)
    return sender if sender is not None else _DEFAULT_SENDER


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def _render(
    page: Page,
    request: Request,
    step: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_values: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    values: dict[str, Any] = {
        "identity_number": "",
        "ticket": "",
        "login": "",
        "person_name": None,
        "sent": False,
    }
    values.update(context)
    return page.render(
        "register.html",
        status_code=status_code,
        step=step,
        error=error,
        error_values=error_values or {},
        demo_sms=bool(getattr(_sms(request), "demo", False)),
        **values,
    )


@router.get("/register")
def register_form(page: PageDep, request: Request) -> Response:
    """Step 1: the identity number."""
    return _render(page, request, "identity")


@router.post("/register")
def send_code(
    page: PageDep,
    session: SessionDep,
    request: Request,
    identity_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Step 2: a code is sent (or not: the answer is the same), then typed."""
    typed = identity_number.strip().upper()
    try:
        outcome = registration.request_code(
            session, identity_number=typed, secret=_secret(request), sms=_sms(request), now=now()
        )
    except ValidationFailed as exc:
        words = IDENTITY_WORDS.get(exc.code or "", IDENTITY_WORDS["identity.malformed"])
        return _render(
            page, request, "identity", status_code=422, error=words, identity_number=typed
        )
    if outcome is Requested.TOO_SOON:
        return _render(
            page, request, "code", status_code=429, error=TOO_SOON, identity_number=typed
        )
    if outcome is Requested.TOO_MANY:
        return _render(
            page, request, "identity", status_code=429, error=TOO_MANY, identity_number=typed
        )
    return _render(page, request, "code", identity_number=typed, sent=True)


@router.post("/register/code")
def check_code(
    page: PageDep,
    session: SessionDep,
    request: Request,
    identity_number: Annotated[str, Form(max_length=40)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Step 3: the right code opens the last step (the tries are counted and kept)."""
    typed = identity_number.strip().upper()
    digits = code.strip()
    if not (len(digits) == 6 and digits.isdigit()):
        return _render(
            page, request, "code", status_code=422, error=CODE_SHAPE, identity_number=typed
        )
    try:
        checked = registration.check_code(
            session, identity_number=typed, code=digits, secret=_secret(request), now=now()
        )
    except ValidationFailed as exc:
        words = IDENTITY_WORDS.get(exc.code or "", IDENTITY_WORDS["identity.malformed"])
        return _render(page, request, "identity", status_code=422, error=words)
    if checked.outcome is Checked.WRONG:
        return _render(
            page,
            request,
            "code",
            status_code=422,
            error=CODE_WRONG,
            error_values={"left": checked.tries_left},
            identity_number=typed,
        )
    if checked.outcome in (Checked.LOCKED, Checked.EXPIRED):
        words = CODE_LOCKED if checked.outcome is Checked.LOCKED else CODE_EXPIRED
        return _render(
            page, request, "expired", status_code=429, error=words, identity_number=typed
        )
    assert checked.ticket is not None
    return _account_step(page, session, request, checked.ticket)


def _account_step(
    page: Page,
    session: SessionDep,
    request: Request,
    ticket: str,
    *,
    error: str | None = None,
    login: str = "",
    status_code: int = 200,
) -> Response:
    found = registration.read_ticket(session, ticket=ticket, now=now())
    if found.state is TicketState.INVALID:
        return _render(page, request, "identity", status_code=410, error=TICKET_INVALID)
    if found.state is TicketState.NO_PHONE:
        return _render(page, request, "no_phone")
    if found.state is TicketState.HAS_ACCOUNT:
        return _render(page, request, "has_account")
    assert found.person is not None
    return _render(
        page,
        request,
        "account",
        status_code=status_code,
        error=error,
        ticket=ticket,
        login=login,
        person_name=found.person.name,
    )


@router.post("/register/account")
def create_account(
    page: PageDep,
    session: SessionDep,
    request: Request,
    ticket: Annotated[str, Form(max_length=100)] = "",
    login: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Step 4: the insured user is created (by the platform itself) and signed in."""
    at = now()
    found = registration.read_ticket(session, ticket=ticket, now=at)
    if found.state is not TicketState.READY:
        return _account_step(page, session, request, ticket)

    def create() -> Any:
        name = passwords.normalise_login(login)
        if passwords.login_problems(name):
            raise FormError(LOGIN_RULE)
        if users.login_taken(session, login=name):
            raise FormError(LOGIN_TAKEN)
        if passwords.password_problems(password):
            raise FormError(PASSWORD_RULE)
        if password != password_again:
            raise FormError(PASSWORDS_DIFFER)
        return registration.complete_registration(
            session, ticket=found, login=name, password=password, now=at
        )

    user, error = attempt(session, create)
    if user is None:
        assert error is not None
        return _account_step(
            page,
            session,
            request,
            ticket,
            error=error["message"] or LOGIN_RULE,
            login=login,
            status_code=error["status"],
        )
    started = sessions.start_session(session, user=user, now=at, replaces=page.session_token)
    page.forget_session = False
    page.set_cookie(SESSION_COOKIE, started.token)
    return page.redirect("/me")
