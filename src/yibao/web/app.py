"""Adding the pages to the platform's FastAPI app (the API's ``create_app`` calls this).

The pages and the REST API share one app, one database and one set of services; the pages
take no part in ``/api/v1`` and appear in no OpenAPI document.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.web import (
    admin,
    agency,
    claim_review,
    claims,
    clearing,
    dashboard,
    filing,
    filing_review,
    institutions,
    printouts,
    register,
    routes,
    verify,
    window,
    window_desk,
)
from yibao.web.errors import install_page_errors
from yibao.web.rendering import STATIC_DIR, Renderer

STATIC_URL = "/static"

# The pages' areas, each a router of its own (docs/pages.md says who uses which).
PAGE_AREAS = (
    routes,
    window,
    window_desk,
    filing,
    register,
    institutions,
    filing_review,
    claims,
    claim_review,
    agency,
    clearing,
    dashboard,
    printouts,
    verify,
    admin,
)


def install_pages(app: FastAPI) -> None:
    """The pages, their static files (``/static``: styles, icons, vendored htmx) and their
    error pages. Call after the API's error handlers and documentation are installed: the
    documentation's assets keep ``/static/api-docs``, and the page errors wrap the API's."""
    app.state.pages = Renderer()
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    for area in PAGE_AREAS:
        app.include_router(area.router)
    install_page_errors(app)
