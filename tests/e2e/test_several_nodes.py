"""Several nodes over one PostgreSQL: exactly once holds across processes, and a dead
worker of ``yibao serve --workers 2`` is replaced while the server keeps answering.

Two ``yibao serve`` processes on two ports share one database (as two machines behind a
reverse proxy would). The same person's outpatient visits (500.00 each, class A, local,
level 3: the figures of ``tests/integration/test_settle_concurrency.py``) are settled
through both at once, every request sent four times under one Idempotency-Key, twice to
each node. By hand, whatever the order: 12 visits, 6,000 in scope; the deductible 100 is
met once; the pool pays 50% up to its 2,000 cap; the burden 4,000 exceeds the 3,000 on the
account, so the account pays exactly 3,000.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.e2e.nodes import START_TIMEOUT, Server, children, command_line, postgres_database
from tests.integration.test_settle_concurrency import _setup
from yibao.db import make_engine, session_scope
from yibao.registry.models import Account, AccountMovement
from yibao.settlements.models import SettlementRecord, YearAccumulator

pytestmark = pytest.mark.postgres

VISITS = 12
COPIES_PER_NODE = 2
REVERSED = 4


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database("nodes") as url:
        yield url


def _send_everywhere(
    nodes: list[Server], token: str, calls: list[tuple[str, dict[str, Any], str]]
) -> list[list[tuple[int, httpx.Response]]]:
    """Each (path, body, key) sent COPIES_PER_NODE times to every node, all at once; per
    call, the (node index, response) of every copy."""
    jobs = [
        (call_no, node_no)
        for call_no in range(len(calls))
        for node_no in range(len(nodes))
        for _ in range(COPIES_PER_NODE)
    ]
    barrier = threading.Barrier(len(jobs))
    answers: list[list[tuple[int, httpx.Response]]] = [[] for _ in calls]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(call_no: int, node_no: int) -> None:
        path, body, key = calls[call_no]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        try:
            with httpx.Client(base_url=nodes[node_no].base, timeout=120) as client:
                barrier.wait()
                response = client.post(path, json=body, headers=headers)
        except BaseException as exc:  # kept for the assertion below
            with lock:
                errors.append(exc)
            return
        with lock:
            answers[call_no].append((node_no, response))

    threads = [threading.Thread(target=work, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors[:3]
    return answers


def _exactly_once(answers: list[list[tuple[int, httpx.Response]]], status: int) -> None:
    """Every copy got the same answer; one did the work, the others (on both nodes) were
    replays of it."""
    for copies in answers:
        assert [r.status_code for _, r in copies] == [status] * len(copies), [
            r.text for _, r in copies if r.status_code != status
        ][:2]
        assert len({r.content for _, r in copies}) == 1
        worked = [node for node, r in copies if r.headers.get("Idempotent-Replayed") != "true"]
        assert len(worked) == 1
        replayed_by = {node for node, r in copies if r.headers.get("Idempotent-Replayed")}
        assert replayed_by == {0, 1}  # the node that did not do the work replayed it too


def test_two_nodes_settle_and_reverse_exactly_once(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    data = _setup(engine, VISITS)
    person_id, token = data["person_id"], data["token"]
    nodes = [
        Server(pg_url, upload_dir=tmp_path / "uploads", log=tmp_path / f"node-{n}.log")
        for n in range(2)
    ]
    try:
        for node in nodes:
            node.start(wait=False)
        for node in nodes:
            node.wait_until_answering()

        settles = [
            (f"/api/v1/encounters/{enc}/settle", {"on": "2026-03-02"}, f"settle-{enc}")
            for enc in data["encounters"]
        ]
        settled = _send_everywhere(nodes, token, settles)
        _exactly_once(settled, 201)
        settlement_ids = [copies[0][1].json()["id"] for copies in settled]

        reversals = [
            (f"/api/v1/settlements/{sid}/reverse", {"reason": "two nodes"}, f"reverse-{sid}")
            for sid in settlement_ids[:REVERSED]
        ]
        _exactly_once(_send_everywhere(nodes, token, reversals), 201)
    finally:
        for node in nodes:
            node.stop()

    with session_scope(engine) as session:
        rows = list(
            session.scalars(select(SettlementRecord).where(SettlementRecord.person_id == person_id))
        )
        originals = [r for r in rows if r.kind == "settlement"]
        assert sorted(r.encounter_id for r in originals) == sorted(data["encounters"])
        assert sorted(r.reverses_id for r in rows if r.kind == "reversal") == sorted(
            settlement_ids[:REVERSED]
        )
        assert sum(r.in_scope_fen for r in originals) == VISITS * 50_000
        assert sum(r.pool_fund_pay_fen for r in originals) == 200_000  # the cap, once
        assert sum(r.account_pay_fen for r in originals) == 300_000  # all of the account

        year = session.get(YearAccumulator, (person_id, 2026))
        assert year is not None
        assert year.version == len(rows)  # every settlement and reversal applied once
        assert year.outpatient_in_scope_cum_fen == sum(r.in_scope_fen for r in rows)
        assert year.outpatient_deductible_met_fen == sum(r.deductible_fen for r in rows)
        assert year.outpatient_pool_paid_cum_fen == sum(r.pool_fund_pay_fen for r in rows)

        account = session.get(Account, person_id)
        assert account is not None
        assert account.balance_fen == 300_000 - sum(r.account_pay_fen for r in rows)
        moved = session.scalar(
            select(func.coalesce(func.sum(AccountMovement.amount_fen), 0)).where(
                AccountMovement.person_id == person_id
            )
        )
        assert account.balance_fen == 300_000 + moved
    engine.dispose()


def _workers(server: Server) -> set[int]:
    """The supervisor's worker processes (multiprocessing's resource tracker excluded)."""
    assert server.process is not None
    return {
        pid for pid in children(server.process.pid) if "resource_tracker" not in command_line(pid)
    }


def _get(server: Server, path: str, headers: dict[str, str]) -> int:
    """One GET on a connection of its own (a kept-alive one may belong to a dead worker)."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        return client.get(path, headers=headers).status_code


