"""Concurrent settlements for one person serialize (PostgreSQL, its own fresh database).

50 outpatient visits of 500.00 each (class A, local, level 3) are settled at once over
HTTP, each thread with its own client and its own transaction. By hand, whatever the
order: in scope 50 × 500 = 25,000; the year's deductible 100 is met once; the pool pays
50% up to its 2,000 cap; the burden 25,000 − 2,000 = 23,000 exceeds the 3,000 on the
account, so the account pays exactly 3,000 and never goes below zero. Then 20 threads
retry one settlement with the same Idempotency-Key: one settlement, 20 identical answers.

Settling and reversing the same encounters at once: a settle locks the encounter first, a
reversal locks the settlement, the year and the account and then the encounter (through
the ``SettlementReversed`` handler); the two never deadlock (see
``yibao.encounters.handlers``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

import yibao.all_models  # noqa: F401
from tests.fresh_db import postgres_database
from tests.integration.test_settle_kit import load_rules
from yibao.api.app import create_app
from yibao.config import Settings
from yibao.db import make_engine, session_scope
from yibao.encounters.models import Encounter, FeeLine
from yibao.identity import make_identity_number
from yibao.registry.models import Account, AccountMovement, Institution, Person, Region
from yibao.settlements.models import SettlementRecord, YearAccumulator
from yibao.users.service import create_user

THREADS = 50
SAME_KEY_THREADS = 20


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database("conc") as url:
        yield url


def _setup(engine: Engine, encounters: int) -> dict[str, Any]:
    with session_scope(engine) as session:
        session.add_all(
            [
                Region(code="110000", name="北京市", province_code="110000"),
                Region(code="460200", name="三亚市", province_code="460000"),
                Region(code="460000", name="海南省", province_code="460000"),
            ]
        )
        session.flush()
        load_rules(session)
        hospital = Institution(
            code="H-CONC-1",
            name="北京并发医院",
            region_code="110000",
            kind="hospital",
            level=3,
            specialty="general",
            designated=True,
            networked=True,
        )
        person = Person(
            identity_number=make_identity_number("110000", date(1980, 1, 1), 7),
            name="并发测试",
            sex="M",
            birth_date=date(1980, 1, 1),
            scheme="employee",
            person_type="in_service",
            insured_region="110000",
            assistance_eligible=False,
        )
        session.add_all([hospital, person])
        session.flush()
        session.add(Account(person_id=person.id, balance_fen=300_000))
        ids = []
        for n in range(encounters):
            encounter = Encounter(
                institution_id=hospital.id,
                person_id=person.id,
                setting="outpatient",
                state="open",
                started_on=date(2026, 3, 2),
                deposit_fen=0,
                emergency=False,
                hospital_ref=f"V{n}",
            )
            session.add(encounter)
            session.flush()
            session.add(
                FeeLine(
                    encounter_id=encounter.id,
                    line_id="1",
                    batch_no=1,
                    code="X001",
                    quantity_e4=10_000,
                    unit_price_e4=5_000_000,
                    state="active",
                )
            )
            ids.append(encounter.id)
        issued = create_user(session, name="window", role="hospital", institution_id=hospital.id)
        return {"person_id": person.id, "encounters": ids, "token": issued.token}


def _fire(app: Any, token: str, jobs: list[tuple[int, str]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(index: int, encounter_id: int, key: str) -> None:
        with TestClient(app) as client:
            barrier.wait()
            results[index] = client.post(
                f"/api/v1/encounters/{encounter_id}/settle",
                json={"on": "2026-03-02"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )

    threads = [
        threading.Thread(target=work, args=(i, enc, key)) for i, (enc, key) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_settlements_for_one_person_serialize(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=THREADS + 5, max_overflow=10)
    data = _setup(engine, THREADS + 1)
    app = create_app(Settings(environment="test", database_url=pg_url), engine=engine)
    person_id = data["person_id"]

    jobs = [(enc, f"key-{enc}") for enc in data["encounters"][:THREADS]]
    responses = _fire(app, data["token"], jobs)
    assert [r.status_code for r in responses] == [201] * THREADS, [
        r.text for r in responses if r.status_code != 201
    ][:3]

    with session_scope(engine) as session:
        rows = list(
            session.scalars(select(SettlementRecord).where(SettlementRecord.person_id == person_id))
        )
        assert len(rows) == THREADS
        acc = session.get(YearAccumulator, (person_id, 2026))
        assert acc is not None
        assert acc.outpatient_in_scope_cum_fen == sum(r.in_scope_fen for r in rows) == 2_500_000
        assert acc.outpatient_deductible_met_fen == sum(r.deductible_fen for r in rows) == 10_000
        assert acc.outpatient_pool_paid_cum_fen == sum(r.pool_fund_pay_fen for r in rows)
        assert acc.outpatient_pool_paid_cum_fen == 200_000  # the cap, not more
        account = session.get(Account, person_id)
        assert account is not None and account.balance_fen == 0
        assert sum(r.account_pay_fen for r in rows) == 300_000
        lowest = session.scalar(
            select(func.min(AccountMovement.balance_after_fen)).where(
                AccountMovement.person_id == person_id
            )
        )
        assert lowest is not None and lowest >= 0
        assert sum(r.cash_pay_fen for r in rows) == 2_500_000 - 200_000 - 300_000

    last = data["encounters"][THREADS]
    same = _fire(app, data["token"], [(last, "one-key")] * SAME_KEY_THREADS)
    assert {r.status_code for r in same} == {201}
    assert len({r.content for r in same}) == 1
    assert sum(1 for r in same if r.headers.get("Idempotent-Replayed") == "true") == (
        SAME_KEY_THREADS - 1
    )
    with session_scope(engine) as session:
        count = session.scalar(
            select(func.count())
            .select_from(SettlementRecord)
            .where(SettlementRecord.encounter_id == last)
        )
        assert count == 1
    engine.dispose()


def _fire_all(app: Any, token: str, calls: list[tuple[str, dict[str, Any], str]]) -> list[Any]:
    """POST every (path, body, Idempotency-Key) at once, one thread and client each; an
    exception (a deadlock would be one) is kept in place of the response."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def work(index: int, path: str, body: dict[str, Any], key: str) -> None:
        try:
            with TestClient(app) as client:
                barrier.wait()
                results[index] = client.post(
                    path,
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                )
        except Exception as exc:  # kept for the assertion below
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


