"""Errors on the pages: a page in the reader's language, never a stack trace.

The API renders the same errors as ``application/problem+json`` (:mod:`yibao.api.errors`).
Both answer through the app's exception handlers, which run after the request's transaction
was rolled back. :func:`install_page_errors` wraps the handlers already installed: a request
to a page (its route marks the request, or an unknown address asked for by a browser outside
``/api/``) gets a page, anything else the handler it had before.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from yibao.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Unauthorized,
    ValidationFailed,
    YibaoError,
)
from yibao.web.error_messages import sentence_for
from yibao.web.i18n import N_
from yibao.web.page import PAGE_SCOPE_KEY, SignInRequired, anonymous_page

_log = logging.getLogger("yibao.web")

Handler = Callable[[Request, Any], Awaitable[Response] | Response]

# How a page says each kind of error; the status matches the API's for the same class.
_STATUS_BY_CLASS: Final[tuple[tuple[type[YibaoError], int], ...]] = (
    (NotFound, 404),
    (Gone, 410),
    (Forbidden, 403),
    (Unauthorized, 401),
    (Conflict, 409),
    (InvalidInput, 422),
    (ValidationFailed, 422),
)
_WORDS: Final[dict[int, tuple[str, str]]] = {
    400: (
        N_("The request could not be accepted"),
        N_("Something in the request was not as expected. Go back and try again."),
    ),
    401: (N_("Please sign in"), N_("This page is for signed-in users.")),
    403: (N_("Not allowed"), N_("Your account may not see or do this.")),
    404: (
        N_("Not found"),
        N_("The page or record you asked for does not exist, or is not yours to see."),
    ),
    409: (N_("This cannot be done now"), N_("The record is not in a state that allows it.")),
    410: (N_("No longer here"), N_("What you asked for existed, but is gone.")),
    422: (N_("The request could not be accepted"), N_("Please check what you entered.")),
    500: (
        N_("Something went wrong on our side"),
        N_("The error was logged. Please try again later."),
    ),
}


def status_for(error: YibaoError) -> int:
    for cls, status in _STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return 400


def is_page_request(request: Request) -> bool:
    if request.scope.get(PAGE_SCOPE_KEY):
        return True
    path = request.url.path
    if path.startswith("/api/") or path == "/api":
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request, status: int, *, detail: str | None = None, code: str | None = None
) -> Response:
    """The error page of ``status``; a service's refusal (``code``) is said by its sentence
    (:func:`yibao.web.error_messages.sentence_for`), its message kept as technical details."""
    page = anonymous_page(request)
    title, text = _WORDS.get(status, _WORDS[400])
    return page.render(
        "error.html",
        status_code=status,
        title=title,
        text=text,
        sentence=sentence_for(code),
        detail=detail,
        code=code,
    )


async def _yibao_error(request: Request, exc: YibaoError) -> Response:
    return error_page(request, status_for(exc), detail=exc.message, code=exc.code)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    # a path that does not name a record (/me/settlements/abc) is not found; anything else
    # in the request (a missing form field) is a bad request
    in_path = any(str(err.get("loc", ("",))[0]) == "path" for err in exc.errors())
    return error_page(request, 404 if in_path else 400)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    return error_page(request, exc.status_code if exc.status_code in _WORDS else 400)


async def _sign_in_required(request: Request, exc: SignInRequired) -> Response:
    target = request.url.path
    if request.url.query:
        target += f"?{request.url.query}"
    page = anonymous_page(request)
    return page.redirect(f"/login?next={quote(target, safe='')}")


async def _server_error(request: Request, exc: Exception) -> Response:
    # The server logs the traceback (the exception is raised again after this answer).
    if is_page_request(request):
        try:
            return error_page(request, 500)
        except Exception:  # the error page itself failed: say it plainly
            _log.exception("the error page failed")
    return PlainTextResponse("Internal Server Error", status_code=500)


def _wrap(app: FastAPI, key: type[Exception], page_handler: Handler) -> None:
    previous = app.exception_handlers.get(key)

    async def handler(request: Request, exc: Exception) -> Response:
        if previous is None or is_page_request(request):
            chosen: Handler = page_handler
        else:
            chosen = previous
        if inspect.iscoroutinefunction(chosen):
            answer: Response = await chosen(request, exc)
            return answer
        response = await run_in_threadpool(chosen, request, exc)
        assert isinstance(response, Response)
        return response

    app.add_exception_handler(key, handler)


def install_page_errors(app: FastAPI) -> None:
    """Page answers for page requests; call after the API's handlers are installed."""
    _wrap(app, YibaoError, _yibao_error)
    _wrap(app, RequestValidationError, _validation_error)
    _wrap(app, StarletteHTTPException, _http_error)
    _wrap(app, SignInRequired, _sign_in_required)
    app.add_exception_handler(Exception, _server_error)
