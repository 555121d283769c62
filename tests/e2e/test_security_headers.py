"""Security headers on every answer (docs/operations.md, "Headers"), and the API
documentation closable by configuration (YIBAO_API_DOCS)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.conftest import MakeUser
from yibao.api.app import create_app
from yibao.auth.deps import get_session
from yibao.auth.sessions import start_session
from yibao.config import Settings
from yibao.web.page import SECURITY_HEADERS as PAGE_HEADERS

API = "/api/v1"
HSTS = "max-age=31536000; includeSubDomains"


def _baseline(answer: Any) -> None:
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] in ("no-referrer", "same-origin", "strict-origin")
    assert answer.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{API}/health", 200),
        (f"{API}/persons/1", 401),
        (f"{API}/nothing-here", 404),
        ("/healthz", 200),
        ("/readyz", 200),
        ("/fhir/R4/metadata", 200),
    ],
)
def test_api_answers_are_never_stored_or_sniffed(
    client: TestClient, path: str, status: int
) -> None:
    answer = client.get(path)
    assert answer.status_code == status, answer.text
    _baseline(answer)
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"
    # JSON runs nothing in a browser: no policy of its own (nosniff keeps it JSON)
    assert "Content-Security-Policy" not in answer.headers
    assert "Strict-Transport-Security" not in answer.headers  # plain HTTP


def test_an_invalid_body_and_a_refusal_carry_the_headers_too(
    client: TestClient, make_user: MakeUser
) -> None:
    street = make_user("street_office")
    invalid = client.post(f"{API}/encounters", json={"nonsense": 1}, headers=street.headers)
    assert invalid.status_code in (403, 422), invalid.text
    _baseline(invalid)
    assert invalid.headers["Cache-Control"] == "no-store"


def test_an_html_answer_without_a_policy_gets_the_pages_one(client: TestClient) -> None:
    """The documentation has its own; an HTML error of the pages has theirs; any other
    HTML answer gets the pages' policy rather than none."""
    from starlette.datastructures import MutableHeaders

    from yibao.api.headers import add_security_headers

    headers = MutableHeaders(raw=[(b"content-type", b"text/html; charset=utf-8")])
    add_security_headers({"path": "/x", "scheme": "http"}, headers, frozenset())
    assert headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_pages_keep_their_own_strict_policy(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    _baseline(page)
    assert page.headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_signed_in_page_is_not_stored(
    client: TestClient, session: Session, make_user: MakeUser
) -> None:
    agency = make_user("agency")
    started = start_session(session, user=agency.user, now=datetime.now(UTC))
    session.commit()
    client.cookies.set("yibao_session", started.token)
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]


def test_static_assets_may_be_cached_but_not_sniffed(client: TestClient) -> None:
    asset = client.get("/static/api-docs/swagger-ui.css")
    assert asset.status_code == 200
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in asset.headers.get("Cache-Control", "")


def test_hsts_over_tls_and_behind_a_trusted_proxy_only(app: Any) -> None:
    with TestClient(app, base_url="https://testserver") as tls:
        assert tls.get(f"{API}/health").headers["Strict-Transport-Security"] == HSTS
    forwarded = {"X-Forwarded-Proto": "https"}
    with TestClient(app, client=("203.0.113.5", 443)) as stranger:
        assert (
            "Strict-Transport-Security"
            not in stranger.get(f"{API}/health", headers=forwarded).headers
        )
    trusted = Settings(
        environment="test",
        database_url=app.state.settings.database_url,
        trusted_proxies="10.0.0.2, 10.0.0.3",
    )
    proxied_app = create_app(trusted, engine=app.state.engine)
    with TestClient(proxied_app, client=("10.0.0.3", 5000)) as proxy:
        assert (
            proxy.get(f"{API}/health", headers=forwarded).headers["Strict-Transport-Security"]
            == HSTS
        )
        assert "Strict-Transport-Security" not in proxy.get(f"{API}/health").headers


# --- the API documentation: public, signed_in, off ---------------------------------------


def _docs_app(
    engine: Engine, session: Session, tmp_path: Path, access: str | None, env: str
) -> Any:
    settings = Settings(
        environment=env,  # type: ignore[arg-type]
        database_url="sqlite://",
        upload_dir=tmp_path,
        secret_key="not-the-default",
        api_docs=access,  # type: ignore[arg-type]
    )
    application = create_app(settings, engine=engine)

    def _test_session() -> Any:
        session.commit()
        yield session
        session.commit()

    application.dependency_overrides[get_session] = _test_session
    return application


def test_docs_are_public_by_default_outside_production(client: TestClient) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 200, path


def test_docs_need_a_signed_in_caller_in_production(
    engine: Engine, session: Session, tmp_path: Path, make_user: MakeUser
) -> None:
    agency = make_user("agency")
    app = _docs_app(engine, session, tmp_path, None, "production")
    assert app.state.settings.api_docs_access == "signed_in"
    with TestClient(app) as anonymous:
        refused = anonymous.get("/openapi.json")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "auth.docs_sign_in"
        for page in ("/docs", "/redoc"):
            sent = anonymous.get(page, follow_redirects=False)
            assert sent.status_code == 303 and sent.headers["location"] == f"/login?next={page}"
        wrong = anonymous.get("/openapi.json", headers={"Authorization": "Bearer yb_x_y"})
        assert wrong.status_code == 401
        assert anonymous.get("/openapi.json", headers=agency.headers).status_code == 200
        assert anonymous.get("/docs", headers=agency.headers).status_code == 200
        started = start_session(session, user=agency.user, now=datetime.now(UTC))
        session.commit()
        anonymous.cookies.set("yibao_session", started.token)
        assert anonymous.get("/redoc").status_code == 200
        assert anonymous.get("/openapi.json").json()["info"]["title"] == "Yibao"


def test_docs_can_be_switched_off(engine: Engine, session: Session, tmp_path: Path) -> None:
    app = _docs_app(engine, session, tmp_path, "off", "development")
    with TestClient(app) as client:
        for path in ("/openapi.json", "/docs", "/redoc", "/static/api-docs/redoc.local.js"):
            assert client.get(path).status_code == 404, path
        assert client.get(f"{API}/health").status_code == 200  # the API itself stays


def test_docs_pages_allow_only_their_own_inline_script_by_hash(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        script_src = re.search(r"script-src ([^;]*)", policy)
        assert script_src is not None and "'unsafe-inline'" not in script_src.group(1)
        for body in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_src.group(1), path
