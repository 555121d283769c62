"""Every request: its id, one log line, its metrics and its security headers.

One ASGI middleware, outermost but for Starlette's own error middleware, so it sees every
answer — a route's, an error handler's, a 413 from the body-size limit, a 500:

- the request id is the client's ``X-Request-ID`` when it is sane
  (:func:`yibao.logs.sane_request_id`), else a new one; it is echoed in the answer's
  ``X-Request-ID`` and set in :data:`yibao.logs.REQUEST`, so every log record written
  while the request is served carries it (a database error logged by an error handler
  included);
- the signed-in user: API callers through the ``CurrentUser`` dependency (see
  :func:`bind_users`), people on the pages through the page the request rendered;
- one line on the ``yibao.request`` logger when the answer is sent: method, route
  template (never the path or its query string, which may hold names and numbers),
  status, duration in milliseconds, request id and user id;
- the request metrics (:mod:`yibao.api.metrics`) by the same route template, and the
  error code of every problem+json answer below 500 (read from the answer's body);
- the security headers (:mod:`yibao.api.headers`).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.api.headers import add_security_headers, trusted_proxy_set
from yibao.api.metrics import (
    UNMATCHED_ROUTE,
    count_rejection,
    observe_pool,
    observe_request,
)
from yibao.auth.deps import get_current_user
from yibao.logs import (
    REQUEST,
    REQUEST_LOGGER,
    RequestContext,
    bind_user,
    install_request_ids,
    new_request_id,
    sane_request_id,
)

REQUEST_ID_HEADER: Final = "X-Request-ID"
PROBLEM: Final = "application/problem+json"
_PROBLEM_READ_LIMIT: Final = 64 * 1024
_request_log = logging.getLogger(REQUEST_LOGGER)
_error_log = logging.getLogger("yibao.api")


class RouteTemplates:
    """The template of the route a request went to (``/api/v1/persons/{person_id}``).

    FastAPI names it in the scope once it has routed the request; an answer given before
    routing (a middleware's 413) or by a top-level route is found by matching the path
    against every route's pattern, built once per set of routes."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern[str], str]] = []
        self._built_for: int | None = None

    def _build(self) -> list[tuple[re.Pattern[str], str]]:
        routes = self.app.router.routes
        if self._built_for == len(routes) and self._table:
            return self._table
        table: list[tuple[re.Pattern[str], str]] = []
        iterate = getattr(fastapi_routing, "iter_route_contexts", None)
        entries = list(iterate(routes)) if iterate is not None else list(routes)
        for entry in entries:
            path = getattr(entry, "path", None)
            if not isinstance(path, str):
                continue
            if isinstance(getattr(entry, "original_route", entry), Mount):
                pattern, template, _ = compile_path(path.rstrip("/") + "/{path:path}")
            else:
                pattern, template, _ = compile_path(path)
            table.append((pattern, template))
        self._table, self._built_for = table, len(routes)
        return table

    def __call__(self, scope: Scope) -> str:
        fastapi_scope = scope.get("fastapi")
        if isinstance(fastapi_scope, dict):
            context = fastapi_scope.get("effective_route_context")
            template = getattr(context, "path_format", None)
            if isinstance(template, str) and template:
                return template
        path = scope.get("path", "")
        for pattern, template in self._build():
            if pattern.match(path):
                return template
        return UNMATCHED_ROUTE


def _problem_code(body: bytes, status: int) -> str:
    """The ``code`` member of a problem+json answer (``http.<status>`` when it has none)."""
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and code else f"http.{status}"


def _page_user(scope: Scope) -> int | None:
    """The signed-in person of a page (the page the request rendered keeps its viewer)."""
    page = scope.get("state", {}).get("page")
    viewer = getattr(page, "viewer", None)
    user_id = getattr(viewer, "id", None)
    return user_id if isinstance(user_id, int) else None


class RequestObservability:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI, trusted_proxies: str = "") -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.route_template = RouteTemplates(fastapi_app)
        self.trusted_proxies = trusted_proxy_set(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = Headers(scope=scope).get("x-request-id")
        context = RequestContext(request_id=sane_request_id(given) or new_request_id())
        token = REQUEST.set(context)
        answer: dict[str, Any] = {"status": 500, "replayed": False, "problem": None}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                answer["replayed"] = headers.get("idempotent-replayed") == "true"
                if message["status"] < 500 and headers.get("content-type", "").startswith(PROBLEM):
                    answer["problem"] = bytearray()
                headers[REQUEST_ID_HEADER] = context.request_id
                add_security_headers(scope, headers, self.trusted_proxies)
            elif (
                message["type"] == "http.response.body"
                and answer["problem"] is not None
                and len(answer["problem"]) < _PROBLEM_READ_LIMIT
            ):
                answer["problem"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            answer["status"] = 500
            _error_log.exception("unhandled error answered with 500")
            raise
        finally:
            try:
                self._record(scope, context, answer, time.perf_counter() - started)
            finally:
                REQUEST.reset(token)

    def _record(
        self, scope: Scope, context: RequestContext, answer: dict[str, Any], seconds: float
    ) -> None:
        if context.user_id is None:
            context.user_id = _page_user(scope)
        route = self.route_template(scope)
        method = scope["method"]
        status = int(answer["status"])
        _request_log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        if answer["problem"] is not None:
            count_rejection(_problem_code(bytes(answer["problem"]), status), status)
        observe_request(
            method=method,
            route=route,
            status=status,
            seconds=seconds,
            replayed=bool(answer["replayed"]),
        )
        engine = getattr(self.fastapi_app.state, "engine", None)
        if engine is not None:
            observe_pool(engine)


def _binding_user(dependency: Callable[..., Any]) -> Callable[..., Any]:
    """``dependency`` (which returns the caller's User) with the same parameters, also
    naming the user in the request's log lines."""
    signature = inspect.signature(dependency, eval_str=True)

    if inspect.iscoroutinefunction(dependency):

        async def bound_async(*args: Any, **kwargs: Any) -> Any:
            user = await dependency(*args, **kwargs)
            bind_user(getattr(user, "id", None))
            return user

        bound_async.__signature__ = signature  # type: ignore[attr-defined]
        return bound_async

    def bound(*args: Any, **kwargs: Any) -> Any:
        user = dependency(*args, **kwargs)
        bind_user(getattr(user, "id", None))
        return user

    bound.__signature__ = signature  # type: ignore[attr-defined]
    return bound


def bind_users(app: FastAPI) -> None:
    """Name the API caller in the log: ``CurrentUser`` is resolved through a copy of
    :func:`yibao.auth.deps.get_current_user` that also records the user's id (the
    dependency itself, its checks and the OpenAPI document are unchanged)."""
    app.dependency_overrides.setdefault(get_current_user, _binding_user(get_current_user))


def install_observability(app: FastAPI) -> None:
    """The request middleware and the caller's id in the log lines. Call after every
    other middleware is added, so this one sees their answers too."""
    install_request_ids()
    bind_users(app)
    app.add_middleware(
        RequestObservability,
        fastapi_app=app,
        trusted_proxies=app.state.settings.trusted_proxies,
    )
