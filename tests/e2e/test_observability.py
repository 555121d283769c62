"""Operations (docs/operations.md): one log line per request with its id and user, the
database errors with their request id, Prometheus metrics at /metrics, and the probes
/healthz and /readyz."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.api import system_routes
from yibao.api.app import create_app
from yibao.auth.sessions import start_session
from yibao.config import Settings
from yibao.db import upgrade_database
from yibao.logs import JsonFormatter, logging_config, sane_request_id
from yibao.settlements.models import SettlementRecord

API = "/api/v1"
LOOPBACK = ("127.0.0.1", 50123)
FULL_NUMBER = "110105195604120317"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def local(app: Any) -> Any:
    """A client on the loopback interface (may read /metrics)."""
    with TestClient(app, client=LOOPBACK) as test_client:
        yield test_client


def metric(client: TestClient, name: str, **labels: str) -> float:
    """The value of one series in /metrics (0 when it does not exist yet)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "yibao.request"]


# --- request ids and the request line ---------------------------------------------------


def test_a_sane_request_id_is_kept_and_echoed(client: TestClient) -> None:
    answer = client.get(f"{API}/health", headers={"X-Request-ID": "lb-7f3a:42"})
    assert answer.headers["X-Request-ID"] == "lb-7f3a:42"


@pytest.mark.parametrize(
    "given",
    ["", "has space", "x" * 129, "new\nline", f"id-{FULL_NUMBER}", "<script>", "ü-umlaut"],
)
def test_an_insane_request_id_is_replaced(client: TestClient, given: str) -> None:
    assert sane_request_id(given) is None
    try:
        answer = client.get(f"{API}/health", headers={"X-Request-ID": given})
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        return  # the client itself refuses to send it: nothing to replace
    assert REQUEST_ID.match(answer.headers["X-Request-ID"]), answer.headers["X-Request-ID"]


def test_each_request_gets_its_own_generated_id(client: TestClient) -> None:
    first = client.get(f"{API}/health").headers["X-Request-ID"]
    second = client.get(f"{API}/health").headers["X-Request-ID"]
    assert REQUEST_ID.match(first) and REQUEST_ID.match(second) and first != second


