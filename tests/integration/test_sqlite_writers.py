"""On the embedded SQLite database, two writing requests wait for each other.

Without ``begin_for_writing`` both would read under a shared lock and the second to write
would fail at once with "database is locked" (SQLite cannot upgrade that lock by waiting).
This uses its own SQLite file, whatever backend the suite runs on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from yibao.db import begin_for_writing, make_engine, make_session_factory, session_scope


def _writer(
    factory: sessionmaker[Session], errors: list[BaseException], *, immediate: bool
) -> None:
    try:
        with session_scope(factory) as session:
            if immediate:
                begin_for_writing(session)
            value = session.execute(text("SELECT n FROM counter")).scalar_one()
            time.sleep(0.2)  # both hold their transaction open at the same time
            session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
    except BaseException as exc:  # collected for the assertion
        errors.append(exc)


def _run(tmp_path: Path, *, immediate: bool) -> tuple[int, list[BaseException]]:
    engine = make_engine(f"sqlite:///{tmp_path / f'w{immediate}.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    factory = make_session_factory(engine)
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(factory, errors), kwargs={"immediate": immediate})
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        final = conn.execute(text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    return final, errors


def test_writers_that_begin_for_writing_wait_for_each_other(tmp_path: Path) -> None:
    final, errors = _run(tmp_path, immediate=True)
    assert errors == [] and final == 2  # no lost update, no error


def test_without_it_one_writer_fails_or_an_update_is_lost(tmp_path: Path) -> None:
    final, errors = _run(tmp_path, immediate=False)
    assert errors or final != 2
