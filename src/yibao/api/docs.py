"""The API documentation pages, served with their scripts from Yibao itself.

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN, so they stay
blank on a machine without internet (an agency's network). The same assets ship in the
``fastapi-offline`` package; Yibao serves them under ``/static/api-docs``.
"""

from __future__ import annotations

import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC_URL = "/static/api-docs"
# ReDoc's sidebar shows its maker's logo, fetched from the maker's servers; Yibao serves
# its own icon instead (whatever host the bundled script names).
_REDOC_LOGO = re.compile(r"https://[\w.-]+/redoc/logo-mini\.svg")


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with local scripts and styles."""
    redoc_js = (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    redoc_js = _REDOC_LOGO.sub(f"{STATIC_URL}/favicon.png", redoc_js)

    @app.get(f"{STATIC_URL}/redoc.local.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(
            redoc_js,
            media_type="application/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="api-docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.png",
            # no validator badge: it would be fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{STATIC_URL}/redoc.local.js",
            redoc_favicon_url=f"{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
