"""Low-level errors a client's request can cause become problem+json, never a bare 500."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError, IntegrityError

from yibao.api.errors import FIXED_ANSWERS, install_error_handlers

RAISED: dict[type[Exception], Exception] = {
    OverflowError: OverflowError("Python int too large to convert to SQLite INTEGER"),
    DataError: DataError(
        "UPDATE ...", {}, Exception("value too long for type character varying(60)")
    ),
    UnicodeDecodeError: UnicodeDecodeError("utf-8", b"\xef", 0, 1, "invalid continuation byte"),
    IntegrityError: IntegrityError("INSERT ...", {}, Exception("duplicate key value")),
}


def test_every_fixed_answer_is_exercised() -> None:
    assert set(RAISED) == set(FIXED_ANSWERS)


@pytest.mark.parametrize("exc_class", list(RAISED), ids=lambda c: c.__name__)
def test_error_becomes_its_problem(exc_class: type[Exception]) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RAISED[exc_class]

    response = TestClient(app, raise_server_exceptions=False).get("/boom")
    answer = FIXED_ANSWERS[exc_class]
    assert response.status_code == answer.status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["code"], body["instance"]) == (answer.code, "/boom")
    assert "duplicate key" not in body["detail"] and "varying" not in body["detail"]
