"""The crash test: ``kill -9`` of the server in the middle of money moving loses nothing and
doubles nothing (PostgreSQL; CI runs it).

A real ``yibao serve`` runs on a database of its own. Client threads drive, each its own
way through its own work:

- the hospital window settles outpatient visits of three persons (two threads per person,
  so their settlements queue on the person's year), reverses one visit in three and
  settles it again;
- the insurance centre works reimbursement claims (零星报销) of the same persons: uploads
  every required document, reviews, approves and records the payout.

Meanwhile the server is killed with SIGKILL (the whole process group, no shutdown) several
times, each time after a few answers, and started again. A client whose request got no
answer (connection refused, reset or cut) retries it, with the same Idempotency-Key, until
it is answered. At the end, in the database:

- no encounter settled twice: one standing settlement at most, the encounter's state
  agreeing; one stored settlement per settle key answered, one reversal per reverse key;
- every person's year equal to the sum of the contributions of its settlements and
  reversals (``acc_delta``), applied exactly once each (``version``);
- every account balance equal to its opening balance plus its movements, equal to the
  opening balance less what the settlements took from it, never below zero;
- every claim paid, with exactly one settlement, one approval and one payout;
- no uploaded file without its row (and, once the start-up clean-up has run, no row
  without its file).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.e2e.nodes import Server, postgres_database
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.audit.models import AuditEntry
from yibao.db import make_engine, session_scope
from yibao.documents.models import Document
from yibao.documents.service import clean_up_uploads
from yibao.documents.storage import TEMPORARY_SUFFIX
from yibao.encounters.models import Encounter, FeeLine
from yibao.engine.accumulators import SETTING_COUNTERS, SETTINGS
from yibao.filings.models import Filing
from yibao.identity import make_identity_number
from yibao.registry.models import Account, AccountMovement, Agency, Institution, Person, Region
from yibao.reimbursements.models import ReimbursementClaim
from yibao.settlements.models import IdempotencyKey, SettlementRecord, YearAccumulator
from yibao.users.service import create_user

pytestmark = pytest.mark.postgres

PERSONS = 3
THREADS_PER_PERSON = 2
VISITS_PER_THREAD = 6
CLAIMS_PER_PERSON = 2
KILLS = 4
ANSWERS_BEFORE_KILL = (12, 30)  # a kill comes after this many answers (random in range)
MOST_UP_SECONDS = 4.0  # ... or after this long up, whichever first
OPENING_BALANCE = 150_000
PDF = b"%PDF-1.4\n% a scanned document\n"
API = "/api/v1"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database("crash") as url:
        yield url


# --- the data ------------------------------------------------------------------------------


@dataclass
class Seeded:
    window_token: str
    centre_token: str
    office_token: str
    sanya_hospital_id: int
    persons: list[int]
    visits: dict[int, list[int]]  # person id -> open outpatient encounters


def _seed(session: Session) -> Seeded:
    session.add_all(
        [
            Region(code="110000", name="北京市", province_code="110000"),
            Region(code="460000", name="海南省", province_code="460000"),
            Region(code="460200", name="三亚市", province_code="460000"),
        ]
    )
    session.flush()
    load_rules(session)
    window = Institution(
        code="H-CRASH-1",
        name="北京某区医院",
        region_code="110000",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=True,
    )
    sanya = Institution(
        code="H-CRASH-2",
        name="三亚市人民医院",
        region_code="460200",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=True,
    )
    centre = Agency(name="北京市医保中心", kind="insurance_center", region_code="110000")
    office = Agency(name="朝阳区某街道社保所", kind="street_office", region_code="110000")
    session.add_all([window, sanya, centre, office])
    session.flush()
    persons, visits = [], {}
    for n in range(PERSONS):
        born = date(1955, 3, 1 + n)
        person = Person(
            identity_number=make_identity_number("110000", born, 41 + 2 * n),
            name=f"重启测试{n}",
            sex="M",
            birth_date=born,
            scheme="employee",
            person_type="retired",
            insured_region="110000",
            assistance_eligible=False,
        )
        session.add(person)
        session.flush()
        session.add(Account(person_id=person.id, balance_fen=OPENING_BALANCE))
        session.add(
            Filing(
                person_id=person.id,
                insured_region="110000",
                category="resettled_retiree",
                state="approved",
                destination="460000",
                submitted_via="person",
                valid_from=date(2026, 1, 1),
                valid_to=date(2026, 12, 31),
            )
        )
        ids = []
        for v in range(THREADS_PER_PERSON * VISITS_PER_THREAD):
            encounter = Encounter(
                institution_id=window.id,
                person_id=person.id,
                setting="outpatient",
                state="open",
                started_on=date(2026, 3, 2),
                deposit_fen=0,
                emergency=False,
                hospital_ref=f"P{n}V{v}",
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
                    unit_price_e4=(100 + 37 * v) * 10_000,
                    state="active",
                )
            )
            ids.append(encounter.id)
        persons.append(person.id)
        visits[person.id] = ids
    tokens = [
        create_user(session, name="window", role="hospital", institution_id=window.id).token,
        create_user(
            session, name="centre", role="agency", agency_id=centre.id, region_code="110000"
        ).token,
        create_user(
            session, name="office", role="street_office", agency_id=office.id, region_code="110000"
        ).token,
    ]
    return Seeded(
        window_token=tokens[0],
        centre_token=tokens[1],
        office_token=tokens[2],
        sanya_hospital_id=sanya.id,
        persons=persons,
        visits=visits,
    )


# --- clients that retry what got no answer ----------------------------------------------


@dataclass
class Ledger:
    """What the clients asked and were answered, shared by the threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: int = 0
    unanswered: int = 0
    cut: int = 0  # of which sent and cut by a kill (not merely refused while it was down)
    replayed: int = 0  # answers stored before a kill cut them, given again on the retry
    failures: list[str] = field(default_factory=list)
    settle_keys: dict[int, list[str]] = field(default_factory=dict)  # encounter -> keys
    reversed_settlements: list[int] = field(default_factory=list)
    claims: list[int] = field(default_factory=list)

    def answered(self) -> None:
        with self.lock:
            self.answers += 1

    def lost(self, exc: httpx.TransportError) -> None:
        with self.lock:
            self.unanswered += 1
            self.cut += not isinstance(exc, httpx.ConnectError)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


