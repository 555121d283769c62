"""Prometheus metrics at ``/metrics`` (the text format of ``prometheus-client``).

What is counted, and where (docs/operations.md, "Metrics", lists every series):

- requests and their latency by method, route template and status — the request
  middleware (:mod:`yibao.api.observability`) calls :func:`observe_request`;
- idempotent replays (an answer with ``Idempotent-Replayed: true``), by route template;
- rejections (every problem+json answer below 500) by error code and status, read from
  the answer by the request middleware (:func:`count_rejection`);
- settlements and the funds they pay, by insured region and setting — the
  ``SettlementRecorded`` and ``SettlementReversed`` facts (:mod:`yibao.events`), counted
  only once the transaction that stored them commits (a rolled-back settlement never
  happened); nothing here is called by the settlements service;
- the database connection pool (connections checked out, pool size), read after every
  request and at every scrape.

Several worker processes (``yibao serve --workers N``): when ``PROMETHEUS_MULTIPROC_DIR``
is set, each process writes its series to files there and ``/metrics`` sums them (the
folder is emptied when the server starts, :func:`yibao.logs.reset_multiprocess_metrics_dir`).

Who may read ``/metrics``: clients on the loopback interface, and anyone presenting
``Authorization: Bearer <YIBAO_METRICS_TOKEN>``; others get 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from yibao.events import subscribe
from yibao.settlements.events import SettlementRecorded, SettlementReversed
from yibao.settlements.models import SettlementRecord

# no ``*_created`` series (a timestamp per series, doubling the scrape for no question asked)
disable_created_metrics()  # type: ignore[no-untyped-call]

METRICS_PATH: Final = "/metrics"
UNMATCHED_ROUTE: Final = "<unmatched>"
"""The route label of a request no route matched (a path of its own would make a new
series per typo or scan)."""

REQUESTS = Counter(
    "yibao_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "yibao_http_request_duration_seconds",
    "Time from the request's arrival to its answer's last byte",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REPLAYS = Counter(
    "yibao_idempotent_replays",
    "Money-moving requests answered from their Idempotency-Key's stored answer",
    ["route"],
)
REJECTIONS = Counter(
    "yibao_rejections",
    "Requests refused with a problem+json answer (status below 500), by error code",
    ["code", "status"],
)
SETTLEMENTS = Counter(
    "yibao_settlements",
    "Settlements stored (committed), by insured region, setting and source",
    ["region", "setting", "source"],
)
REVERSALS = Counter(
    "yibao_settlement_reversals",
    "Settlements reversed (committed), by insured region, setting and source",
    ["region", "setting", "source"],
)
FUND_PAID = Counter(
    "yibao_settlement_paid_fen",
    "Amounts paid by stored settlements, in fen, by insured region, setting and payer "
    "(pool, supplementary, assistance: the funds; account: the personal account)",
    ["region", "setting", "payer"],
)
FUND_REVERSED = Counter(
    "yibao_settlement_reversed_fen",
    "Amounts given back by reversals, in fen (positive), by insured region, setting and payer",
    ["region", "setting", "payer"],
)
POOL_CHECKED_OUT = Gauge(
    "yibao_db_pool_checked_out",
    "Database connections in use (checked out of the pool)",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "yibao_db_pool_size",
    "Database connections the pool keeps (its configured size)",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "yibao_db_pool_overflow",
    "Connections opened beyond the pool's size (negative: room left before it opens any)",
    multiprocess_mode="livesum",
)

_PAYERS: Final = (
    ("pool", "pool_fund_pay_fen"),
    ("supplementary", "supplementary_pay_fen"),
    ("assistance", "assistance_pay_fen"),
    ("account", "account_pay_fen"),
)


# --- requests ---------------------------------------------------------------------------


def observe_request(
    *, method: str, route: str, status: int, seconds: float, replayed: bool
) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route, str(status)).observe(seconds)
    if replayed:
        REPLAYS.labels(route).inc()


def count_rejection(code: str, status: int) -> None:
    """A problem+json answer below 500 (read from the answer by the request middleware,
    so the refusals of middlewares — the body-size limit's 413 — count too)."""
    if status < 500:
        REJECTIONS.labels(code[:80], str(status)).inc()


def observe_pool(engine: Engine) -> None:
    """The pool's figures now (a pool without them — SQLite in memory — is left out)."""
    pool: Any = engine.pool
    try:
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_SIZE.set(pool.size())
        POOL_OVERFLOW.set(pool.overflow())
    except AttributeError:
        return


# --- settlements: counted when their transaction commits -------------------------------

_PENDING: Final = "yibao.metrics.pending"


def _after_commit(session: Session) -> None:
    for count in session.info.pop(_PENDING, ()):
        count()


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_PENDING, None)


def _on_commit(session: Any, count: Callable[[], None]) -> None:
    if isinstance(session, Session):
        session.info.setdefault(_PENDING, []).append(count)
    else:  # not an ORM session (a test's stand-in): nothing to wait for
        count()


def _labels(row: SettlementRecord) -> tuple[str, str, str]:
    return row.insured_region, row.setting, row.source


def count_settlement(session: Any, event: SettlementRecorded) -> None:
    """``SettlementRecorded``: one settlement and what each payer paid."""
    row = event.settlement
    region, setting, source = _labels(row)
    paid = [(payer, int(getattr(row, column) or 0)) for payer, column in _PAYERS]

    def count() -> None:
        SETTLEMENTS.labels(region, setting, source).inc()
        for payer, fen in paid:
            if fen > 0:
                FUND_PAID.labels(region, setting, payer).inc(fen)

    _on_commit(session, count)


def count_reversal(session: Any, event: SettlementReversed) -> None:
    """``SettlementReversed``: one reversal and what each payer got back."""
    row = event.original
    region, setting, source = _labels(row)
    back = [(payer, int(getattr(row, column) or 0)) for payer, column in _PAYERS]

    def count() -> None:
        REVERSALS.labels(region, setting, source).inc()
        for payer, fen in back:
            if fen > 0:
                FUND_REVERSED.labels(region, setting, payer).inc(fen)

    _on_commit(session, count)


def _subscribe() -> None:
    subscribe(SettlementRecorded)(count_settlement)
    subscribe(SettlementReversed)(count_reversal)
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_soft_rollback)


# --- the endpoint ------------------------------------------------------------------------


def render() -> bytes:
    """Every series in the text format; summed over the worker processes when
    ``PROMETHEUS_MULTIPROC_DIR`` is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def may_read_metrics(request: Request, token: str | None) -> bool:
    """A loopback client, or the configured bearer token (compared in constant time)."""
    if _loopback(request.client.host if request.client else None):
        return True
    if not token:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def install_metrics(app: FastAPI) -> None:
    """``/metrics`` (not in the OpenAPI document) and the settlement subscriptions."""
    from yibao.api.errors import problem

    _subscribe()

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not may_read_metrics(request, request.app.state.settings.metrics_token):
            return problem(
                403,
                title="Forbidden",
                detail="/metrics answers loopback clients and the bearer of YIBAO_METRICS_TOKEN",
                code="metrics.forbidden",
                instance=METRICS_PATH,
            )
        observe_pool(request.app.state.engine)
        return Response(render(), media_type=CONTENT_TYPE_LATEST)