REVERSE_AND_SETTLE = 8


def test_settling_and_reversing_the_same_encounters_at_once_never_deadlocks(pg_url: str) -> None:
    """8 settled encounters of one person: each is reversed and settled again at the same
    moment (16 requests). Every reversal succeeds; a settle either follows its reversal
    (201) or finds the encounter still settled (409); nothing fails otherwise, and the
    year, the account and the encounters agree with the settlements that stand."""
    pairs = REVERSE_AND_SETTLE
    engine = make_engine(pg_url, pool_size=2 * pairs + 5, max_overflow=10)
    data = _setup(engine, pairs)
    app = create_app(Settings(environment="test", database_url=pg_url), engine=engine)
    person_id, token = data["person_id"], data["token"]
    first = _fire(app, token, [(enc, f"first-{enc}") for enc in data["encounters"]])
    assert [r.status_code for r in first] == [201] * pairs
    settlement_of = {enc: r.json()["id"] for enc, r in zip(data["encounters"], first, strict=True)}

    calls: list[tuple[str, dict[str, Any], str]] = []
    for enc, settlement_id in settlement_of.items():
        calls.append(
            (f"/api/v1/settlements/{settlement_id}/reverse", {"reason": "race"}, f"rev-{enc}")
        )
        calls.append((f"/api/v1/encounters/{enc}/settle", {"on": "2026-03-02"}, f"again-{enc}"))
    results = _fire_all(app, token, calls)
    failures = [r for r in results if not hasattr(r, "status_code")]
    assert not failures, failures[:3]
    reversals, settles = results[0::2], results[1::2]
    assert [r.status_code for r in reversals] == [201] * pairs, [r.text for r in reversals]
    assert {r.status_code for r in settles} <= {201, 409}, [r.text for r in settles]
    refused = [r for r in settles if r.status_code == 409]
    assert all(r.json()["code"] == "state.invalid_transition" for r in refused)

    with session_scope(engine) as session:
        rows = list(
            session.scalars(select(SettlementRecord).where(SettlementRecord.person_id == person_id))
        )
        standing = [r for r in rows if r.kind == "settlement" and r.state == "settled"]
        assert len(rows) == 2 * pairs + (pairs - len(refused))
        assert len(standing) == pairs - len(refused)
        for enc in data["encounters"]:
            encounter = session.get(Encounter, enc)
            assert encounter is not None
            here = [r for r in standing if r.encounter_id == enc]
            assert len(here) <= 1
            assert encounter.state == ("settled" if here else "open")
        acc = session.get(YearAccumulator, (person_id, 2026))
        assert acc is not None
        assert acc.outpatient_in_scope_cum_fen == sum(r.in_scope_fen for r in rows)
        assert acc.outpatient_in_scope_cum_fen == sum(r.in_scope_fen for r in standing)
        assert acc.outpatient_pool_paid_cum_fen == sum(r.pool_fund_pay_fen for r in rows)
        account = session.get(Account, person_id)
        assert account is not None
        assert account.balance_fen == 300_000 - sum(r.account_pay_fen for r in rows)
    engine.dispose()