class Client:
    """One caller; ``call`` returns only an answer, sending again (same key) until there
    is one. A 5xx is a failure of the test, never retried."""

    def __init__(self, server: Server, token: str, ledger: Ledger, stop: threading.Event):
        self.server = server
        self.headers = {"Authorization": f"Bearer {token}"}
        self.ledger = ledger
        self.stop = stop

    def call(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> tuple[httpx.Response, bool]:
        """(the answer, whether some earlier try of it went unanswered)."""
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        lost = False
        while not self.stop.is_set():
            try:
                # A fresh connection each time: a kept-alive one may belong to a dead server.
                with httpx.Client(base_url=self.server.base, timeout=60) as http:
                    response = http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                self.ledger.lost(exc)
                lost = True
                time.sleep(0.2)
                continue
            if response.status_code >= 500:
                self.ledger.fail(f"{method} {path}: {response.status_code} {response.text[:300]}")
            self.ledger.answered()
            if response.headers.get("Idempotent-Replayed") == "true":
                with self.ledger.lock:
                    self.ledger.replayed += 1
            return response, lost
        raise TimeoutError(f"{method} {path}: stopped before an answer")

    def expect(self, status: int, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response, _ = self.call(method, path, **kwargs)
        if response.status_code != status:
            self.ledger.fail(f"{method} {path}: {response.status_code} {response.text[:300]}")
            raise AssertionError(response.text)
        body: dict[str, Any] = response.json()
        return body


def _window_work(client: Client, ledger: Ledger, visits: list[int], seed: int) -> None:
    """Settle each visit; reverse one in three and settle it again."""
    rng = random.Random(seed)
    for enc in visits:
        settled = client.expect(
            201,
            "POST",
            f"{API}/encounters/{enc}/settle",
            key=f"settle-{enc}",
            json={"on": "2026-03-02"},
        )
        keys = [f"settle-{enc}"]
        if rng.random() < 1 / 3:
            client.expect(
                201,
                "POST",
                f"{API}/settlements/{settled['id']}/reverse",
                key=f"reverse-{enc}",
                json={"reason": "wrong fee line"},
            )
            client.expect(
                201,
                "POST",
                f"{API}/encounters/{enc}/settle",
                key=f"settle-again-{enc}",
                json={"on": "2026-03-02"},
            )
            keys.append(f"settle-again-{enc}")
            with ledger.lock:
                ledger.reversed_settlements.append(settled["id"])
        with ledger.lock:
            ledger.settle_keys[enc] = keys


def _claim_work(office: Client, centre: Client, claim_ids: list[int]) -> None:
    """Every required document, the review, the approval and the payout of each claim."""
    for claim_id in claim_ids:
        claim = centre.expect(200, "GET", f"{API}/reimbursements/{claim_id}")
        for doc_type in claim["required_documents"]:
            office.expect(
                201,
                "POST",
                f"{API}/reimbursements/{claim_id}/documents",
                data={"doc_type": doc_type},
                files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
            )
        # Reviews run at once: each also checks every direct settlement not checked yet
        # (claim_checks.audit_settlements); concurrent sweeps take turns on each
        # settlement's run row (claim_checks.repository.claim_run).
        review, lost = centre.call("POST", f"{API}/reimbursements/{claim_id}/review")
        if not (review.status_code == 200 or (lost and review.status_code == 409)):
            raise AssertionError(f"review of {claim_id}: {review.status_code} {review.text}")
        # An unanswered review may have been done: then the retry is refused (409), and
        # the claim says where it stands.
        state = centre.expect(200, "GET", f"{API}/reimbursements/{claim_id}")["state"]
        assert state == "under_review", state
        centre.expect(
            200, "POST", f"{API}/reimbursements/{claim_id}/approve", key=f"approve-{claim_id}"
        )
        centre.expect(
            200,
            "POST",
            f"{API}/reimbursements/{claim_id}/pay",
            key=f"pay-{claim_id}",
            json={"reference": f"BANK-{claim_id}"},
        )


def _submit_claims(office: Client, seeded: Seeded) -> list[list[int]]:
    """The claims, submitted before the kills start (a submission has no key to retry
    with); one list per person."""
    per_person = []
    for n, person_id in enumerate(seeded.persons):
        ids = []
        for c in range(CLAIMS_PER_PERSON):
            admitted = date(2026, 4, 1) + timedelta(days=20 * c)
            body = {
                "person_id": person_id,
                "case_type": "offsite_no_direct",
                "setting": "inpatient",
                "institution_id": seeded.sanya_hospital_id,
                "admitted_on": admitted.isoformat(),
                "treatment_date": (admitted + timedelta(days=9)).isoformat(),
                "total": "2360.00",
                "diagnoses": ["I21.0"],
                "invoices": [{"number": f"4602-{n:02d}{c:02d}-0001", "amount": "2360.00"}],
                "lines": [
                    {k: line[k] for k in ("code", "quantity", "unit_price")} for line in STAY
                ],
                "payout": {"method": "passbook", "account_number": f"62170000{n}{c}112222"},
            }
            ids.append(office.expect(201, "POST", f"{API}/reimbursements", json=body)["id"])
        per_person.append(ids)
    return per_person


def _kill_now_and_then(server: Server, ledger: Ledger) -> list[int]:
    """Kill the server KILLS times, each time after a few answers or seconds; start it
    again each time. Returns the answers counted at each kill."""
    rng = random.Random(13)
    at: list[int] = []
    for _ in range(KILLS):
        up_since, answers_then = time.monotonic(), ledger.answers
        wanted = rng.randint(*ANSWERS_BEFORE_KILL)
        while (
            ledger.answers - answers_then < wanted and time.monotonic() - up_since < MOST_UP_SECONDS
        ):
            time.sleep(0.02)
        server.kill()
        at.append(ledger.answers)
        server.start()
    return at


# --- the checks ---------------------------------------------------------------------------


def _check_settlements(session: Session, ledger: Ledger, seeded: Seeded) -> None:
    rows = list(session.scalars(select(SettlementRecord).order_by(SettlementRecord.id)))
    direct = [r for r in rows if r.source == "direct"]
    for person_id, visits in seeded.visits.items():
        for enc in visits:
            mine = [r for r in direct if r.encounter_id == enc]
            settlements = [r for r in mine if r.kind == "settlement"]
            reversals = [r for r in mine if r.kind == "reversal"]
            standing = [r for r in settlements if r.state == "settled"]
            assert len(settlements) == len(ledger.settle_keys[enc]), (enc, settlements)
            assert len(reversals) == len(settlements) - 1
            assert len(standing) == 1, f"encounter {enc} settled {len(standing)} times"
            encounter = session.get(Encounter, enc)
            assert encounter is not None and encounter.state == "settled"
            assert all(r.person_id == person_id for r in mine)
    assert sorted(r.reverses_id for r in rows if r.kind == "reversal") == sorted(
        ledger.reversed_settlements
    )

    for person_id in seeded.persons:
        mine = [r for r in rows if r.person_id == person_id]
        year = session.get(YearAccumulator, (person_id, 2026))
        assert year is not None
        assert year.version == len(mine)  # each settlement and reversal applied once
        for setting in SETTINGS:
            for key in SETTING_COUNTERS:
                column = f"{setting}_{key}_fen"
                expected = sum(_signed(r) * json.loads(r.acc_delta)[setting][key] for r in mine)
                assert getattr(year, column) == expected, (person_id, column)
            admissions = sum(
                _signed(r) * json.loads(r.acc_delta)[setting]["admissions"] for r in mine
            )
            assert getattr(year, f"{setting}_admissions") == admissions
            in_scope = sum(r.in_scope_fen for r in mine if r.setting == setting)
            assert getattr(year, f"{setting}_in_scope_cum_fen") == in_scope

        account = session.get(Account, person_id)
        assert account is not None
        movements = list(
            session.scalars(
                select(AccountMovement)
                .where(AccountMovement.person_id == person_id)
                .order_by(AccountMovement.id)
            )
        )
        assert account.balance_fen == OPENING_BALANCE + sum(m.amount_fen for m in movements)
        paid_from = [r for r in rows if r.account_person_id == person_id]
        assert account.balance_fen == OPENING_BALANCE - sum(r.account_pay_fen for r in paid_from)
        assert movements and movements[-1].balance_after_fen == account.balance_fen
        assert min(m.balance_after_fen for m in movements) >= 0


def _signed(row: SettlementRecord) -> int:
    return -1 if row.kind == "reversal" else 1


def _check_claims(session: Session, ledger: Ledger) -> None:
    for claim_id in ledger.claims:
        claim = session.get(ReimbursementClaim, claim_id)
        assert claim is not None
        assert claim.state == "paid", (claim_id, claim.state)
        settlements = list(
            session.scalars(
                select(SettlementRecord).where(
                    SettlementRecord.source == "reimbursement",
                    SettlementRecord.claim_id == f"R{claim_id}",
                )
            )
        )
        assert [s.id for s in settlements] == [claim.settlement_id], claim_id
        assert claim.payout_fen is not None and claim.payout_fen > 0
        assert claim.paid_at is not None and claim.payout_reference == f"BANK-{claim_id}"
        actions = list(
            session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity == "reimbursement_claim",
                    AuditEntry.entity_id == str(claim_id),
                    AuditEntry.action.in_(("reimbursement.approve", "reimbursement.pay")),
                )
            )
        )
        assert sorted(actions) == ["reimbursement.approve", "reimbursement.pay"], claim_id


