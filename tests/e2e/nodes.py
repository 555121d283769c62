"""Real server processes for the tests of several nodes and of crashes: ``yibao serve``
started as an operator would, on a PostgreSQL database of the test's own.

A server is started in a process group of its own, so that ``kill`` (SIGKILL to the
group) takes the supervisor and its workers down at once, like a machine losing power,
and ``stop`` (SIGTERM) shuts it down as an operator would.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import PG_ADMIN_URL
from yibao.db import upgrade_database

YIBAO = Path(sys.executable).with_name("yibao")
SERVE_COMMAND = [str(YIBAO), "serve"]
START_TIMEOUT = 180.0  # a loaded machine imports the app slowly


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the latest migration, dropped at the end. Skipped
    when PostgreSQL is not running here, except under CI (``CI=true``), which needs it."""
    name = f"yibao_t_{prefix}_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError:
        admin.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not running here; CI runs this test")
    try:
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``yibao serve`` node on 127.0.0.1, its output kept in ``log``."""

    def __init__(self, url: str, *, upload_dir: Path, log: Path, workers: int = 1) -> None:
        self.url = url
        self.upload_dir = upload_dir
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.starts = 0
        self.start_seconds: list[float] = []  # from start to the first answer, each time

    def start(self, *, wait: bool = True) -> None:
        env = {
            **os.environ,
            "YIBAO_DATABASE_URL": self.url,
            "YIBAO_UPLOAD_DIR": str(self.upload_dir),
            "YIBAO_ENVIRONMENT": "test",
            "YIBAO_LOG_LEVEL": "WARNING",
        }
        args = [*SERVE_COMMAND, "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1
        self.started_at = time.monotonic()
        if wait:
            self.wait_until_answering()

    def wait_until_answering(self, timeout: float = START_TIMEOUT) -> None:
        """Until the app answers HTTP (``/healthz``: the process answers, no database)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"yibao serve exited: {self.tail()}")
            try:
                httpx.get(f"{self.base}/healthz", timeout=2.0)
                self.start_seconds.append(round(time.monotonic() - self.started_at, 1))
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"yibao serve did not answer within {timeout} s: {self.tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: nothing is finished, flushed or closed."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no output)"


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""
