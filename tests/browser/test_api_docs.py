"""The API documentation in a real browser, on a machine without internet."""

from __future__ import annotations

from tests.browser.conftest import Watched


def test_swagger_ui_renders_every_operation_offline(watched: Watched) -> None:
    page = watched.visit("/docs", label="swagger-ui")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/health" in paths
    assert any(p.startswith("/api/v1/settlements") for p in paths)


def test_redoc_renders_offline(watched: Watched) -> None:
    page = watched.visit("/redoc", label="redoc")
    page.wait_for_selector("h1", timeout=15_000)
    assert "Yibao" in page.locator("h1").first.inner_text()
