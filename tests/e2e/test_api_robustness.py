"""A client's odd request gets a clear problem+json answer, never a bare 500.

Cases found by fuzzing the OpenAPI schema: ids beyond 64 bits, a body that is not UTF-8.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AuthUser

API = "/api/v1"
HUGE = "16860372295526972915712"  # beyond a signed 64-bit integer


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/settlements/{HUGE}",
        f"{API}/persons/{HUGE}/account",
        f"{API}/persons?limit=10&offset={HUGE}",
    ],
)
def test_ids_beyond_64_bits_are_a_clear_422(
    client: TestClient, users: dict[str, AuthUser], path: str
) -> None:
    response = client.get(path, headers=users["admin"].headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in {
        "request.number_out_of_range",
        "request.value_out_of_range",
        "request.invalid",
    }


def test_a_body_that_is_not_utf8_is_a_clear_400(
    client: TestClient, users: dict[str, AuthUser]
) -> None:
    response = client.post(
        f"{API}/users",
        content=b"\xef\x00\xff{",
        headers={**users["admin"].headers, "content-type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
