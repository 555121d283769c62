"""Limits: how much one request, one document, one claim or one encounter may hold, how many
failed sign-ins an account or an address may make, and how long a token lives.

One typed settings group, read from the environment with the prefix ``YIBAO_LIMIT_``
(``YIBAO_LIMIT_INVOICES_PER_CLAIM=500``); :class:`yibao.config.Settings` holds it as
``settings.limits``. Every refusal names its limit and the limit's value, in the message and
as the members ``limit`` and ``limit_value`` of the problem+json answer:

| limit (``YIBAO_LIMIT_...``) | default | refused with |
|---|---|---|
| ``body_bytes``: a request's body | 16 MiB | 413 ``limit.body_bytes`` |
| ``documents_per_owner``: documents of a filing or claim | 40 | 422 (the limit's name) |
| ``document_bytes_per_owner``: their bytes together | 100 MiB | 422 |
| ``invoices_per_claim``: invoices of a reimbursement claim | 300 | 422 |
| ``lines_per_claim``: fee lines of a reimbursement claim | 5,000 | 422 |
| ``fee_lines_per_encounter``: active fee lines of an encounter | 10,000 | 422 |
| ``auth_failures_per_address`` in ``auth_window_seconds`` | 100 in 300 s | 429 |
| ``auth_failures_per_account`` in ``auth_window_seconds`` | 10 in 300 s | 429 |
| ``token_lifetime_days``: a token issued without ``--expires-in`` | 90 | 401 |

The 422 codes are ``limit.<name>``; the 429 is ``auth.too_many_failures`` with
``Retry-After``; the 401 ``auth.token_expired``. The size of one uploaded document
keeps its older setting, ``YIBAO_UPLOAD_MAX_BYTES`` (10 MiB, 422 ``upload.too_large``).

The services read the limits the running face started with (:func:`use_limits`, called by
the API's factory; a command uses the environment's). The body limit is an ASGI middleware
(:class:`BodySizeLimit`): it refuses a declared ``Content-Length`` over the limit before the
application runs, and counts the bytes of a body sent without one (chunked), answering 413
as soon as the count passes the limit, so a 50 MiB JSON document is never parsed.
"""

from __future__ import annotations

import inspect
import json
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yibao.errors import ValidationFailed, YibaoError

MIB = 1024 * 1024
PROBLEM = "application/problem+json"


