"""Real-browser tests: Debian's Chromium driven by Playwright, against the demo served by
uvicorn on a free loopback port.

The browser is the system's (``apt-get install chromium``, done by ``make test`` as root),
launched by its executable path: no browser is downloaded. Each test gets a page that
records console errors and failed requests (a test fails on any), and ``visit`` saves a
screenshot of every page under the run's output folder
(``$YIBAO_SCREENSHOTS`` or pytest's temporary folder) so a reviewer can look at them.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from yibao.api.app import create_app
from yibao.clock import china_today
from yibao.config import Settings
from yibao.db import make_engine, session_scope, upgrade_database
from yibao.demo.loader import DemoResult, load_demo
from yibao.demo.samples import sample_pdf

PDF = sample_pdf("Yibao browser test")


def png(width: int = 240, height: int = 150) -> bytes:
    """A small real PNG (a pale card with a red band), so the inline image shows."""
    rows = b""
    for y in range(height):
        band = 20 <= y < 40
        pixel = b"\xb4\x23\x2a" if band else b"\xf0\xf3\xf6"
        rows += b"\x00" + pixel * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def chromium_path() -> str:
    """Debian's Chromium (or ``$YIBAO_CHROMIUM``); the set-up installs it."""
    path = os.environ.get("YIBAO_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError(
            "Chromium is not installed: `make test` installs it as root "
            "(apt-get install chromium chromium-l10n fonts-noto-cjk); or set YIBAO_CHROMIUM"
        )
    return path


@dataclass
class Site:
    base: str
    demo: DemoResult
    shots: Path
    app: Any

    def untranslated(self) -> dict[str, list[str]]:
        """Messages the pages asked a catalog for and it lacks (their ids would be on the
        page as text); read and forgotten, so each test answers for its own pages."""
        found: dict[str, list[str]] = {}
        for lang, catalog in self.app.state.pages.translations.items():
            if catalog.missing:
                found[lang] = sorted(catalog.missing)
                catalog.missing.clear()
        return found


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo, freshly loaded into its own SQLite database, served on a free port."""
    folder = tmp_path_factory.mktemp("browser-site")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'demo.db'}", upload_dir=folder / "uploads"
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            demo = load_demo(session, upload_dir=settings.upload_dir, today=china_today())
    finally:
        engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)
    shots = Path(os.environ.get("YIBAO_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Site(base=f"http://127.0.0.1:{port}", demo=demo, shots=shots, app=app)
    finally:
        server.should_exit = True
        thread.join(10)


# Chromium's own words (a file picker's button, a date field's format) follow its UI
# language: Chinese, like the people at the desks, with the context's locale to match. The
# Chinese words come with Debian's chromium-l10n (zh-CN.pak); without it they stay English.
BROWSER_LANGUAGE = "zh-CN"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    args = [f"--lang={BROWSER_LANGUAGE}", f"--accept-lang={BROWSER_LANGUAGE},zh"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN:zh"}
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=args, env=env)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page with what went wrong on it: console errors and failed requests."""

    page: Page
    site: Site
    name: str
    problems: list[str] = field(default_factory=list)
    visits: int = 0
    expected: set[int] = field(default_factory=set)

    def expect_status(self, status: int) -> None:
        """A test that provokes an error answer on purpose (a refused sign-in) says so; the
        browser's own report of that status is then not a problem."""
        self.expected.add(status)

    def report(self, problem: str) -> None:
        if any(f"status of {status}" in problem for status in self.expected):
            return
        self.problems.append(problem)

    def visit(self, path: str, *, label: str = "") -> Page:
        self.page.goto(self.site.base + path)
        self.page.wait_for_load_state("networkidle")
        self.shot(label or path)
        return self.page

    def shot(self, label: str) -> Path:
        self.visits += 1
        safe = "".join(ch if ch.isalnum() else "-" for ch in label).strip("-") or "page"
        target = self.site.shots / f"{self.name}-{self.visits:02d}-{safe}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def accessibility_problems(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it stands."""
        result = Axe().run(self.page)
        violations: list[dict[str, Any]] = result.response.get("violations", [])
        return [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in violations
            if v.get("impact") in ("serious", "critical")
        ]


@pytest.fixture
def watched(browser: Browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(locale=BROWSER_LANGUAGE, timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen = Watched(page=page, site=site, name=request.node.name)
    page.on(
        "console",
        lambda msg: seen.report(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: seen.report(f"page error: {exc}"))
    # Chromium's own PDF viewer (an extension inside the browser) may abort its internal
    # requests when a framed PDF is closed; only the site's requests are the site's failures
    page.on(
        "requestfailed",
        lambda req: (
            None
            if req.url.startswith("chrome-extension://")
            else seen.report(f"request failed: {req.url} ({req.failure})")
        ),
    )
    page.on(
        "response",
        lambda resp: seen.report(f"HTTP {resp.status}: {resp.url}") if resp.status >= 500 else None,
    )
    try:
        yield seen
    finally:
        context.close()
    untranslated = site.untranslated()
    if untranslated:
        seen.problems.append(f"messages missing from the catalogs: {untranslated}")
    assert not seen.problems, "\n".join(seen.problems)


@pytest.fixture(scope="session")
def settled(site: Site) -> dict[str, Any]:
    """王建国 settled at the Sanya hospital window, through the API as a HIS would: once for
    the whole run (the browser tests share one demo site; a second stay would collide with
    the first one's idempotency key)."""
    hospital = {"Authorization": f"Bearer {site.demo.tokens['hospital']}"}
    wang = site.demo.persons["wang"]
    day = site.demo.today.isoformat()
    with httpx.Client(base_url=f"{site.base}/api/v1", headers=hospital) as api:
        admitted = api.post(
            "/encounters",
            json={"card_number": wang.card_number, "setting": "inpatient", "started_on": day},
        )
        assert admitted.status_code == 201, admitted.text
        encounter = admitted.json()["id"]
        lines = [
            {"line_id": "L1", "code": "S0005", "quantity": "5", "unit_price": "30"},
            {"line_id": "L2", "code": "D0009", "quantity": "40", "unit_price": "65.10"},
        ]
        assert api.post(f"/encounters/{encounter}/fees", json={"lines": lines}).status_code == 201
        settled = api.post(
            f"/encounters/{encounter}/settle",
            json={"on": day, "msg_id": "BROWSER-1"},
            headers={"Idempotency-Key": "browser-1"},
        )
        assert settled.status_code == 201, settled.text
        out: dict[str, Any] = settled.json()
        return out
