"""The FastAPI application: routers under ``/api/v1``, OpenAPI at ``/docs``, and the pages
(``/``, :mod:`yibao.web`) over the same services."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.api import system_routes
from yibao.api.docs import install_docs
from yibao.api.errors import install_error_handlers
from yibao.api.metrics import install_metrics
from yibao.api.observability import install_observability
from yibao.api.routers import ROUTERS
from yibao.api.sealing import IdentitySeal
from yibao.config import Settings, get_settings
from yibao.db import make_engine, make_session_factory
from yibao.fhir.app import install_fhir
from yibao.identity import install_log_masking
from yibao.limits import install_limits
from yibao.nhsa.routes import router as nhsa_router
from yibao.web.app import install_pages

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app; connects lazily (the engine opens connections on first use)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Yibao",
        summary="Off-site medical insurance (异地就医): filings, direct settlement, "
        "reimbursement and clearing",
        version="0.1.0",
        docs_url=None,  # served by install_docs, with local assets
        redoc_url=None,
        openapi_url=None,  # served by install_docs: YIBAO_API_DOCS may close it
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.session_factory = make_session_factory(app.state.engine)
    install_error_handlers(app)
    install_docs(app, openapi_url="/openapi.json", access=settings.api_docs_access)
    install_log_masking()
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(nhsa_router)  # the national interface, outside /api/v1 (docs/nhsa.md)
    app.include_router(system_routes.probes)  # /healthz, /readyz (docs/operations.md)
    install_metrics(app)  # /metrics (docs/operations.md)
    # The pages for people; after the API's error handlers, which their own wrap.
    install_pages(app)
    install_fhir(app)  # FHIR R4 under /fhir/R4 and its OperationOutcomes (docs/fhir.md)
    # No full identity number in any answer the services did not allow (docs/access.md)
    app.add_middleware(IdentitySeal)
    # Body size, counts and failed sign-ins (docs/api.md#limits); last: its 429 wraps the
    # answers of every handler above.
    install_limits(app, settings.limits)
    # Request ids, the request log line, metrics and security headers: outermost, so it
    # sees every answer, the limits' own included (docs/operations.md).
    install_observability(app)
    return app
