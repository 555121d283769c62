"""The API documentation pages, served with their scripts from Yibao itself, and who may
read them.

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN, so they stay
blank on a machine without internet (an agency's network). The same assets ship in the
``fastapi-offline`` package; Yibao serves them under ``/static/api-docs``.

``YIBAO_API_DOCS`` (:attr:`yibao.config.Settings.api_docs_access`) closes them:

- ``public`` (the default in development and test): anyone;
- ``signed_in`` (the default in production): a signed-in page session (the browser's
  cookie) or a bearer token; ``/docs`` and ``/redoc`` send others to the sign-in page,
  ``/openapi.json`` answers 401;
- ``off``: ``/docs``, ``/redoc`` and ``/openapi.json`` do not exist (404).

The two pages get a Content-Security-Policy of their own: their scripts are Yibao's files
plus Swagger UI's one inline start-up script, allowed by its hash, not by ``unsafe-inline``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from yibao.auth.deps import SessionDep
from yibao.auth.sessions import session_user
from yibao.auth.tokens import authenticate
from yibao.errors import Unauthorized
from yibao.web.page import SESSION_COOKIE

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
STATIC_URL = "/static/api-docs"
OPENAPI_URL = "/openapi.json"
# ReDoc's sidebar shows its maker's logo, fetched from the maker's servers; Yibao serves
# its own icon instead (whatever host the bundled script names).
_REDOC_LOGO = re.compile(r"https://[\w.-]+/redoc/logo-mini\.svg")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """A policy for a documentation page: its inline scripts allowed by their hashes."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; font-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )


def _with_csp(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode())
    return page


def is_signed_in(request: Request, session: SessionDep) -> bool:
    """A live page session (cookie) or a valid bearer token."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and session_user(session, token=cookie, now=datetime.now(UTC)) is not None:
        return True
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        # the caller's address: repeated failures here are rate-limited like the API's
        client = request.client.host if request.client is not None else None
        authenticate(session, token=token.strip(), client=client)
    except Unauthorized:
        return False
    return True


def _open(_request: Request) -> bool:
    return True


def install_docs(app: FastAPI, *, openapi_url: str = OPENAPI_URL, access: str = "public") -> None:
    """``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with local
    scripts and styles, open to whom ``access`` says (see the module's docstring)."""
    if access not in ("public", "signed_in", "off"):
        raise ValueError(f"api docs access must be public, signed_in or off, not {access!r}")
    if access == "off":
        return
    reader: Any = Depends(is_signed_in if access == "signed_in" else _open)

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

    def sign_in_first(page: str) -> Response:
        return RedirectResponse(f"/login?next={page}", status_code=303)

    @app.get(openapi_url, include_in_schema=False)
    def openapi(allowed: bool = reader) -> Response:
        if not allowed:
            raise Unauthorized(
                "the API description needs a signed-in session or a bearer token",
                code="auth.docs_sign_in",
            )
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(allowed: bool = reader) -> Response:
        if not allowed:
            return sign_in_first("/docs")
        return _with_csp(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} API",
                swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
                swagger_favicon_url=f"{STATIC_URL}/favicon.png",
                # no validator badge: it would be fetched from validator.swagger.io
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(allowed: bool = reader) -> Response:
        if not allowed:
            return sign_in_first("/redoc")
        return _with_csp(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} API",
                redoc_js_url=f"{STATIC_URL}/redoc.local.js",
                redoc_favicon_url=f"{STATIC_URL}/favicon.png",
                with_google_fonts=False,
            )
        )
