"""Errors of the FHIR face as ``OperationOutcome`` resources, never a bare 500.

The services raise :class:`~yibao.errors.YibaoError` with a stable ``code``; the FHIR face
answers each with an ``OperationOutcome`` and the HTTP status of its class (the same table
as the REST API's problem+json): 401 ``login``, 403 ``forbidden``, 404 ``not-found``, 409
``conflict``, 422 ``business-rule`` / ``invalid``. What the adapter itself refuses (a body
that is not a valid FHIR resource, a search parameter it does not know, a media type it
does not speak) is a :class:`FhirProblem`, 400/406/415/422. :func:`install_fhir_errors`
answers whatever a request under ``/fhir/R4`` raises (from the bearer token to the
commit) as an ``OperationOutcome``; the transaction was rolled back by then, so a refused
request changes nothing.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
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
from yibao.fhir.codes import MEDIA_TYPE
from yibao.fhir.render import dump

FHIR_BASE: Final = "/fhir/R4"

_log = logging.getLogger("yibao.fhir")

PROBLEM_SYSTEM: Final = "urn:yibao:problem"
"""The system of an issue's ``details`` coding: the stable codes of Yibao's errors."""

# class → (HTTP status, OperationOutcome issue type); the first match wins.
_BY_CLASS: Final[tuple[tuple[type[YibaoError], int, str], ...]] = (
    (NotFound, 404, "not-found"),
    (Gone, 410, "deleted"),
    (Forbidden, 403, "forbidden"),
    (Unauthorized, 401, "login"),
    (Conflict, 409, "conflict"),
    (InvalidInput, 422, "invalid"),
    (ValidationFailed, 422, "business-rule"),
)


class FhirProblem(Exception):
    """A request the FHIR face refuses by itself (before any service is asked)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str,
        issue_type: str = "invalid",
        expression: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.issue_type = issue_type
        self.expression = list(expression)


def issue(
    *,
    code: str,
    message: str,
    issue_type: str,
    expression: Sequence[str] = (),
    severity: str = "error",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "severity": severity,
        "code": issue_type,
        "details": {"coding": [{"system": PROBLEM_SYSTEM, "code": code}], "text": message},
        "diagnostics": message,
    }
    if expression:
        out["expression"] = list(expression)
    return out


def outcome_response(
    status: int, issues: Sequence[dict[str, Any]], *, headers: dict[str, str] | None = None
) -> Response:
    body = dump("OperationOutcome", {"resourceType": "OperationOutcome", "issue": list(issues)})
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return Response(
        content=body, status_code=status, media_type=MEDIA_TYPE, headers=headers or None
    )


def status_of(error: YibaoError) -> tuple[int, str]:
    for cls, status, issue_type in _BY_CLASS:
        if isinstance(error, cls):
            return status, issue_type
    return 400, "invalid"


def from_yibao(error: YibaoError) -> Response:
    status, issue_type = status_of(error)
    where: list[str] = []
    if isinstance(error, InvalidInput) and error.where:
        where = [f"{error.source} {error.where}"]
    field = error.extra.get("field")
    if isinstance(field, str):
        where.append(field)
    return outcome_response(
        status,
        [issue(code=error.code, message=error.message, issue_type=issue_type, expression=where)],
    )


def from_problem(problem: FhirProblem) -> Response:
    return outcome_response(
        problem.status,
        [
            issue(
                code=problem.code,
                message=problem.message,
                issue_type=problem.issue_type,
                expression=problem.expression,
            )
        ],
    )


def from_validation(error: ValidationError | RequestValidationError, *, what: str) -> Response:
    """A body or a parameter that does not validate: one issue per error, with its path."""
    issues = []
    for err in error.errors():
        path = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        message = f"{what}: {path or 'the value'}: {err.get('msg', 'invalid')}"
        issues.append(
            issue(
                code="fhir.invalid_resource" if what != "parameter" else "fhir.invalid_parameter",
                message=message,
                issue_type="structure" if what != "parameter" else "invalid",
                expression=[path] if path else [],
            )
        )
    return outcome_response(400, issues or [_plain_issue(400, "invalid request")])


def _plain_issue(status: int, message: str) -> dict[str, Any]:
    issue_type = {401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported"}.get(
        status, "invalid"
    )
    return issue(code=f"http.{status}", message=message, issue_type=issue_type)


def _fixed(exc: Exception) -> Response | None:
    """The low-level errors the REST API also answers as the client's fault."""
    if isinstance(exc, OverflowError):
        return outcome_response(
            422,
            [
                issue(
                    code="request.number_out_of_range",
                    message="a number in the request is out of range",
                    issue_type="invalid",
                )
            ],
        )
    if isinstance(exc, DataError):
        _log.info("request.value_out_of_range: %s", getattr(exc, "orig", exc))
        return outcome_response(
            422,
            [
                issue(
                    code="request.value_out_of_range",
                    message="a value in the request does not fit the database "
                    "(out of range or too long)",
                    issue_type="invalid",
                )
            ],
        )
    if isinstance(exc, IntegrityError):
        _log.info("db.integrity: %s", getattr(exc, "orig", exc))
        return outcome_response(
            409,
            [
                issue(
                    code="db.integrity",
                    message="the change conflicts with existing data",
                    issue_type="conflict",
                )
            ],
        )
    return None


def render_exception(exc: Exception) -> Response:
    """Any exception of a FHIR request as an ``OperationOutcome``."""
    if isinstance(exc, YibaoError):
        return from_yibao(exc)
    if isinstance(exc, FhirProblem):
        return from_problem(exc)
    if isinstance(exc, RequestValidationError):
        return from_validation(exc, what="parameter")
    if isinstance(exc, StarletteHTTPException):
        return outcome_response(exc.status_code, [_plain_issue(exc.status_code, str(exc.detail))])
    fixed = _fixed(exc)
    if fixed is not None:
        return fixed
    _log.exception("unexpected error in a FHIR request")
    return outcome_response(
        500,
        [issue(code="server.error", message="unexpected server error", issue_type="exception")],
    )


_HANDLED: Final[tuple[type[Exception], ...]] = (
    YibaoError,
    FhirProblem,
    RequestValidationError,
    StarletteHTTPException,
    OverflowError,
    DataError,
    IntegrityError,
    UnicodeDecodeError,
    Exception,
)


def is_fhir_request(request: Request) -> bool:
    return request.url.path == FHIR_BASE or request.url.path.startswith(f"{FHIR_BASE}/")


def install_fhir_errors(app: FastAPI) -> None:
    """Answer every error of a request under ``/fhir/R4`` as an ``OperationOutcome``.

    Wraps the handlers already installed (the API's problem+json, the pages' error pages):
    call it last. App-level handlers run after the request's transaction was rolled back,
    so a refused request changes nothing.
    """
    for key in _HANDLED:
        _wrap(app, key)


def _wrap(app: FastAPI, key: type[Exception]) -> None:
    previous = app.exception_handlers.get(key)

    async def handler(request: Request, exc: Exception) -> Response:
        if is_fhir_request(request):
            return render_exception(exc)
        if previous is None:
            raise exc
        if inspect.iscoroutinefunction(previous):
            answer: Response = await previous(request, exc)
            return answer
        response = await run_in_threadpool(previous, request, exc)
        assert isinstance(response, Response)
        return response

    app.add_exception_handler(key, handler)
