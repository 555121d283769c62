"""The audit log as a hash chain: every committed entry is linked, in commit order; an entry
changed, removed or written around the platform is named by ``verify_chain`` and by
``yibao audit verify`` (exit 1); concurrent writers never fork the chain."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.fresh_db import empty_database, fresh_database
from yibao.audit.hashing import GENESIS, entry_hash
from yibao.audit.models import AuditChainLink, AuditEntry
from yibao.audit.service import record, seal_pending, verify_chain
from yibao.cli.main import app as cli_app
from yibao.db import alembic_config, make_engine, session_scope, upgrade_database


def _record(session: Session, n: int, **extra: Any) -> AuditEntry:
    return record(
        session,
        actor="test",
        action="probe.changed",
        entity="probe",
        entity_id=n,
        before={"n": n, **extra},
        after={"n": n + 1, "note": "改了"},
    )


def _links(session: Session) -> list[AuditChainLink]:
    return list(session.scalars(select(AuditChainLink).order_by(AuditChainLink.seq)))


def _unprotected(session: Session, backend: str, sql: str, **params: Any) -> None:
    """Run ``sql`` against the append-only tables as their owner would, triggers off
    (inside the test's transaction: rolled back with it)."""
    if backend == "postgres":
        for table in ("audit_log", "audit_chain"):
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        session.execute(text(sql), params)
        for table in ("audit_log", "audit_chain"):
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    else:
        for table in ("audit_log", "audit_chain"):
            for event in ("update", "delete"):
                session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{event}"))
        session.execute(text(sql), params)


def test_committed_entries_are_linked_in_order(session: Session) -> None:
    entries = [_record(session, n) for n in range(3)]
    assert not session.scalars(
        select(AuditChainLink).where(AuditChainLink.entry_id.in_([e.id for e in entries]))
    ).all()  # not sealed before the commit
    session.commit()
    links = _links(session)
    assert [link.entry_id for link in links[-3:]] == [e.id for e in entries]
    assert [link.seq for link in links] == list(range(1, len(links) + 1))
    prev = GENESIS
    for link in links:
        assert link.prev_hash == prev
        prev = link.hash
    stored = session.execute(select(AuditEntry.__table__).where(AuditEntry.id == entries[-1].id))
    assert links[-1].hash == entry_hash(stored.one()._mapping, links[-2].hash)
    report = verify_chain(session)
    assert report.intact, report.broken
    assert (report.head_seq, report.head_hash) == (links[-1].seq, links[-1].hash)


def test_entries_rolled_back_with_a_savepoint_are_not_sealed(session: Session) -> None:
    kept = _record(session, 1)
    with pytest.raises(RuntimeError), session.begin_nested():
        _record(session, 2)
        raise RuntimeError("undo")
    also_kept = _record(session, 3)
    session.commit()
    sealed = [link.entry_id for link in _links(session)]
    assert sealed[-2:] == [kept.id, also_kept.id]
    assert verify_chain(session).intact


def test_a_rolled_back_transaction_leaves_nothing_to_seal(session: Session) -> None:
    before = len(_links(session))
    _record(session, 1)
    session.rollback()
    assert seal_pending(session) == 0
    session.commit()
    assert len(_links(session)) == before
    assert verify_chain(session).intact


def test_a_changed_entry_is_named(session: Session, db_backend: str) -> None:
    entries = [_record(session, n) for n in range(4)]
    session.commit()
    victim = entries[1]
    _unprotected(
        session,
        db_backend,
        "UPDATE audit_log SET actor = 'someone else' WHERE id = :id",
        id=victim.id,
    )
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.entry_id == victim.id
    assert "changed after it was written" in report.broken.problem


def test_a_removed_entry_is_named_by_the_gap(session: Session, db_backend: str) -> None:
    entries = [_record(session, n) for n in range(4)]
    session.commit()
    victim = entries[2]
    seq = session.scalar(select(AuditChainLink.seq).where(AuditChainLink.entry_id == victim.id))
    _unprotected(session, db_backend, "DELETE FROM audit_chain WHERE entry_id = :id", id=victim.id)
    _unprotected(session, db_backend, "DELETE FROM audit_log WHERE id = :id", id=victim.id)
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.entry_id == entries[3].id
    assert report.broken.seq == (seq or 0) + 1
    assert "missing" in report.broken.problem


def test_a_rehashed_entry_breaks_the_next_link(session: Session, db_backend: str) -> None:
    """Changing an entry and recomputing its own link still shows at the next one."""
    entries = [_record(session, n) for n in range(3)]
    session.commit()
    links = {link.entry_id: link for link in _links(session)}
    victim = entries[1]
    _unprotected(
        session, db_backend, "UPDATE audit_log SET action = 'probe.nothing' WHERE id = :id",
        id=victim.id,
    )  # fmt: skip
    row = session.execute(select(AuditEntry.__table__).where(AuditEntry.id == victim.id)).one()
    _unprotected(
        session, db_backend, "UPDATE audit_chain SET hash = :h WHERE entry_id = :id",
        h=entry_hash(row._mapping, links[victim.id].prev_hash), id=victim.id,
    )  # fmt: skip
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.entry_id == entries[2].id
    assert "does not follow the previous one" in report.broken.problem


def test_an_entry_written_around_the_platform_is_named(session: Session) -> None:
    _record(session, 1)
    session.commit()
    session.execute(
        text(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id) "
            "VALUES (CURRENT_TIMESTAMP, 'intruder', 'probe.forged', 'probe', '9')"
        )
    )
    forged = session.scalar(select(func.max(AuditEntry.id)))
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.entry_id == forged
    assert "not in the chain" in report.broken.problem


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.dictionaries(st.text(max_size=8), json_values, max_size=5), actor=st.text(max_size=40)
)
def test_any_entry_round_trips_to_the_same_hash(
    session: Session, before: dict[str, Any], actor: str
) -> None:
    """Whatever JSON an entry holds, the hash sealed at commit is the one recomputed from
    the stored row (floats, nesting, any Unicode)."""
    with session.begin_nested():
        record(
            session,
            actor=actor.replace("\x00", "") or "x",
            action="probe.any",
            entity="probe",
            entity_id="x",
            before=before,
            after=None,
        )
        seal_pending(session)
        report = verify_chain(session)
        assert report.intact, report.broken
        session.rollback()


