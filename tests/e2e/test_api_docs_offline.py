"""/docs and /redoc work on a machine without internet: every script, style and icon the
pages load is served by Yibao itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "cdn." not in html and "fonts.googleapis" not in html
    assets = [a or b for a, b in ASSET.findall(html)]
    loaded = [a for a in assets if a.endswith((".js", ".css", ".png"))]
    assert loaded, html[:500]
    for asset in loaded:
        assert asset.startswith("/"), f"{asset} is not served by Yibao"
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 1000, asset
    assert "/openapi.json" in html
