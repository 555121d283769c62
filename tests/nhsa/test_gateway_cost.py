"""The adapter's cheap paths keep every guarantee (issue 11's speed target).

- the nonce is recorded by one ``INSERT ... ON CONFLICT DO NOTHING``: two requests racing
  with the same signed headers, one of them is refused by the database itself;
- the decrypted secret is kept in process memory, but the credential's row (revocation
  flag, user, ciphertext) is read on every request: a revocation, a deactivated user or a
  new secret takes effect at once;
- expired nonces are deleted at most once a minute, not on every request;
- the gateway check costs two statements;
- a settlement's answer is built from what the settlement step returned, with the same
  breakdown as one read back; a message id used by another credential of the same
  institution is refused by the unique constraint, with a clear reason;
- the answer writer (the standard library's, decimals put in after) writes the bytes the
  Python writer wrote.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import yibao.all_models  # noqa: F401
from tests.conftest import PG_ADMIN_URL, World
from tests.nhsa.conftest import NOW, PASS_ID, SECRET, His, counts, signature
from tests.nhsa.test_outpatient_and_reversal import (
    VISIT_FIGURES,
    outpatient_fees,
    outpatient_input,
    register,
)
from yibao.auth.models import User
from yibao.config import Settings
from yibao.db import begin_for_writing, make_engine, make_session_factory, session_scope
from yibao.encounters import service as encounters
from yibao.encounters.models import Encounter
from yibao.errors import ValidationFailed
from yibao.nhsa import envelope, gateway
from yibao.nhsa.credentials import encrypt_secret, issue_credential, revoke_credential
from yibao.nhsa.envelope import dumps
from yibao.nhsa.gateway import Caller, GatewayRefused, authenticate
from yibao.nhsa.models import GatewayCredential, UsedNonce
from yibao.registry.models import Institution, Person, Region
from yibao.settlements.breakdown import breakdown_of_record, breakdown_of_settled
from yibao.settlements.models import SettlementRecord

KEY = "gateway-cost-test-key-0123456789"


def _headers(*, pass_id: str, secret: str, nonce: str, at: datetime) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    return {
        "x-tif-paasid": pass_id,
        "x-tif-timestamp": stamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": signature(stamp, secret, nonce),
    }


@pytest.fixture(autouse=True)
def _fresh_process_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no secret kept and no purge done yet."""
    monkeypatch.setattr(gateway, "_SECRETS", {})
    monkeypatch.setattr(gateway, "_next_purge", 0.0)


# --- two requests racing with one nonce (a database of its own, committed for real) --------


@pytest.fixture
def own_db(db_backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database of the run's backend: the two requests commit for real."""
    from yibao.db import upgrade_database

    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'nonce-race.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    name = f"yibao_t_nonce_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        upgrade_database(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _credential(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Region(code="460200", name="三亚市", province_code="460000"))
        session.flush()
        hospital = Institution(
            code="H-NONCE-1",
            name="三亚并发医院",
            region_code="460200",
            kind="hospital",
            level=3,
            specialty="general",
            designated=True,
            networked=True,
        )
        session.add(hospital)
        session.flush()
        issue_credential(
            session,
            institution_id=hospital.id,
            secret_key=KEY,
            pass_id="race-1",
            secret=SECRET,
            actor="test",
        )


def _waiting_on_a_lock(engine: Engine) -> bool:
    """PostgreSQL: a backend is waiting for a lock while inserting into nhsa_nonces."""
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%nhsa_nonces%'"
            )
        ).scalar_one()
    return bool(waiting)


def test_two_requests_racing_with_one_nonce_one_is_refused_by_the_database(
    own_db: Engine, db_backend: str
) -> None:
    _credential(own_db)
    factory = make_session_factory(own_db)
    now = datetime.now(UTC)
    headers = _headers(pass_id="race-1", secret=SECRET, nonce="raced-nonce", at=now)
    first_in = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        with session_scope(factory) as session:
            begin_for_writing(session)
            outcome["first"] = authenticate(session, headers=headers, secret_key=KEY, now=now)
            first_in.set()  # the nonce is recorded, not committed yet
            release_first.wait(10)

    def second() -> None:
        try:
            with session_scope(factory) as session:
                begin_for_writing(session)
                outcome["second"] = authenticate(session, headers=headers, secret_key=KEY, now=now)
        except GatewayRefused as exc:
            outcome["second"] = exc.message

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(10)
    two = threading.Thread(target=second)
    two.start()
    # The second request waits for the first one's transaction: PostgreSQL on the unique
    # index of (pass id, nonce), SQLite on the database's write lock.
    deadline = time.monotonic() + 5
    if db_backend == "postgres":
        while not _waiting_on_a_lock(own_db):
            assert time.monotonic() < deadline, "the second insert never waited"
            time.sleep(0.02)
    else:
        time.sleep(0.3)
    assert two.is_alive()  # still waiting
    release_first.set()
    one.join(10)
    two.join(10)
    assert isinstance(outcome["first"], Caller)
    assert outcome["second"] == "gateway: x-tif-nonce 'raced-nonce' was already used (replay)"
    with session_scope(factory) as session:
        used = session.scalar(
            select(func.count()).select_from(UsedNonce).where(UsedNonce.nonce == "raced-nonce")
        )
    assert used == 1