def test_concurrent_writers_never_fork_the_chain(tmp_path: Path) -> None:
    threads, commits = 6, 8
    with fresh_database(tmp_path, "chain") as url:
        engine = make_engine(url)
        errors: list[BaseException] = []
        start = threading.Barrier(threads)

        def write(worker: int) -> None:
            try:
                start.wait()
                for n in range(commits):
                    with session_scope(engine) as s:
                        _record(s, worker * 100 + n)
                        _record(s, worker * 100 + n, second=True)
            except BaseException as exc:  # reported below
                errors.append(exc)

        pool = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors, errors
        with Session(engine) as s:
            report = verify_chain(s)
            assert report.intact, report.broken
            assert report.links == report.head_seq == threads * commits * 2
        engine.dispose()


def _cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args), env={"YIBAO_DATABASE_URL": url})


def test_yibao_audit_verify_names_the_first_broken_entry(tmp_path: Path, db_backend: str) -> None:
    with fresh_database(tmp_path, "cli") as url:
        engine = make_engine(url)
        with session_scope(engine) as s:
            ids = [_record(s, n).id for n in range(5)]
        result = _cli(url, "audit", "verify")
        assert result.exit_code == 0, result.output
        assert "intact: 5 entries" in result.output
        with session_scope(engine) as s:
            _unprotected(
                s, db_backend, "UPDATE audit_log SET after = NULL WHERE id IN (:a, :b)",
                a=ids[1], b=ids[3],
            )  # fmt: skip
        result = _cli(url, "audit", "verify")
        assert result.exit_code == 1, result.output
        assert f"BROKEN at entry {ids[1]} " in result.output
        assert "changed after it was written" in result.output
        engine.dispose()


def test_the_migration_chains_the_entries_written_before_it(tmp_path: Path) -> None:
    with empty_database(tmp_path, "mig") as url:
        config = alembic_config(url)
        command.upgrade(config, "0017_token_lifecycle")
        engine: Engine = make_engine(url)
        with engine.begin() as conn:
            for n in range(7):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, action, entity, entity_id, after) "
                        "VALUES (CURRENT_TIMESTAMP, 'old', 'probe.old', 'probe', :n, :after)"
                    ),
                    {"n": str(n), "after": json.dumps({"n": n, "名": "旧"}, ensure_ascii=False)},
                )
        upgrade_database(url)
        with Session(engine) as s:
            report = verify_chain(s)
            assert report.intact, report.broken
            assert report.links == 7
            order = s.scalars(select(AuditChainLink.entry_id).order_by(AuditChainLink.seq)).all()
            assert order == sorted(order)
            _record(s, 99)
            s.commit()
            assert verify_chain(s).links == 8
        engine.dispose()
