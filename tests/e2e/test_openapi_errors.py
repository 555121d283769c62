"""The OpenAPI document describes the errors: a ``Problem`` schema (RFC 9457) and, for
every operation, each 401/403/404/409/413/422/429 it can answer, with that schema.

The expectations are read from the document itself (its security, parameters, request
body and method), not from the code that wrote the responses; and real error answers are
checked against the schema."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MakeUser

PROBLEM = "application/problem+json"
REF = "#/components/schemas/Problem"
METHODS = ("get", "post", "put", "patch", "delete")
TYPES = {"string": str, "integer": int, "array": list, "object": dict}


@pytest.fixture(scope="module")
def document(app_module: Any) -> dict[str, Any]:
    return dict(app_module.openapi())


@pytest.fixture(scope="module")
def app_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from yibao.api.app import create_app
    from yibao.config import Settings

    folder = tmp_path_factory.mktemp("openapi")
    return create_app(
        Settings(
            environment="test",
            database_url=f"sqlite:///{folder / 'unused.db'}",
            upload_dir=folder / "uploads",
        )
    )


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def expected_errors(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    expected: set[int] = set()
    if operation.get("security"):
        expected |= {401, 403, 429}
    if "{" in path:
        expected.add(404)
    if method in ("post", "put", "patch", "delete"):
        expected.add(409)
    if "requestBody" in operation:
        expected |= {413, 422}
    if operation.get("parameters"):
        expected.add(422)
    return expected


def test_the_problem_schema_is_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert problem["properties"]["status"]["type"] == "integer"
    # FastAPI's own validation error body is never answered: it is not described either
    assert "HTTPValidationError" not in schemas


def test_every_operation_lists_the_errors_it_can_answer_as_problems(
    document: dict[str, Any],
) -> None:
    ops = operations(document)
    assert len(ops) > 100  # the whole API, not a corner of it
    missing: list[str] = []
    for path, method, operation in ops:
        responses = operation["responses"]
        for status in sorted(expected_errors(path, method, operation)):
            answer = responses.get(str(status))
            if answer is None:
                missing.append(f"{method.upper()} {path}: no {status}")
                continue
            schema = answer.get("content", {}).get(PROBLEM, {}).get("schema", {})
            if schema.get("$ref") != REF:
                missing.append(f"{method.upper()} {path}: {status} is not a Problem")
            if not answer.get("description"):
                missing.append(f"{method.upper()} {path}: {status} has no description")
        for status, answer in responses.items():
            if status.startswith("4"):
                assert PROBLEM in answer.get("content", {}), f"{method.upper()} {path} {status}"
                assert "application/json" not in answer["content"], f"{method} {path} {status}"
    assert not missing, "\n".join(missing[:40])


def test_authentication_errors_name_their_headers(document: dict[str, Any]) -> None:
    secured = [op for _, _, op in operations(document) if op.get("security")]
    assert secured
    for operation in secured:
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_an_open_read_without_parameters_lists_no_errors(document: dict[str, Any]) -> None:
    health = document["paths"]["/api/v1/health"]["get"]["responses"]
    assert set(health) == {"200"}
    assert set(document["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def _conforms(body: dict[str, Any], schema: dict[str, Any], status: int) -> None:
    for name in schema["required"]:
        assert name in body, (name, body)
    for name, spec in schema["properties"].items():
        if name in body:
            assert isinstance(body[name], TYPES[spec["type"]]), (name, body)
    assert body["status"] == status
    assert body["type"] == f"urn:yibao:problem:{body['code']}"


def test_real_error_answers_conform_to_the_documented_problem(
    client: TestClient, make_user: MakeUser, document: dict[str, Any]
) -> None:
    schema = document["components"]["schemas"]["Problem"]
    agency = make_user("agency")
    street = make_user("street_office")
    admin = make_user("admin")
    cases = [
        (client.get("/api/v1/persons/1"), 401),
        (client.get("/api/v1/persons/999999", headers=agency.headers), 404),
        (client.get("/api/v1/persons/not-a-number", headers=agency.headers), 422),
        (client.post("/api/v1/regions", json={"code": 1}, headers=admin.headers), 422),
        (client.post("/api/v1/users", json={}, headers=street.headers), 403),
    ]
    for answer, status in cases:
        assert answer.status_code == status, (status, answer.text)
        assert answer.headers["content-type"] == PROBLEM
        _conforms(answer.json(), schema, status)
    invalid = cases[2][0].json()
    assert invalid["errors"] and {"loc", "msg", "type"} <= set(invalid["errors"][0])
