"""Two sweeps of the claim checks over the same subject at once (two reviews, a review and a
clearing build) take turns on the subject's run row instead of both inserting it (which
failed with a duplicate key, a 409 to one of the reviewers)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from tests.fresh_db import fresh_database
from yibao.claim_checks import repository as repo
from yibao.claim_checks.models import AuditRun
from yibao.db import make_engine, session_scope

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_concurrent_claims_of_one_run_row_take_turns(tmp_path: Path) -> None:
    with fresh_database(tmp_path, "runs") as url:
        engine = make_engine(url)
        first_holds = threading.Event()
        release = threading.Event()
        order: list[str] = []
        errors: list[BaseException] = []

        def first() -> None:
            try:
                with session_scope(engine) as session:
                    repo.claim_run(session, subject_kind="settlement", subject_id=7, at=AT)
                    order.append("first claimed")
                    first_holds.set()
                    release.wait(10)
                    order.append("first commits")
            except BaseException as exc:  # reported below
                errors.append(exc)
                first_holds.set()

        def second() -> None:
            try:
                first_holds.wait(10)
                with session_scope(engine) as session:
                    run = repo.claim_run(session, subject_kind="settlement", subject_id=7, at=AT)
                    order.append("second claimed")
                    run.findings = 2
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        first_holds.wait(10)
        # the second waits on the first's row (PostgreSQL's row lock, SQLite's one writer)
        threads[1].join(1.0)
        assert threads[1].is_alive(), "the second did not wait for the first"
        release.set()
        for t in threads:
            t.join(30)
        engine_dialect = engine.dialect.name
        with session_scope(engine) as session:
            rows = session.scalar(select(func.count()).select_from(AuditRun))
            findings = session.scalar(select(AuditRun.findings))
        engine.dispose()
        assert not errors, (engine_dialect, errors)
        assert order == ["first claimed", "first commits", "second claimed"]
        assert (rows, findings) == (1, 2)
