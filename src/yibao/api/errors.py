"""One handler renders every error as ``application/problem+json`` (RFC 9457).

The domain chooses the error class and its stable ``code``; the status comes from the class
here. Extras of an error (such as ``allowed`` for an invalid transition) become members.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
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
from yibao.identity import mask_identity_numbers

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


def _route_of(request: Request) -> str:
    """The route template (never the path: it may hold ids; never the query string)."""
    fastapi_scope = request.scope.get("fastapi")
    if isinstance(fastapi_scope, dict):  # FastAPI's route with its routers' prefixes
        context = fastapi_scope.get("effective_route_context")
        template = getattr(context, "path_format", None)
        if isinstance(template, str) and template:
            return template
    template = getattr(request.scope.get("route"), "path_format", None)
    return template if isinstance(template, str) else "<unmatched>"


def _fixed_answer_handler(answer: FixedAnswer) -> Any:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        if answer.log:
            # a warning, so it is written even where logging was never configured; the
            # record carries the request's id (yibao.logs), the database's own message
            # is masked (a duplicate key names the value)
            _log.warning(
                "database error %s on %s %s: %s",
                answer.code,
                request.method,
                _route_of(request),
                mask_identity_numbers(str(getattr(exc, "orig", exc))),
                extra={"error_code": answer.code},
            )
        return problem(
            answer.status,
            title=answer.title,
            detail=answer.detail,
            code=answer.code,
            instance=request.url.path,
        )

    return handler


def install_error_handlers(app: FastAPI) -> None:
    """The handlers, and the OpenAPI document's error answers (Problem, per route)."""
    install_problem_openapi(app)

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


# --- the OpenAPI document: every error a route can answer, as a Problem -----------------

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error, as problem details (RFC 9457). `code` is stable: clients "
    "branch on it, never on `title` or `detail`. Some problems add members: `errors` "
    "(invalid request: each field), `allowed` (a refused transition: the moves allowed now), "
    "`limit` and `value` (a limit exceeded), `source`/`where`/`reason` (an unreadable file).",
    "properties": {
        "type": {"type": "string", "example": "urn:yibao:problem:filing.locked"},
        "title": {"type": "string", "example": "Conflict"},
        "status": {"type": "integer", "example": 409},
        "detail": {"type": "string", "description": "what went wrong, where and why"},
        "code": {"type": "string", "example": "filing.locked"},
        "instance": {"type": "string", "description": "the path of the request"},
        "errors": {
            "type": "array",
            "description": "request.invalid: every field that failed",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
    "additionalProperties": True,
}

ERROR_ANSWERS: dict[int, str] = {
    401: "Not authenticated: the bearer token is missing, unknown, expired or revoked",
    403: "Forbidden: the caller's role or scope does not allow this",
    404: "Not found, or not visible to the caller",
    409: "Conflict: the current state does not allow this (or the Idempotency-Key was "
    "used for another request)",
    413: "Request too large: the body or an upload is over its limit",
    422: "Invalid request: a parameter or the body fails validation or a limit",
    429: "Too many failed authentications: wait for Retry-After seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    429: {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "seconds to wait before trying again",
        }
    },
}
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def api_routes(routes: list[Any]) -> Iterator[Any]:
    """Every API route with the prefixes and dependencies of the routers that include it
    (FastAPI composes included routers lazily: ``app.routes`` lists the routers)."""
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None:  # an older FastAPI: the routes are flat
        yield from (route for route in routes if isinstance(route, APIRoute))
        return
    for context in iterate(routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def route_errors(route: Any) -> set[int]:
    """The 4xx statuses ``route`` can answer, from what it depends on: a bearer token
    (401, 403, and 429 after repeated failures), path parameters (404), a state-changing
    method (409), a body (413, 422), any parameter (422)."""
    dependants = list(_dependants(route.dependant))
    errors: set[int] = set()
    if any(isinstance(d.call, SecurityBase) for d in dependants):
        errors |= {401, 403, 429}
    if route.dependant.path_params or "{" in route.path_format:
        errors.add(404)
    if route.methods & _STATE_CHANGING:
        errors.add(409)
    if any(d.body_params for d in dependants):
        errors |= {413, 422}
    if any(
        d.path_params or d.query_params or d.header_params or d.cookie_params for d in dependants
    ):
        errors.add(422)
    return errors


def document_problems(schema: dict[str, Any], routes: list[Any]) -> None:
    """Add the Problem schema and, to every operation, each error it can answer with that
    schema (FastAPI's own 422, a different body, is replaced)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    paths = schema.get("paths", {})
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        item = paths.get(route.path_format)
        if item is None:
            continue
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(route_errors(route)):
                answer: dict[str, Any] = {
                    "description": ERROR_ANSWERS[status],
                    "content": {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}},
                }
                if status in _HEADERS:
                    answer["headers"] = _HEADERS[status]
                responses[str(status)] = answer
    text = json.dumps(schema)
    if '"#/components/schemas/HTTPValidationError"' not in text:
        components.pop("HTTPValidationError", None)
        if '"#/components/schemas/ValidationError"' not in json.dumps(components):
            components.pop("ValidationError", None)


def install_problem_openapi(app: FastAPI) -> None:
    """``app.openapi()`` documents the problems (computed once, on first use)."""
    generate = app.openapi
    documented: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if id(schema) not in documented:
            document_problems(schema, app.routes)
            documented.append(id(schema))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
