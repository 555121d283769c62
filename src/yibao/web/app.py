"""Adding the pages to the platform's FastAPI app (the API's ``create_app`` calls this).

The pages and the REST API share one app, one database and one set of services; the pages
take no part in ``/api/v1`` and appear in no OpenAPI document.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.web.errors import install_page_errors
from yibao.web.rendering import STATIC_DIR, Renderer
from yibao.web.routes import router
from yibao.web.window import router as window_router

STATIC_URL = "/static"


def install_pages(app: FastAPI) -> None:
    """The pages, their static files (``/static``: styles, icons, vendored htmx) and their
    error pages. Call after the API's error handlers and documentation are installed: the
    documentation's assets keep ``/static/api-docs``, and the page errors wrap the API's."""
    app.state.pages = Renderer()
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    app.include_router(window_router)
    install_page_errors(app)