def _wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def test_a_dead_worker_is_replaced_and_the_server_keeps_answering(
    pg_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_url)
    data = _setup(engine, 1)
    engine.dispose()
    server = Server(pg_url, upload_dir=tmp_path / "uploads", log=tmp_path / "serve.log", workers=2)
    headers = {"Authorization": f"Bearer {data['token']}"}
    path = f"/api/v1/encounters/{data['encounters'][0]}"
    try:
        server.start()
        first = _wait_for(lambda: len(_workers(server)) == 2 and _workers(server), 60, "2 workers")
        for pid in first:
            _wait_for(
                lambda pid=pid: f"Started server process [{pid}]" in server.tail(200),
                START_TIMEOUT,
                f"worker {pid} started",
            )
        victim = min(first)
        assert _get(server, path, headers) == 200
        os.kill(victim, signal.SIGKILL)
        # The other worker answers new connections at once, while the supervisor replaces
        # the dead one (a connection the dead worker held is lost with it: a proxy retries
        # a request it could not send, a client retries with its Idempotency-Key).
        assert [_get(server, path, headers) for _ in range(5)] == [200] * 5
        now = _wait_for(
            lambda: (w := _workers(server)) and len(w) == 2 and victim not in w and w,
            60,
            "a new worker in place of the killed one",
        )
        assert first - {victim} <= now  # the survivor kept running
        assert len(now - first) == 1  # and one new worker took the dead one's place
        # The new worker serves: once it has started, the survivor is killed too, and the
        # answers come from the new one (the survivor's own replacement is still starting).
        (fresh,) = now - first
        _wait_for(
            lambda: f"Started server process [{fresh}]" in server.tail(200),
            START_TIMEOUT,
            "the new worker's start",
        )
        (survivor,) = first - {victim}
        os.kill(survivor, signal.SIGKILL)
        assert [_get(server, path, headers) for _ in range(5)] == [200] * 5
        assert fresh in _workers(server)
        _wait_for(lambda: len(_workers(server) - first) == 2, 60, "the second replacement")
        assert server.log.read_text().count("died") >= 2  # the supervisor said what happened
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()
