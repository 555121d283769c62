"""Everything a page loads comes from Yibao itself: no CDN, no script or style from
elsewhere; htmx is the vendored, checked copy; the pages' package data is where the wheel
takes it from."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

import yibao.web
from tests.e2e.test_events_wiring import EXPECTED, PROBE
from tests.web.conftest import SignIn, WebUser

WEB = Path(yibao.web.__file__).resolve().parent
STATIC = WEB / "static"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"

# a script, style, image or frame loaded from outside the app (http:, https: or //host)
EXTERNAL_IN_HTML = re.compile(
    r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=\s*[\"']?\s*(https?:)?//",
    re.IGNORECASE,
)
# Addresses a vendored script may name without loading anything from them: XML namespaces
# (SVG drawing) and licence texts.
NAMES_THAT_LOAD_NOTHING = frozenset(
    {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
        "http://www.w3.org/2000/xmlns/",
        "http://www.w3.org/XML/1998/namespace",
        "http://www.apache.org/licenses/LICENSE-2.0",
        "https://github.com/ecomfe/zrender/blob/master/LICENSE",
    }
)
EXTERNAL_IN_CSS = re.compile(r"url\(\s*[\"']?\s*(https?:)?//|@import", re.IGNORECASE)
LOADED = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


def pages(client: TestClient, sign_in: SignIn) -> dict[str, str]:
    seen = {path: client.get(path).text for path in ("/", "/login", "/?lang=en")}
    seen["404"] = client.get("/nowhere", headers={"Accept": "text/html"}).text
    sign_in("wang")
    for path in ("/me", "/me/settlements", "/me/settlements/12345", "/logout"):
        seen[path] = client.get(path).text
    return seen


def test_no_page_loads_anything_from_outside(
    client: TestClient, insured: WebUser, sign_in: SignIn
) -> None:
    for path, html in pages(client, sign_in).items():
        assert not EXTERNAL_IN_HTML.search(html), path
        for source in LOADED.findall(html):
            assert source.startswith("/") and not source.startswith("//"), (path, source)
            response = client.get(source)
            assert response.status_code == 200, source


def test_no_static_file_or_template_reaches_outside() -> None:
    for path in sorted([*STATIC.rglob("*"), *(WEB / "templates").rglob("*")]):
        if not path.is_file() or path.suffix in (".md", ".LICENSE"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".html", ".svg"):
            assert not EXTERNAL_IN_HTML.search(text), path
        if path.suffix == ".css":
            assert not EXTERNAL_IN_CSS.search(text), path
        if path.suffix == ".js":
            # a script names no address it could load from; ECharts names only the XML
            # namespaces it draws SVG with and its licences' addresses (tested beside it)
            named = set(re.findall(r"https?://[^\s\"')]*", text))
            assert named <= NAMES_THAT_LOAD_NOTHING, (path, named - NAMES_THAT_LOAD_NOTHING)


def test_htmx_is_the_vendored_copy_with_its_licence(client: TestClient) -> None:
    script = STATIC / "vendor" / "htmx.min.js"
    assert hashlib.sha256(script.read_bytes()).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (STATIC / "vendor" / "README.md").read_text(encoding="utf-8")
    assert "Zero-Clause BSD" in (STATIC / "vendor" / "htmx.LICENSE").read_text(encoding="utf-8")
    served = client.get("/static/vendor/htmx.min.js")
    assert served.status_code == 200 and "javascript" in served.headers["content-type"]
    assert served.content == script.read_bytes()
    # the API documentation keeps its own assets beside the pages' /static
    assert client.get("/static/api-docs/swagger-ui.css").status_code == 200


def test_the_pages_face_subscribes_every_reaction() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(face="import yibao.web.app")],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout)
    for event, handlers in EXPECTED.items():
        assert found[event] == handlers