def _check_files(session: Session, upload_dir: Path) -> int:
    """No file under its final name without its row; after the clean-up every row has its
    file and no temporary file is left."""
    stored = set(session.scalars(select(Document.storage_path)))

    def files() -> list[str]:
        return [p.relative_to(upload_dir).as_posix() for p in upload_dir.rglob("*") if p.is_file()]

    final = [f for f in files() if not f.endswith(TEMPORARY_SUFFIX)]
    assert not set(final) - stored, set(final) - stored
    clean_up_uploads(session, upload_dir=upload_dir, older_than=timedelta(0))
    after = files()
    assert not [f for f in after if f.endswith(TEMPORARY_SUFFIX)]
    assert set(after) == stored
    return len(stored)


# --- the test -----------------------------------------------------------------------------


def test_kill_9_during_settlements_reversals_and_approvals_loses_and_doubles_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_url)
    with session_scope(engine) as session:
        seeded = _seed(session)
    upload_dir = tmp_path / "uploads"
    server = Server(pg_url, upload_dir=upload_dir, log=tmp_path / "serve.log")
    ledger, stop = Ledger(), threading.Event()
    window = Client(server, seeded.window_token, ledger, stop)
    centre = Client(server, seeded.centre_token, ledger, stop)
    office = Client(server, seeded.office_token, ledger, stop)

    def guarded(work: Callable[..., None], *args: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                work(*args)
            except BaseException as exc:
                ledger.fail(f"{work.__name__}: {exc!r}")

        return run

    kills: list[int] = []
    try:
        server.start()
        claims = _submit_claims(office, seeded)
        ledger.claims = [c for per_person in claims for c in per_person]
        threads = []
        for n, person_id in enumerate(seeded.persons):
            visits = seeded.visits[person_id]
            for t in range(THREADS_PER_PERSON):
                part = visits[t::THREADS_PER_PERSON]
                threads.append(guarded(_window_work, window, ledger, part, 100 * n + t))
            threads.append(guarded(_claim_work, office, centre, claims[n]))
        running = [threading.Thread(target=work) for work in threads]
        for thread in running:
            thread.start()
        kills = _kill_now_and_then(server, ledger)
        for thread in running:
            thread.join(timeout=240)
        stop.set()
        assert not any(thread.is_alive() for thread in running), "a client never got its answer"
    finally:
        stop.set()
        server.stop()

    # Shown with -s: how much of the run was the server starting again.
    print(
        f"crash test: {ledger.answers} answers ({ledger.replayed} replays), "
        f"{ledger.unanswered} tries unanswered and retried ({ledger.cut} cut in flight), "
        f"kills after answers {kills}, seconds to answer after each start "
        f"{server.start_seconds}"
    )
    assert not ledger.failures, ledger.failures[:5]
    assert len(kills) == KILLS and server.starts == KILLS + 1
    assert ledger.cut > 0  # the kills did cut requests in flight, which were then retried
    with session_scope(engine) as session:
        _check_settlements(session, ledger, seeded)
        _check_claims(session, ledger)
        assert _check_files(session, upload_dir) > 0
        unanswered_keys = session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.response.is_(None))
        )
        assert unanswered_keys == 0  # every stored key has its stored answer
    engine.dispose()
