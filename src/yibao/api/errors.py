"""One handler renders every error as ``application/problem+json`` (RFC 9457).

The domain chooses the error class and its stable ``code``; the status comes from the class
here. Extras of an error (such as ``allowed`` for an invalid transition) become members.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
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

PROBLEM = "application/problem+json"
_log = logging.getLogger("yibao.api")

STATUS_BY_CLASS: tuple[tuple[type[YibaoError], int], ...] = (
    (NotFound, 404),
    (Gone, 410),
    (Forbidden, 403),
    (Unauthorized, 401),
    (Conflict, 409),  # InvalidTransition is a Conflict
    (InvalidInput, 422),
    (ValidationFailed, 422),
)


def status_for(error: YibaoError) -> int:
    for cls, status in STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return 400


def problem(
    status: int, *, title: str, detail: str, code: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:yibao:problem:{code}",  # a name, not a page: no domain is implied
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


@dataclass(frozen=True, slots=True)
class FixedAnswer:
    """The problem a low-level error always becomes: the request, not the server, is at fault."""

    status: int
    title: str
    detail: str
    code: str
    log: bool = False  # the database's own message goes to the log, never to the client


FIXED_ANSWERS: dict[type[Exception], FixedAnswer] = {
    # an id or amount beyond what the database stores (SQLite: 64-bit integers)
    OverflowError: FixedAnswer(
        422,
        "Invalid request",
        "a number in the request is out of range (at most 9223372036854775807)",
        "request.number_out_of_range",
    ),
    # PostgreSQL: a value out of range or too long for its column
    DataError: FixedAnswer(
        422,
        "Invalid request",
        "a value in the request does not fit the database (out of range or too long)",
        "request.value_out_of_range",
        log=True,
    ),
    UnicodeDecodeError: FixedAnswer(
        400, "Invalid request", "the request body is not UTF-8 text", "request.not_utf8"
    ),
    IntegrityError: FixedAnswer(
        409,
        "Conflict",
        "the change conflicts with existing data (duplicate or missing reference)",
        "db.integrity",
        log=True,
    ),
}


def _fixed_answer_handler(answer: FixedAnswer) -> Any:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        if answer.log:
            _log.info("%s on %s: %s", answer.code, request.url.path, getattr(exc, "orig", exc))
        return problem(
            answer.status,
            title=answer.title,
            detail=answer.detail,
            code=answer.code,
            instance=request.url.path,
        )

    return handler


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(YibaoError)
    async def _yibao(request: Request, exc: YibaoError) -> JSONResponse:
        extra = {k: _jsonable(v) for k, v in exc.extra.items()}
        if isinstance(exc, InvalidInput):
            extra.update(source=exc.source, where=exc.where, reason=exc.reason)
        return problem(
            status_for(exc),
            title=exc.title,
            detail=exc.message,
            code=exc.code,
            instance=request.url.path,
            **extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(part) for part in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        return problem(
            422,
            title="Invalid request",
            detail=f"{'.'.join(first['loc'])}: {first['msg']}",
            code="request.invalid",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            title=str(exc.detail),
            detail=str(exc.detail),
            code=f"http.{exc.status_code}",
            instance=request.url.path,
        )

    for exc_class, answer in FIXED_ANSWERS.items():
        app.add_exception_handler(exc_class, _fixed_answer_handler(answer))