# --- the secret kept in memory, the row read every time --------------------------------------


@pytest.fixture
def credential(session: Session, world: World) -> GatewayCredential:
    issue_credential(
        session,
        institution_id=world.hospital.id,
        secret_key=KEY,
        pass_id="cost-1",
        secret=SECRET,
        actor="test",
    )
    session.flush()
    found = session.scalar(select(GatewayCredential).where(GatewayCredential.pass_id == "cost-1"))
    assert found is not None
    return found


class _Decryptions:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = gateway.decrypt_secret

        def counted(stored: str, *, secret_key: str) -> str | None:
            self.calls += 1
            return real(stored, secret_key=secret_key)

        monkeypatch.setattr(gateway, "decrypt_secret", counted)


def _call(session: Session, nonce: str, *, secret: str = SECRET) -> Caller:
    return authenticate(
        session,
        headers=_headers(pass_id="cost-1", secret=secret, nonce=nonce, at=NOW),
        secret_key=KEY,
        now=NOW,
    )


def test_a_revocation_takes_effect_at_once_with_the_secret_kept(
    session: Session, world: World, credential: GatewayCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    decryptions = _Decryptions(monkeypatch)
    assert _call(session, "r1").institution.id == world.hospital.id
    assert _call(session, "r2").user.id == credential.user_id
    assert decryptions.calls == 1  # the second request used the kept secret
    revoke_credential(session, pass_id="cost-1", actor="test")
    session.flush()
    with pytest.raises(GatewayRefused, match="unknown or revoked x-tif-paasid 'cost-1'"):
        _call(session, "r3")


def test_a_deactivated_user_is_refused_at_once(
    session: Session, credential: GatewayCredential
) -> None:
    _call(session, "u1")
    user = session.get(User, credential.user_id)
    assert user is not None
    user.active = False
    session.flush()
    with pytest.raises(GatewayRefused, match="is not active"):
        _call(session, "u2")


def test_a_new_secret_replaces_the_kept_one_at_once(
    session: Session, credential: GatewayCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    decryptions = _Decryptions(monkeypatch)
    _call(session, "s1")
    credential.secret_encrypted = encrypt_secret("another-secret-0123456789", secret_key=KEY)
    session.flush()
    with pytest.raises(GatewayRefused, match="x-tif-signature does not match"):
        _call(session, "s2")  # the old secret no longer signs
    _call(session, "s3", secret="another-secret-0123456789")
    _call(session, "s4", secret="another-secret-0123456789")
    assert decryptions.calls == 2  # once per stored ciphertext


def test_a_changed_platform_key_is_not_served_from_memory(
    session: Session, credential: GatewayCredential
) -> None:
    _call(session, "k1")
    with pytest.raises(GatewayRefused, match="cannot be read with the platform's secret key"):
        authenticate(
            session,
            headers=_headers(pass_id="cost-1", secret=SECRET, nonce="k2", at=NOW),
            secret_key="another-platform-key-0123456789",
            now=NOW,
        )


# --- expired nonces, statements ------------------------------------------------------------


def _nonce_rows(session: Session) -> set[str]:
    return set(session.scalars(select(UsedNonce.nonce).where(UsedNonce.pass_id == "cost-1")))


def test_expired_nonces_are_deleted_at_most_once_a_minute(
    session: Session, credential: GatewayCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick = [1000.0]
    monkeypatch.setattr(gateway, "_monotonic", lambda: tick[0])
    # kept 600 s: 601 s old is expired, 599 s old is not
    session.add_all(
        [
            UsedNonce(pass_id="cost-1", nonce="old-1", used_at=NOW - timedelta(seconds=601)),
            UsedNonce(pass_id="cost-1", nonce="recent", used_at=NOW - timedelta(seconds=599)),
        ]
    )
    session.flush()
    _call(session, "p1")  # the first request of the process purges
    assert _nonce_rows(session) == {"recent", "p1"}
    session.add(UsedNonce(pass_id="cost-1", nonce="old-2", used_at=NOW - timedelta(seconds=700)))
    session.flush()
    tick[0] = 1059.9  # 59.9 s later: not yet
    _call(session, "p2")
    assert _nonce_rows(session) == {"recent", "p1", "old-2", "p2"}
    tick[0] = 1060.0  # a minute after the last purge
    _call(session, "p3")
    assert _nonce_rows(session) == {"recent", "p1", "p2", "p3"}


def test_the_gateway_check_is_two_statements(
    session: Session, credential: GatewayCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "_next_purge", float("inf"))  # no purge due
    _call(session, "warm")
    statements: list[str] = []
    connection = session.connection()

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(connection, "before_cursor_execute", seen)
    try:
        _call(session, "counted")
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    # the credential with its user and institution; the nonce
    assert statements == ["SELECT", "INSERT"]


# --- the settlement's answer from what the settlement step returned --------------------------


def test_the_answer_of_a_settlement_is_the_one_read_back(
    his: His, patient: Person, session: Session, world: World
) -> None:
    mdtrt_id = register(his, patient)
    outpatient_fees(his, patient, mdtrt_id)
    user = session.scalar(select(User).where(User.name.contains(PASS_ID)))
    assert user is not None
    checked: list[int] = []

    def check(encounter: Encounter) -> date:
        checked.append(encounter.id)
        return date(2026, 5, 12)

    settled = encounters.settle_encounter_checked(
        session,
        encounter_id=int(mdtrt_id),
        institution_id=world.hospital.id,
        check=check,
        msg_id=f"{world.hospital.code}202605120930009999",
        actor=user,
        now=NOW,
    )
    assert checked == [int(mdtrt_id)]
    assert settled.person.id == patient.id and settled.institution.id == world.hospital.id
    assert settled.encounter.state == "settled"
    # the figures of VISIT_FIGURES, the account paid 241.00 of 1,500.00: 1,259.00 after
    fresh = breakdown_of_settled(session, record_=settled.record, result=settled.result)
    read_back = breakdown_of_record(session, record_=settled.record)
    assert fresh == read_back
    assert fresh.pooled_personal_share == D(VISIT_FIGURES["pool_prop_selfpay"])
    assert fresh.balance_after == D("1259.00")
    with pytest.raises(ValueError, match="for a settlement"):
        breakdown_of_settled(
            session,
            record_=SettlementRecord(kind="reversal", account_person_id=None),
            result=settled.result,
        )


def test_a_check_refusing_the_visit_stores_nothing(
    his: His, patient: Person, session: Session, world: World
) -> None:
    mdtrt_id = register(his, patient)
    outpatient_fees(his, patient, mdtrt_id)
    before = counts(session)

    def refuse(encounter: Encounter) -> date:
        raise ValidationFailed(f"not visit {encounter.id}", code="test.refused")

    with pytest.raises(ValidationFailed, match=f"not visit {mdtrt_id}"):
        encounters.settle_encounter_checked(
            session, encounter_id=int(mdtrt_id), institution_id=world.hospital.id, check=refuse
        )
    assert counts(session) == before


def _register_again(his: His, person: Person) -> str:
    """A second visit of the patient (its own visit number)."""
    out = his.ok(
        "2201",
        {
            "data": {
                "psn_no": str(person.id),
                "insutype": "310",
                "begntime": "2026-05-12 09:20:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": person.identity_number,
                "ipt_otp_no": "MZ2026002",
            }
        },
    )
    return str(out["data"]["mdtrt_id"])


def test_a_msgid_used_by_another_credential_of_the_institution_is_refused(
    his: His, patient: Person, session: Session, world: World, settings: Settings
) -> None:
    issue_credential(
        session,
        institution_id=world.hospital.id,
        secret_key=settings.secret_key,
        pass_id="test-sanya-2",
        secret="second-secret-0123456789",
        actor="test",
    )
    session.commit()
    other = His(
        client=his.client,
        code=his.code,
        pass_id="test-sanya-2",
        secret="second-secret-0123456789",
    )
    first_visit = register(his, patient)
    outpatient_fees(his, patient, first_visit)
    second_visit = _register_again(his, patient)
    outpatient_fees(his, patient, second_visit)
    msgid = f"{his.code}202605120930005555"
    his.ok("2207", outpatient_input(patient, first_visit), msgid=msgid)
    before = counts(session)
    # another credential (another user: its own idempotency keys), the same msgid
    answer = other.send("2207", outpatient_input(patient, second_visit), msgid=msgid)
    assert answer["infcode"] == -1
    assert answer["err_msg"] == (
        f"[settlement.duplicate_msg_id] message id {msgid!r} was already used"
    )
    assert counts(session) == before
    session.expire_all()
    assert session.get(Encounter, int(second_visit)).state == "open"


# --- the answer writer -----------------------------------------------------------------------

_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9)
_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from([envelope._MARK, f'x"{envelope._MARK}', "1.5", "2e3", '"', "\\", "三亚"]),
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _decimals, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=20,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(value=_values)
def test_the_writer_writes_the_python_writers_bytes(value: Any) -> None:
    assert dumps(value) == envelope._write(value)


def test_the_writer_keeps_decimals_exact_and_refuses_floats() -> None:
    value = {"a": D("1234.50"), "b": [D("-0.00"), D("1E+3"), 7], "c": envelope._MARK}
    assert dumps(value) == '{"a":1234.50,"b":[-0.00,1000,7],"c":"\ue000yibao-decimal\ue000"}'
    for bad in (1.5, float("nan"), 1e30, {"x": [0.1]}):
        with pytest.raises(TypeError, match="cannot write float"):
            dumps(bad)
    with pytest.raises(TypeError, match="cannot write set"):
        dumps({"s": {1}})