def test_one_json_line_per_request_with_route_template_user_status_and_duration(
    client: TestClient, make_user: MakeUser, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    agency = make_user("agency")
    caplog.set_level(logging.INFO)
    answer = client.get(
        f"{API}/persons/{world.retiree.id}?name=%E8%BA%AB%E4%BB%BD%E8%AF%81{FULL_NUMBER}",
        headers={**agency.headers, "X-Request-ID": "trace-1"},
    )
    assert answer.status_code == 200, answer.text
    [record] = request_lines(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request"
    assert line["request_id"] == "trace-1"
    assert line["user_id"] == agency.user.id
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/persons/{person_id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["logger"] == "yibao.request"
    formatted = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert FULL_NUMBER not in formatted
    assert "path" not in line and "query" not in line  # the template only


def test_the_request_line_names_a_page_user_and_an_unmatched_path(
    client: TestClient,
    session: Session,
    make_user: MakeUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agency = make_user("agency")
    started = start_session(session, user=agency.user, now=datetime.now(UTC))
    session.commit()
    caplog.set_level(logging.INFO)
    client.cookies.set("yibao_session", started.token)
    assert client.get("/").status_code == 200
    client.cookies.clear()
    assert client.get(f"/no/such/{FULL_NUMBER}").status_code == 404
    page, unmatched = request_lines(caplog)
    assert (page.route, page.user_id) == ("/", agency.user.id)  # type: ignore[attr-defined]
    assert (unmatched.route, unmatched.status) == ("<unmatched>", 404)  # type: ignore[attr-defined]


def test_a_database_error_is_logged_with_its_request_id_and_masked(
    client: TestClient,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = make_user("admin")

    class Broken:
        @staticmethod
        def model_validate(_user: object) -> object:
            raise IntegrityError(
                "INSERT INTO persons ...",
                {},
                Exception(f"UNIQUE constraint failed: persons.identity_number {FULL_NUMBER}"),
            )

    monkeypatch.setattr(system_routes, "Me", Broken)
    caplog.set_level(logging.INFO)
    answer = client.get(f"{API}/me", headers=admin.headers)
    assert answer.status_code == 409 and answer.json()["code"] == "db.integrity"
    request_id = answer.headers["X-Request-ID"]
    [logged] = [r for r in caplog.records if r.name == "yibao.api"]
    assert logged.levelno == logging.WARNING
    assert logged.request_id == request_id  # type: ignore[attr-defined]
    assert logged.user_id == admin.user.id  # type: ignore[attr-defined]
    message = logged.getMessage()
    assert "db.integrity on GET /api/v1/me" in message
    assert FULL_NUMBER not in message and "110105********0317" in message


def test_an_unhandled_error_is_logged_with_its_request_id(
    app: Any, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    admin = make_user("admin")

    class Broken:
        @staticmethod
        def model_validate(_user: object) -> object:
            raise RuntimeError("boom")

    monkeypatch.setattr(system_routes, "Me", Broken)
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as quiet:
        answer = quiet.get(f"{API}/me", headers={**admin.headers, "X-Request-ID": "r-500"})
    assert answer.status_code == 500
    errors = [r for r in caplog.records if r.name == "yibao.api" and r.levelno == logging.ERROR]
    assert [getattr(r, "request_id", None) for r in errors] == ["r-500"]
    assert errors[0].exc_info is not None
    [line] = request_lines(caplog)
    assert (line.status, line.request_id) == (500, "r-500")  # type: ignore[attr-defined]


def test_the_logging_config_writes_json_or_text_lines() -> None:
    for log_format, check in (
        ("json", lambda out: json.loads(out)["message"] == "hello 110105********0317"),
        ("text", lambda out: " INFO probe [None] hello 110105********0317 k=v" in out),
    ):
        config = logging_config(log_format, "INFO")
        stream = io.StringIO()
        config["handlers"]["stderr"] = {
            "class": "logging.StreamHandler",
            "stream": stream,
            "formatter": "yibao",
            "filters": ["request", "mask"],
        }
        config["root"] = {"handlers": [], "level": "WARNING"}
        config["loggers"] = {"probe": {"handlers": ["stderr"], "level": "INFO", "propagate": False}}
        logging.config.dictConfig(config)
        logging.getLogger("probe").info("hello %s", FULL_NUMBER, extra={"k": "v"})
        out = stream.getvalue().strip()
        assert check(out), out
        assert FULL_NUMBER not in out
    with pytest.raises(ValueError, match="json, text"):
        logging_config("xml")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_yibao_serve_writes_one_json_line_per_request_and_no_access_log(tmp_path: Path) -> None:
    """The real server: `yibao serve --log-format json`, a request with a full identity
    number in its query string, and what the server printed."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade_database(url)
    port = _free_port()
    env = {
        **os.environ,
        "YIBAO_DATABASE_URL": url,
        "YIBAO_UPLOAD_DIR": str(tmp_path / "uploads"),
        "YIBAO_ENVIRONMENT": "development",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "yibao"),
            "serve",
            "--port",
            str(port),
            "--log-format",
            "json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240  # a loaded machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.3)
        answer = httpx.get(
            f"{base}/api/v1/persons?name={FULL_NUMBER}", headers={"X-Request-ID": "serve-1"}
        )
        assert answer.status_code == 401 and answer.headers["x-request-id"] == "serve-1"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines, err
    requests = [line for line in lines if line["logger"] == "yibao.request"]
    [mine] = [line for line in requests if line["request_id"] == "serve-1"]
    assert (mine["route"], mine["status"], mine["method"]) == ("/api/v1/persons", 401, "GET")
    assert FULL_NUMBER not in err
    assert "uvicorn.access" not in {line["logger"] for line in lines}
    assert all(line["ts"] and line["level"] for line in lines)


# --- metrics ------------------------------------------------------------------------------


def test_metrics_answer_loopback_and_the_token_holder_only(app: Any, local: TestClient) -> None:
    assert local.get("/metrics").status_code == 200
    with TestClient(app, client=("203.0.113.9", 4000)) as remote:
        refused = remote.get("/metrics")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "metrics.forbidden"
        app.state.settings = app.state.settings.model_copy(update={"metrics_token": "s3cret"})
        assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        allowed = remote.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert allowed.status_code == 200 and "yibao_http_requests_total" in allowed.text


def test_requests_rejections_and_pool_are_counted(local: TestClient) -> None:
    route = {"method": "GET", "route": "/api/v1/persons/{person_id}", "status": "401"}
    before = metric(local, "yibao_http_requests_total", **route)
    rejected = metric(local, "yibao_rejections_total", code="auth.missing_token", status="401")
    latency = metric(local, "yibao_http_request_duration_seconds_count", **route)
    assert local.get(f"{API}/persons/12345").status_code == 401
    assert local.get(f"{API}/persons/67890").status_code == 401
    assert metric(local, "yibao_http_requests_total", **route) == before + 2
    assert metric(local, "yibao_http_request_duration_seconds_count", **route) == latency + 2
    assert (
        metric(local, "yibao_rejections_total", code="auth.missing_token", status="401")
        == rejected + 2
    )
    text_out = local.get("/metrics").text
    assert "/persons/12345" not in text_out  # templates, never paths
    assert "yibao_db_pool_checked_out" in text_out and "yibao_db_pool_size" in text_out


def test_a_refusal_before_routing_is_logged_counted_and_has_headers(
    tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """The body-size limit answers 413 from its own middleware, before any route runs:
    the request middleware sits outside it and still sees the answer."""
    from yibao.limits import Limits

    settings = Settings(
        environment="test",
        database_url="sqlite://",
        upload_dir=tmp_path,
        limits=Limits(body_bytes=2048),
    )
    app = create_app(settings, engine=engine)
    caplog.set_level(logging.INFO)
    with TestClient(app, client=LOOPBACK) as client:
        code = {"code": "limit.body_bytes", "status": "413"}
        before = metric(client, "yibao_rejections_total", **code)
        answer = client.post(
            f"{API}/persons", content=b"x" * 5000, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 413, answer.text
        assert answer.headers["Cache-Control"] == "no-store"
        assert REQUEST_ID.match(answer.headers["X-Request-ID"])
        assert metric(client, "yibao_rejections_total", **code) == before + 1
    [line] = [r for r in request_lines(caplog) if r.status == 413]  # type: ignore[attr-defined]
    assert line.route == "/api/v1/persons"  # type: ignore[attr-defined]
    assert line.request_id == answer.headers["X-Request-ID"]  # type: ignore[attr-defined]


@pytest.fixture
def patient(session: Session, world: World) -> Any:
    load_rules(session)
    person = add_person(
        session,
        name="郑指标",
        region="110000",
        born=date(1958, 7, 1),
        sequence=71,
        person_type="retired",
        balance_fen=150_000,
        card_number="BJ-M-0071",
    )
    session.commit()
    return person


def test_settlements_funds_replays_and_reversals_are_counted(
    local: TestClient, session: Session, patient: Any, make_user: MakeUser
) -> None:
    hospital = make_user("hospital")
    labels = {"region": "110000", "setting": "inpatient"}
    settled_before = metric(local, "yibao_settlements_total", source="direct", **labels)
    pool_before = metric(local, "yibao_settlement_paid_fen_total", payer="pool", **labels)
    replays_before = metric(
        local, "yibao_idempotent_replays_total", route="/api/v1/encounters/{encounter_id}/settle"
    )
    reversed_before = metric(local, "yibao_settlement_reversals_total", source="direct", **labels)

    encounter = local.post(
        f"{API}/encounters",
        json={
            "identity_number": patient.identity_number,
            "setting": "inpatient",
            "started_on": "2026-05-01",
            "deposit": "3000.00",
        },
        headers=hospital.headers,
    ).json()
    fees = local.post(
        f"{API}/encounters/{encounter['id']}/fees",
        json={"lines": STAY},
        headers={**hospital.headers, "Idempotency-Key": "m-fees"},
    )
    assert fees.status_code == 201, fees.text
    settle = {
        "json": {"on": "2026-05-10"},
        "headers": {**hospital.headers, "Idempotency-Key": "m-1"},
    }
    first = local.post(f"{API}/encounters/{encounter['id']}/settle", **settle)  # type: ignore[arg-type]
    assert first.status_code == 201, first.text
    again = local.post(f"{API}/encounters/{encounter['id']}/settle", **settle)  # type: ignore[arg-type]
    assert again.headers.get("Idempotent-Replayed") == "true"

    row = session.get(SettlementRecord, first.json()["id"])
    assert row is not None and row.pool_fund_pay_fen > 0
    assert metric(local, "yibao_settlements_total", source="direct", **labels) == settled_before + 1
    assert (
        metric(local, "yibao_settlement_paid_fen_total", payer="pool", **labels)
        == pool_before + row.pool_fund_pay_fen
    )
    assert (
        metric(
            local,
            "yibao_idempotent_replays_total",
            route="/api/v1/encounters/{encounter_id}/settle",
        )
        == replays_before + 1
    )

    reversal = local.post(
        f"{API}/settlements/{row.id}/reverse",
        json={"reason": "wrong ward"},
        headers={**hospital.headers, "Idempotency-Key": "m-2"},
    )
    assert reversal.status_code == 201, reversal.text
    assert (
        metric(local, "yibao_settlement_reversals_total", source="direct", **labels)
        == reversed_before + 1
    )


def test_a_settlement_rolled_back_is_not_counted(
    local: TestClient, session: Session, patient: Any, make_user: MakeUser, monkeypatch: Any
) -> None:
    """A handler that fails after the settlement was stored rolls it back: no count."""
    from yibao.events import subscribe, unsubscribe
    from yibao.settlements.events import SettlementRecorded

    def refuse(_session: object, _event: object) -> None:
        raise RuntimeError("a reaction failed")

    hospital = make_user("hospital")
    labels = {"region": "110000", "setting": "inpatient", "source": "direct"}
    before = metric(local, "yibao_settlements_total", **labels)
    encounter = local.post(
        f"{API}/encounters",
        json={
            "identity_number": patient.identity_number,
            "setting": "inpatient",
            "started_on": "2026-05-01",
            "deposit": "3000.00",
        },
        headers=hospital.headers,
    ).json()
    local.post(
        f"{API}/encounters/{encounter['id']}/fees",
        json={"lines": STAY},
        headers={**hospital.headers, "Idempotency-Key": "r-fees"},
    )
    subscribe(SettlementRecorded)(refuse)
    try:
        with pytest.raises(RuntimeError, match="a reaction failed"):
            local.post(
                f"{API}/encounters/{encounter['id']}/settle",
                json={"on": "2026-05-10"},
                headers={**hospital.headers, "Idempotency-Key": "r-1"},
            )
    finally:
        unsubscribe(SettlementRecorded, refuse)
    # the next request's transaction commits: what the failed one left must not count then
    assert local.get(f"{API}/me", headers=hospital.headers).status_code == 200
    assert metric(local, "yibao_settlements_total", **labels) == before


MULTIPROCESS_WORKER = """
from yibao.api.metrics import observe_request
observe_request(method="GET", route="/probe", status=200, seconds=0.01, replayed=True)
"""
MULTIPROCESS_SCRAPE = """
from yibao.api.metrics import render
print(render().decode())
"""


def test_several_processes_are_summed_with_prometheus_multiproc_dir(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_WORKER], env=env, check=True, timeout=120
        )
    scraped = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRAPE],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (s.name, s.labels.get("route")): s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
    }
    assert samples[("yibao_http_requests_total", "/probe")] == 2
    assert samples[("yibao_idempotent_replays_total", "/probe")] == 2


# --- probes ------------------------------------------------------------------------------


def test_healthz_and_readyz_on_a_current_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}


def _app_on(url: str, tmp_path: Path, engine: Engine | None = None) -> Any:
    settings = Settings(environment="test", database_url=url, upload_dir=tmp_path / "uploads")
    return create_app(settings, engine=engine)


def test_readyz_names_an_unreachable_database_and_healthz_stays_up(tmp_path: Path) -> None:
    app = _app_on("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "ready.database_unreachable"
    assert body["checks"] == {"database": "unreachable", "schema": "unknown"}
    assert "nobody" not in answer.text  # no connection details


@pytest.mark.parametrize("revision", ["never migrated", "", "0016_page_indexes"])
def test_readyz_names_an_outdated_schema(tmp_path: Path, revision: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE something_else (id INTEGER)"))
        if revision != "never migrated":
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        if revision.startswith("0"):
            connection.execute(text(f"INSERT INTO alembic_version VALUES ('{revision}')"))
    with TestClient(_app_on(url, tmp_path, engine)) as client:
        answer = client.get("/readyz")
    engine.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == "ready.schema_outdated"
    assert body["checks"] == {"database": "ok", "schema": "outdated"}
    at = revision if revision.startswith("0") else "no migration"
    assert f"at {at}," in body["detail"] and "yibao db upgrade" in body["detail"]