class Limits(BaseSettings):
    """The limits (see the module's table); each one is ``YIBAO_LIMIT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="YIBAO_LIMIT_", extra="ignore", frozen=True)

    body_bytes: int = Field(default=16 * MIB, ge=1024)
    documents_per_owner: int = Field(default=40, ge=1)
    document_bytes_per_owner: int = Field(default=100 * MIB, ge=1)
    invoices_per_claim: int = Field(default=300, ge=1)
    lines_per_claim: int = Field(default=5_000, ge=1)
    fee_lines_per_encounter: int = Field(default=10_000, ge=1)
    auth_failures_per_address: int = Field(default=100, ge=1)
    auth_failures_per_account: int = Field(default=10, ge=1)
    auth_window_seconds: int = Field(default=300, ge=1)
    token_lifetime_days: int = Field(default=90, ge=1, le=3650)

    @staticmethod
    def variable(name: str) -> str:
        """The environment variable of the limit ``name``."""
        return f"YIBAO_LIMIT_{name.upper()}"


_ACTIVE: list[Limits] = []
_FAILURES: list[FailureCounter] = []


def use_limits(limits: Limits) -> None:
    """Make ``limits`` the ones the services apply in this process (the API's factory), and
    begin the counts of failed authentications afresh."""
    _ACTIVE[:] = [limits]
    _FAILURES[:] = [FailureCounter()]


def active_limits() -> Limits:
    """The limits in force: those given to :func:`use_limits`, else the environment's."""
    if not _ACTIVE:
        _ACTIVE.append(Limits())
    return _ACTIVE[0]


def active_failures() -> FailureCounter:
    """The failed authentications counted in this process (:mod:`yibao.auth.ratelimit`)."""
    if not _FAILURES:
        _FAILURES.append(FailureCounter())
    return _FAILURES[0]


MAX_KEYS = 100_000
"""Addresses and accounts remembered at most; past it, those with no failure in the window
are forgotten first, then the oldest."""


class FailureCounter:
    """Failure times per key within a sliding window (thread-safe, bounded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, *, limit: int, limits: Limits, now: float) -> int | None:
        """Seconds until ``key`` may try again, or None when it is under ``limit``."""
        window = limits.auth_window_seconds
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                return None
            _prune(times, now - window)
            if len(times) < limit:
                return None
            # the count drops below the limit when the limit-th most recent failure leaves
            frees_at = times[len(times) - limit] + window
            return max(1, math.ceil(frees_at - now))

    def failed(self, key: str, *, limit: int, limits: Limits, now: float) -> None:
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                if len(self._failures) >= MAX_KEYS:
                    self._make_room(now - limits.auth_window_seconds)
                times = self._failures[key] = deque()
            _prune(times, now - limits.auth_window_seconds)
            times.append(now)
            while len(times) > limit:  # only the last `limit` failures matter
                times.popleft()

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()

    def _make_room(self, cutoff: float) -> None:
        for name in [k for k, times in self._failures.items() if not times or times[-1] <= cutoff]:
            del self._failures[name]
        if len(self._failures) >= MAX_KEYS * 9 // 10:
            # still nearly full (many addresses failing at once): forget the oldest tenth,
            # so the next insertions do not scan again
            for name in list(self._failures)[: MAX_KEYS // 10]:
                del self._failures[name]


def _prune(times: deque[float], cutoff: float) -> None:
    while times and times[0] <= cutoff:
        times.popleft()


class LimitExceeded(ValidationFailed):
    """A request holds more than a limit allows (422); names the limit and its value."""

    def __init__(self, message: str, *, code: str, limit: str, value: int, **extra: Any) -> None:
        super().__init__(
            f"{message} (limit {limit} = {value}, set by {Limits.variable(limit)})",
            code=code,
            limit=limit,
            limit_value=value,
            **extra,
        )
        self.limit = limit
        self.limit_value = value


def check_limit(
    count: int, *, limit: str, what: str, code: str, limits: Limits | None = None
) -> None:
    """Refuse ``count`` of ``what`` when it is above the limit named ``limit``."""
    value: int = getattr(limits or active_limits(), limit)
    if count > value:
        raise LimitExceeded(
            f"{what}: {count}, more than {value} allowed", code=code, limit=limit, value=value
        )


class TooManyAttempts(YibaoError):
    """Too many failed authentications from one address or against one account (429).

    Raised before any password or token is checked, so a refusal costs no hashing.
    ``retry_after`` is in whole seconds (the ``Retry-After`` header)."""

    code = "auth.too_many_failures"
    title = "Too many failed attempts"
    http_status = 429

    def __init__(self, *, retry_after: int, limit: str, value: int) -> None:
        super().__init__(
            f"too many failed authentications; try again in {retry_after} s "
            f"(limit {limit} = {value} in {active_limits().auth_window_seconds} s)",
            retry_after=retry_after,
            limit=limit,
            limit_value=value,
        )
        self.retry_after = retry_after


# --- the answers -------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def body_too_large_problem(limit: int, *, instance: str, code: str) -> dict[str, Any]:
    """The problem+json body of a request body over ``body_bytes``."""
    return {
        "type": f"urn:yibao:problem:{code}",
        "title": "Request body too large",
        "status": 413,
        "detail": f"the request body is larger than {limit} bytes (limit body_bytes = {limit}, "
        f"set by {Limits.variable('body_bytes')})",
        "code": code,
        "instance": instance,
        "limit": "body_bytes",
        "limit_value": limit,
    }


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` while the application reads a body past the limit; the
    middleware answers 413 in place of whatever the application then sends."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


class BodySizeLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with 413 (problem+json).

    A declared ``Content-Length`` is checked before the application runs. A body without one
    is counted as it streams; past the limit, ``receive`` raises (the application stops
    reading) and the application's answer is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._answer(scope, send)
            return
        received = 0
        exceeded = False  # the body passed the limit
        started = False  # the application's answer has begun
        answered = False  # the 413 was sent in its place

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, answered
            if exceeded and not started:
                if not answered:
                    answered = True
                    await self._answer(scope, send)
                return  # the application's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if started:
                raise
        if exceeded and not started and not answered:
            await self._answer(scope, send)

    async def _answer(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            body_too_large_problem(
                self.limit, instance=scope.get("path", ""), code="limit.body_bytes"
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def install_limits(app: Starlette, limits: Limits) -> None:
    """Apply ``limits`` to ``app``: the services' limits, the body-size middleware, and the
    429 answer (with ``Retry-After``) of :class:`TooManyAttempts`. Call after every other
    error handler is installed: the 429 is the answer those handlers give, with its status
    and header set (problem+json for the API, the error page for the pages)."""
    use_limits(limits)
    app.add_middleware(BodySizeLimit, limit=limits.body_bytes)
    previous = app.exception_handlers.get(YibaoError)

    async def too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyAttempts)
        headers = {"Retry-After": str(exc.retry_after)}
        if previous is None:
            return JSONResponse(
                {"status": 429, "code": exc.code, "detail": exc.message},
                status_code=429,
                media_type=PROBLEM,
                headers=headers,
            )
        if inspect.iscoroutinefunction(previous):
            answer = await previous(request, exc)
        else:
            answer = await run_in_threadpool(previous, request, exc)
        assert isinstance(answer, Response)
        if answer.media_type == PROBLEM or answer.headers.get("content-type") == PROBLEM:
            body = json.loads(bytes(answer.body))
            body["status"] = 429
            return JSONResponse(body, status_code=429, media_type=PROBLEM, headers=headers)
        answer.status_code = 429
        answer.headers.update(headers)
        return answer

    app.add_exception_handler(TooManyAttempts, too_many)
