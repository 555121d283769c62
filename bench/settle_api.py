"""Drive the settle endpoint over HTTP against PostgreSQL, then pgbench, and compare.

Run: ``.venv/bin/python bench/settle_api.py [--duration 15] [--clients 1,4,8,16,32]``.

1. A fresh database ``yibao_bench_<random>`` is created, migrated and filled: the demo
   policies of Beijing and the demo catalogs of Beijing and Sanya; 10,000 Beijing-insured
   persons (employees in service and retired, residents) with personal accounts; two
   hospitals (Sanya level 3, networked: off-site; Beijing level 2: local); and a pool of
   open encounters with their fee lines, about 70% outpatient with ~5 lines and 30%
   inpatient with ~40 lines.
2. ``uvicorn`` serves the app in a subprocess on 127.0.0.1 (loopback only).
3. Closed loop: N clients, each on its own keep-alive connection, settle one encounter
   after another for a fixed time (``POST /encounters/{id}/settle`` with an
   Idempotency-Key): throughput and p50/p95/p99 for each N. The best throughput is the
   saturating load.
4. Open loop at half the saturating rate (requests sent on a fixed schedule, latency
   measured from the scheduled time, so queueing counts): p50/p95/p99.
5. pgbench (TPC-B): ``pgbench -i`` into its own scratch database, then ``pgbench -T`` with
   the same duration; the ratio of the two throughputs is printed.
Everything it creates is dropped at the end. ``--profile`` records the server with py-spy
during the saturating level (``--profile-out``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "yibao" / "data"


# --- the machine ------------------------------------------------------------------------


def machine(pg_version: str) -> dict[str, str]:
    return {**describe(), "postgresql": pg_version}


# --- data -------------------------------------------------------------------------------


@dataclass
class Item:
    code: str
    price: str
    settings: str
    min_level: int | None


def catalog_items(region: str) -> list[Item]:
    items = []
    for row in (DATA / "catalogs" / f"{region}.csv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split(",")
        ceiling = cols[6]
        price = ceiling if ceiling else f"{random.uniform(5, 400):.2f}"
        items.append(Item(cols[1], price, cols[7], int(cols[8]) if cols[8] else None))
    return items


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: Any) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


@dataclass
class World:
    hospitals: dict[int, str] = field(default_factory=dict)  # institution id -> token
    encounters: list[tuple[int, int, str]] = field(default_factory=list)  # id, hospital, day


def seed(url: str, *, persons: int, encounters: int, rng: random.Random) -> World:
    from yibao.db import make_engine, session_scope
    from yibao.identity import make_identity_number
    from yibao.policies.service import load_catalog_text, load_policy_text
    from yibao.registry.models import Institution, Region
    from yibao.users.service import create_user

    world = World()
    engine = make_engine(url)
    with session_scope(engine) as session:
        for code, name, province in [
            ("110000", "北京市", "110000"),
            ("460000", "海南省", "460000"),
            ("460200", "三亚市", "460000"),
        ]:
            session.add(Region(code=code, name=name, province_code=province))
        session.flush()
        for path in sorted((DATA / "policies").glob("110000-*.yaml")):
            load_policy_text(
                session, text=path.read_text(encoding="utf-8"), source=str(path), actor="bench"
            )
        for region in ("110000", "460200"):
            path = DATA / "catalogs" / f"{region}.csv"
            load_catalog_text(
                session,
                text=path.read_text(encoding="utf-8"),
                source=str(path),
                effective_from=date(2026, 1, 1),
                actor="bench",
            )
        sanya = Institution(
            code="BENCH-H-SANYA",
            name="三亚基准医院",
            region_code="460200",
            kind="hospital",
            level=3,
            specialty="general",
            designated=True,
            networked=True,
        )
        beijing = Institution(
            code="BENCH-H-BJ",
            name="北京基准医院",
            region_code="110000",
            kind="hospital",
            level=2,
            specialty="general",
            designated=True,
            networked=True,
        )
        session.add_all([sanya, beijing])
        session.flush()
        levels = {sanya.id: 3, beijing.id: 2}
        regions = {sanya.id: "460200", beijing.id: "110000"}
        for hospital in (sanya, beijing):
            world.hospitals[hospital.id] = create_user(
                session, name=f"bench {hospital.code}", role="hospital", institution_id=hospital.id
            ).token
    engine.dispose()

    kinds = [
        ("employee", "in_service", 0.55),
        ("employee", "retired", 0.30),
        ("resident", "adult", 0.15),
    ]
    with psycopg.connect(psycopg_url(url)) as conn:
        rows = []
        for n in range(persons):
            # (birth date, sequence) is unique per person, so the identity numbers are.
            born = date(1940, 1, 1) + timedelta(days=(n // 1000) * 2000 + (n % 1000) * 7)
            pick, acc = rng.random(), 0.0
            scheme, ptype = kinds[-1][:2]
            for s, t, share in kinds:
                acc += share
                if pick < acc:
                    scheme, ptype = s, t
                    break
            number = make_identity_number("110000", born, n % 1000)
            rows.append(
                (
                    n + 1,
                    number,
                    f"参保人{n + 1}",
                    "M" if n % 2 else "F",
                    born,
                    scheme,
                    ptype,
                    "110000",
                    False,
                )
            )
        copy_rows(
            conn,
            "persons",
            [
                "id",
                "identity_number",
                "name",
                "sex",
                "birth_date",
                "scheme",
                "person_type",
                "insured_region",
                "assistance_eligible",
            ],
            rows,
        )
        copy_rows(
            conn,
            "accounts",
            ["person_id", "balance_fen"],
            (
                (pid, rng.randrange(0, 500_000) if scheme == "employee" else 0)
                for pid, _n, _x, _s, _b, scheme, *_ in rows
            ),
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('persons', 'id'), %s)", (persons,))

        items = {region: catalog_items(region) for region in ("110000", "460200")}
        enc_rows = []
        line_rows = []
        for eid in range(1, encounters + 1):
            hospital = rng.choice(list(world.hospitals))
            inpatient = rng.random() < 0.30
            setting = "inpatient" if inpatient else "outpatient"
            start = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
            day = start + timedelta(days=rng.randrange(3, 12)) if inpatient else start
            enc_rows.append(
                (
                    eid,
                    hospital,
                    rng.randrange(1, persons + 1),
                    setting,
                    "open",
                    start,
                    300_000 if inpatient else 0,
                    False,
                )
            )
            n_lines = max(1, int(rng.gauss(40, 8))) if inpatient else max(1, int(rng.gauss(5, 1.5)))
            usable = [
                i
                for i in items[regions[hospital]]
                if i.settings in ("both", setting)
                and (i.min_level is None or i.min_level <= levels[hospital])
            ]
            for ln in range(n_lines):
                item = rng.choice(usable)
                qty = rng.choice((1, 1, 1, 2, 3, 5, 10))
                line_rows.append(
                    (
                        eid,
                        f"L{ln + 1}",
                        1,
                        item.code,
                        qty * 10_000,
                        int(Decimal(item.price) * 10_000),
                        "active",
                    )
                )
            world.encounters.append((eid, hospital, day.isoformat()))
        copy_rows(
            conn,
            "encounters",
            [
                "id",
                "institution_id",
                "person_id",
                "setting",
                "state",
                "started_on",
                "deposit_fen",
                "emergency",
            ],
            enc_rows,
        )
        copy_rows(
            conn,
            "fee_lines",
            [
                "encounter_id",
                "line_id",
                "batch_no",
                "code",
                "quantity_e4",
                "unit_price_e4",
                "state",
            ],
            line_rows,
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('encounters', 'id'), %s)", (encounters,))
        conn.commit()
        # Vacuum the bulk-loaded tables now, so autovacuum does not do it during the levels.
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    rng.shuffle(world.encounters)
    return world


# --- a small HTTP/1.1 keep-alive client (cheap on CPU, so the server gets the cores) -----


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """One request; a connection the server closed is opened again and the request sent
        once more (safe: every request carries its Idempotency-Key)."""
        try:
            return await self._request(path, body, headers)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.writer = None
            return await self._request(path, body, headers)

    async def _request(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        payload = await self.reader.readexactly(length)
        return status, payload


@dataclass
class Level:
    name: str
    clients: int
    seconds: float
    latencies: list[float]
    errors: dict[int, int]
    offered: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: app, postgres, other
    load: float = 0.0  # 1-minute load average when the level started

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def cpu_ms(self, who: str) -> float:
        """CPU milliseconds per settlement spent by ``who`` during this level."""
        done = len(self.latencies)
        return self.cpu.get(who, 0.0) * 1000 / done if done else float("nan")

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] * 1000


class Work:
    """The shared pool of encounters; each is settled once."""

    def __init__(self, encounters: list[tuple[int, int, str]], tokens: dict[int, str]) -> None:
        self.items: Iterator[tuple[int, int, str]] = iter(encounters)
        self.tokens = tokens
        self.used = 0

    def next(self) -> tuple[str, bytes, dict[str, str]] | None:
        item = next(self.items, None)
        if item is None:
            return None
        self.used += 1
        eid, hospital, day = item
        body = json.dumps({"on": day}).encode()
        headers = {
            "Authorization": f"Bearer {self.tokens[hospital]}",
            "Idempotency-Key": f"bench-{eid}-{secrets.token_hex(4)}",
        }
        return f"/api/v1/encounters/{eid}/settle", body, headers


async def closed_loop(port: int, work: Work, clients: int, seconds: float) -> Level:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            job = work.next()
            if job is None:
                return
            t0 = time.perf_counter()
            status, _ = await conn.request(*job)
            if status == 201:
                latencies.append(time.perf_counter() - t0)
            else:
                errors[status] = errors.get(status, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Level(f"closed x{clients}", clients, time.perf_counter() - start, latencies, errors)


async def open_loop(
    port: int, work: Work, rate: float, seconds: float, max_conns: int = 64
) -> Level:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(max_conns):
        idle.put_nowait(Connection("127.0.0.1", port))
    tasks = []

    async def one(scheduled: float, job: tuple[str, bytes, dict[str, str]]) -> None:
        conn = await idle.get()
        try:
            status, _ = await conn.request(*job)
        finally:
            idle.put_nowait(conn)
        if status == 201:
            latencies.append(time.perf_counter() - scheduled)
        else:
            errors[status] = errors.get(status, 0) + 1

    start = time.perf_counter()
    n = 0
    while True:
        scheduled = start + n / rate
        if scheduled - start >= seconds:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        job = work.next()
        if job is None:
            break
        tasks.append(asyncio.create_task(one(scheduled, job)))
        n += 1
    await asyncio.gather(*tasks)
    return Level(f"open {rate:.0f}/s", max_conns, seconds, latencies, errors, offered=rate)


# --- where the CPU goes (Linux /proc) -----------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _machine_busy() -> float:
    """CPU seconds the whole machine spent not idle since boot."""
    cols = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cols[3] + (cols[4] if len(cols) > 4 else 0)
    return (sum(cols[:8]) - idle) / TICK


class CpuMeter:
    """CPU seconds used by the app server (uvicorn and its workers), by the PostgreSQL
    backends serving the benchmark database, and by everything else on the machine
    (the load generator included), between ``start()`` and ``stop()``."""

    def __init__(self, server_pid: int, admin_url: str, database: str) -> None:
        self.server_pid = server_pid
        self.database = database
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.before: dict[str, dict[int, float]] = {}

    def _backends(self) -> list[int]:
        """The client backends serving the benchmark database (autovacuum workers and
        other background processes count as the rest of the machine)."""
        with self.admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = :d AND backend_type = 'client backend'"
                ),
                {"d": self.database},
            )
            return [int(r[0]) for r in rows]

    def _sample(self) -> dict[str, dict[int, float]]:
        app = [self.server_pid, *_children(self.server_pid)]
        return {
            "app": {p: _proc_cpu(p) for p in app},
            "postgres": {p: _proc_cpu(p) for p in self._backends()},
            "machine": {0: _machine_busy()},
        }

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict[str, float]:
        """CPU seconds per kind since ``start()``; per process, so that a backend opened or
        closed meanwhile adds what it used while it was seen (a closed one: nothing)."""
        after = self._sample()
        before = self.before
        used = {
            kind: sum(
                max(0.0, cpu - before.get(kind, {}).get(pid, 0.0)) for pid, cpu in now.items()
            )
            for kind, now in after.items()
        }
        used["other"] = max(0.0, used.pop("machine") - used["app"] - used["postgres"])
        return used


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


# --- the server and pgbench -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "YIBAO_DATABASE_URL": url,
        "YIBAO_ENVIRONMENT": "test",
        "YIBAO_LOG_LEVEL": "WARNING",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "yibao.api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--timeout-keep-alive",
        "120",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def pgbench(admin_url: str, seconds: int, clients: int, scale: int) -> tuple[float, str]:
    exe = shutil.which("pgbench")
    if exe is None:
        raise RuntimeError("pgbench is not installed (apt-get install postgresql-client)")
    name = f"yibao_pgbench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url)
    args = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    try:
        subprocess.run(
            [exe, "-i", "-q", "-s", str(scale), *args, name], check=True, capture_output=True
        )
        out = subprocess.run(
            [
                exe,
                "-T",
                str(seconds),
                "-c",
                str(clients),
                "-j",
                str(min(clients, os.cpu_count() or 1)),
                *args,
                name,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    match = re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1)), out


# --- main -------------------------------------------------------------------------------


def report(level: Level) -> str:
    errors = f"  errors {level.errors}" if level.errors else ""
    cpu = (
        f"  CPU ms/settlement: app {level.cpu_ms('app'):.1f}, postgres"
        f" {level.cpu_ms('postgres'):.1f}, rest of machine {level.cpu_ms('other'):.1f}"
        f"  (load {level.load:.2f})"
        if level.cpu
        else ""
    )
    return (
        f"{level.name:>14}: {level.throughput:8.1f} settlements/s  "
        f"p50 {level.pct(50):6.1f} ms  p95 {level.pct(95):6.1f} ms  p99 {level.pct(99):6.1f} ms"
        f"  (n={len(level.latencies)}){errors}{cpu}"
    )


def measured(meter: CpuMeter, run: Any) -> Level:
    """Run one load level (a coroutine) with the CPU meter and the load average around it."""
    load = _load()
    meter.start()
    level: Level = asyncio.run(run)
    level.cpu = meter.stop()
    level.load = load
    return level


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "YIBAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per load level")
    parser.add_argument("--clients", default="1,4,8,16,32", help="closed-loop client counts")
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument(
        "--encounters", type=int, default=60_000, help="pool settled at most once each"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers")
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="py-spy the server at saturation")
    parser.add_argument("--profile-out", default="var/bench-profile.txt")
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only threads holding the GIL (Python CPU time, not waits)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"yibao_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        pg_version = conn.execute(text("SHOW server_version")).scalar_one()
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    info = machine(str(pg_version))
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    server = None
    try:
        from yibao.db import upgrade_database

        upgrade_database(url)
        t0 = time.perf_counter()
        world = seed(url, persons=args.persons, encounters=args.encounters, rng=rng)
        print(
            f"seeded {args.persons} persons and {args.encounters} encounters"
            f" in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        port = free_port()
        server = start_server(url, port, args.workers)
        work = Work(world.encounters, world.hospitals)
        asyncio.run(closed_loop(port, work, 4, 3.0))  # warm-up: imports, caches, pools
        meter = CpuMeter(server.pid, args.pg_url, name)
        print(f"load average before the levels: {_load():.2f}", flush=True)
        levels: list[Level] = []
        profile_proc = None
        for clients in [int(c) for c in args.clients.split(",")]:
            if args.profile and clients == max(int(c) for c in args.clients.split(",")):
                Path(args.profile_out).parent.mkdir(parents=True, exist_ok=True)
                profile_proc = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(server.pid),
                        "--subprocesses",
                        "--duration",
                        str(int(args.duration)),
                        "--format",
                        "raw",
                        "--output",
                        args.profile_out,
                        "--nonblocking",
                        *(["--gil"] if args.profile_gil else []),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            level = measured(meter, closed_loop(port, work, clients, args.duration))
            levels.append(level)
            print(report(level), flush=True)
            if profile_proc is not None:
                profile_proc.wait(timeout=60)
                profile_proc = None
        best = max(levels, key=lambda lv: lv.throughput)
        half = measured(meter, open_loop(port, work, best.throughput / 2, args.duration))
        meter.admin.dispose()
        print(report(half), flush=True)
        print(f"encounters settled: {work.used} of {args.encounters}", flush=True)
        stop_server(server)
        server = None
        pgbench_load = _load()
        tps, _out = pgbench(
            args.pg_url, int(args.duration), args.pgbench_clients, args.pgbench_scale
        )
        ratio = best.throughput / tps
        print(
            f"pgbench TPC-B (scale {args.pgbench_scale}, {args.pgbench_clients} clients):"
            f" {tps:.1f} tps  (load {pgbench_load:.2f})",
            flush=True,
        )
        print(
            f"settle API at saturation ({best.name}): {best.throughput:.1f}/s"
            f" = {ratio:.3f} of pgbench",
            flush=True,
        )
        print(
            f"p99 at half the saturating load: {half.pct(99):.1f} ms (target <= 50 ms)", flush=True
        )
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "machine": info,
                        "levels": [
                            {
                                "name": lv.name,
                                "throughput": lv.throughput,
                                "p50": lv.pct(50),
                                "p95": lv.pct(95),
                                "p99": lv.pct(99),
                                "errors": lv.errors,
                                "cpu_ms_per_settlement": {
                                    who: lv.cpu_ms(who) for who in ("app", "postgres", "other")
                                },
                                "load": lv.load,
                            }
                            for lv in [*levels, half]
                        ],
                        "pgbench_tps": tps,
                        "ratio": ratio,
                    },
                    indent=2,
                )
            )
    finally:
        if server is not None:
            stop_server(server)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
