"""Security headers on every answer of the platform (API, pages, documents, FHIR, NHSA).

Each answer keeps what its own face chose — the pages' Content-Security-Policy and
Referrer-Policy (:data:`yibao.web.page.SECURITY_HEADERS`, the one owner of the pages'
policy), an uploaded document's ``frame-ancestors 'self'`` (:mod:`yibao.web.files`), the
documentation's script cache — and gets what it lacks:

- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``;
- ``Cache-Control: no-store`` unless it set its own (only ``/static/`` assets may be
  cached): every API answer, page and document carries personal data;
- the pages' Content-Security-Policy on an HTML answer that has none of its own (JSON
  answers and files need none: a browser runs nothing in them, ``nosniff`` keeps it so);
- ``Strict-Transport-Security`` when the request came over TLS: its scheme is ``https``
  (uvicorn sets it from ``X-Forwarded-Proto`` for the proxies in ``--forwarded-allow-ips``)
  or it came from an address of ``YIBAO_TRUSTED_PROXIES`` with ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Scope

from yibao.web.page import SECURITY_HEADERS as PAGE_HEADERS

PAGE_CSP: Final = PAGE_HEADERS["Content-Security-Policy"]
HSTS: Final = "max-age=31536000; includeSubDomains"
CACHEABLE_PREFIXES: Final = ("/static/",)


def trusted_proxy_set(setting: str) -> frozenset[str]:
    """``YIBAO_TRUSTED_PROXIES`` (comma-separated addresses) as a set."""
    return frozenset(part.strip() for part in setting.split(",") if part.strip())


def over_tls(scope: Scope, trusted_proxies: frozenset[str]) -> bool:
    """The client reached us over HTTPS: directly, or through a proxy we trust."""
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if not client or client[0] not in trusted_proxies:
        return False
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def add_security_headers(
    scope: Scope, headers: MutableHeaders, trusted_proxies: frozenset[str]
) -> None:
    """Complete an answer's headers (see the module's docstring); never overrides."""
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if "cache-control" not in headers and not scope["path"].startswith(CACHEABLE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if "content-security-policy" not in headers and headers.get("content-type", "").startswith(
        "text/html"
    ):
        headers["Content-Security-Policy"] = PAGE_CSP
    if over_tls(scope, trusted_proxies):
        headers.setdefault("Strict-Transport-Security", HSTS)
