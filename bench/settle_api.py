"""Drive settlement over HTTP against PostgreSQL, through the REST API and through the
national interface side by side, then pgbench, and compare.

Run: ``.venv/bin/python bench/settle_api.py [--duration 15] [--clients 1,4,8,16,32]
[--interfaces rest,nhsa] [--rounds 4]``.

1. A fresh database ``yibao_bench_<random>`` is created, migrated and filled: the demo
   policies of Beijing and the demo catalogs of Beijing and Sanya; 10,000 Beijing-insured
   persons (employees in service and retired, residents) with personal accounts; two
   hospitals (Sanya level 3, networked: off-site; Beijing level 2: local), each with a REST
   token and a gateway pass id and secret (``yibao.nhsa.credentials``); and a pool of open
   encounters with their fee lines, about 70% outpatient with ~5 lines and 30% inpatient
   with ~40 lines (a stay's discharge day recorded, as a HIS's 2402 would). With both
   interfaces every visit is seeded twice, the same patient, hospital, day and lines, one
   copy for each interface: each interface settles its own encounters, each once, and the
   two settle the same mix.
2. ``uvicorn`` serves the app in a subprocess on 127.0.0.1 (loopback only).
3. Closed loop: N clients, each on its own keep-alive connection, settle one encounter
   after another for a fixed time: REST ``POST /api/v1/encounters/{id}/settle`` with an
   Idempotency-Key (answer 201), or the national interface's ``POST
   /fsi/api/rsfComIfsService/callService`` with a 2304 (stay) or 2207 (outpatient visit)
   as a HIS sends it: envelope, fresh msgid, signed x-tif-* headers (answer ``infcode`` 0,
   ``bench/nhsa_his.py``). With both interfaces each level is run in short alternating
   rounds (REST, NHSA, NHSA, REST, ...: ``--rounds`` per interface, ``--duration`` in all
   per interface), so that the machine's noise hits both alike; throughput, p50/p95/p99
   and the server's CPU per settlement (app server + PostgreSQL backends, from /proc) per
   interface, and the ratios NHSA/REST. The best throughput is the saturating load.
4. Open loop at half each interface's saturating rate (requests sent on a fixed schedule,
   latency measured from the scheduled time, so queueing counts): p50/p95/p99.
5. pgbench (TPC-B): ``pgbench -i`` into its own scratch database, then ``pgbench -T`` with
   the same duration; the ratio of the throughputs is printed.
Every answer is checked (REST 201; national interface HTTP 200, ``infcode`` 0 and the
visit's ``setlinfo``): the run stops with exit status 1 at the first level with a failure.
Everything it creates is dropped at the end. ``--profile`` records the server with py-spy
during the first round of each interface at the highest client count (``--profile-out``,
one file per interface).
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
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe
from nhsa_his import PATH as NHSA_PATH
from nhsa_his import Hospital, MsgIds, Visit, settlement_failure, settlement_message, sign

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "yibao" / "data"
INTERFACES = ("rest", "nhsa")


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
    hospitals: dict[int, str] = field(default_factory=dict)  # institution id -> REST token
    gateway: dict[int, Hospital] = field(default_factory=dict)  # institution id -> its HIS
    pools: dict[str, list[Visit]] = field(default_factory=dict)  # interface -> its visits


def seed(
    url: str,
    *,
    persons: int,
    encounters: int,
    rng: random.Random,
    interfaces: list[str],
    secret_key: str,
) -> World:
    """The database's content; ``encounters`` in all, each visit once per interface."""
    from yibao.db import make_engine, session_scope
    from yibao.identity import make_identity_number
    from yibao.nhsa.credentials import issue_credential
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
            # The HIS's gateway pass, issued as the demo issues its own (encrypted at rest
            # under the server's YIBAO_SECRET_KEY, which start_server passes on).
            issued = issue_credential(
                session,
                institution_id=hospital.id,
                secret_key=secret_key,
                pass_id=f"bench-{hospital.code.lower()}",
                actor="bench",
            )
            world.gateway[hospital.id] = Hospital(
                code=hospital.code,
                name=hospital.name,
                area=hospital.region_code,
                pass_id=issued.pass_id,
                secret=issued.secret,
            )
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

        # person id -> (identity number, scheme): what the HIS sends as the certificate
        who = {pid: (number, scheme) for pid, number, _x, _s, _b, scheme, *_ in rows}
        items = {region: catalog_items(region) for region in ("110000", "460200")}
        enc_rows = []
        line_rows = []
        groups: list[list[Visit]] = []  # one visit, one copy per interface
        eid = 0
        for _ in range(encounters // len(interfaces)):
            hospital = rng.choice(list(world.hospitals))
            inpatient = rng.random() < 0.30
            setting = "inpatient" if inpatient else "outpatient"
            start = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300))
            day = start + timedelta(days=rng.randrange(3, 12)) if inpatient else start
            person = rng.randrange(1, persons + 1)
            n_lines = max(1, int(rng.gauss(40, 8))) if inpatient else max(1, int(rng.gauss(5, 1.5)))
            usable = [
                i
                for i in items[regions[hospital]]
                if i.settings in ("both", setting)
                and (i.min_level is None or i.min_level <= levels[hospital])
            ]
            lines = []
            for _ln in range(n_lines):
                item = rng.choice(usable)
                qty = rng.choice((1, 1, 1, 2, 3, 5, 10))
                lines.append((item.code, qty * 10_000, int(Decimal(item.price) * 10_000)))
            # Whole quantities, prices in fen: every line's amount is exact, so is the sum.
            total = (Decimal(sum(q * p for _c, q, p in lines)) / 10**8).quantize(Decimal("0.01"))
            group = []
            for _interface in interfaces:
                eid += 1
                enc_rows.append(
                    (
                        eid,
                        hospital,
                        person,
                        setting,
                        "open",
                        start,
                        300_000 if inpatient else 0,
                        False,
                        day if inpatient else None,  # a stay's discharge recorded (2402)
                    )
                )
                for ln, (code, qty_e4, price_e4) in enumerate(lines):
                    line_rows.append((eid, f"L{ln + 1}", 1, code, qty_e4, price_e4, "active"))
                group.append(
                    Visit(
                        id=eid,
                        hospital=hospital,
                        day=day.isoformat(),
                        setting=setting,
                        person=person,
                        identity=who[person][0],
                        scheme=who[person][1],
                        insured_area="110000",
                        total=total,
                    )
                )
            groups.append(group)
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
                "discharged_on",
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
        conn.execute("SELECT setval(pg_get_serial_sequence('encounters', 'id'), %s)", (eid,))
        conn.commit()
        # Vacuum the bulk-loaded tables now, so autovacuum does not do it during the levels.
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    rng.shuffle(groups)
    world.pools = {name: [group[i] for group in groups] for i, name in enumerate(interfaces)}
    return world


# --- a small HTTP/1.1 keep-alive client (cheap on CPU, so the server gets the cores) -----


@dataclass(frozen=True, slots=True)
class Job:
    """One settlement to send: ``headers`` is called for each sending (the gateway's
    signature needs a fresh nonce each time); ``failure`` reads the answer: None when it
    settled, else what went wrong."""

    path: str
    body: bytes
    headers: Callable[[], dict[str, str]]
    failure: Callable[[int, bytes], str | None]


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, job: Job) -> tuple[int, bytes]:
        """One request; a connection the server closed is opened again and the request sent
        once more (safe: REST requests carry their Idempotency-Key, national messages their
        msgid, and the second sending is signed anew)."""
        try:
            return await self._request(job.path, job.body, job.headers())
        except (asyncio.IncompleteReadError, ConnectionError):
            self.writer = None
            return await self._request(job.path, job.body, job.headers())

    async def _request(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if not any(k.lower() == "content-type" for k in headers):
            head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(body)}")
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
    errors: dict[str, int]  # what went wrong -> how many times
    offered: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: app, postgres, other
    load: float = 0.0  # 1-minute load average when the level started
    interface: str = "rest"

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def cpu_ms(self, who: str) -> float:
        """CPU milliseconds per settlement spent by ``who`` during this level (``server``:
        the app server and PostgreSQL together)."""
        done = len(self.latencies)
        if who == "server":
            return self.cpu_ms("app") + self.cpu_ms("postgres")
        return self.cpu.get(who, 0.0) * 1000 / done if done else float("nan")

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] * 1000


def merged(rounds: list[Level]) -> Level:
    """The rounds of one interface at one load as one level: every latency, the seconds
    and CPU seconds added up, the load averages' mean."""
    first = rounds[0]
    errors: dict[str, int] = {}
    cpu: dict[str, float] = {}
    for lv in rounds:
        for k, n in lv.errors.items():
            errors[k] = errors.get(k, 0) + n
        for k, v in lv.cpu.items():
            cpu[k] = cpu.get(k, 0.0) + v
    return Level(
        name=first.name,
        clients=first.clients,
        seconds=sum(lv.seconds for lv in rounds),
        latencies=[t for lv in rounds for t in lv.latencies],
        errors=errors,
        offered=first.offered,
        cpu=cpu,
        load=sum(lv.load for lv in rounds) / len(rounds),
        interface=first.interface,
    )


class Work:
    """One interface's pool of visits; each is settled once."""

    interface = ""

    def __init__(self, visits: list[Visit]) -> None:
        self.items: Iterator[Visit] = iter(visits)
        self.size = len(visits)
        self.used = 0

    def next(self) -> Job | None:
        visit = next(self.items, None)
        if visit is None:
            return None
        self.used += 1
        return self.job(visit)

    def job(self, visit: Visit) -> Job:
        raise NotImplementedError


def _rest_failure(status: int, payload: bytes) -> str | None:
    if status == 201:
        return None
    return f"HTTP {status}: {payload[:160].decode('utf-8', 'replace')}"


class RestWork(Work):
    """``POST /api/v1/encounters/{id}/settle`` with the hospital's token."""

    interface = "rest"

    def __init__(self, visits: list[Visit], tokens: dict[int, str]) -> None:
        super().__init__(visits)
        self.tokens = tokens

    def job(self, visit: Visit) -> Job:
        body = json.dumps({"on": visit.day}).encode()
        headers = {
            "Authorization": f"Bearer {self.tokens[visit.hospital]}",
            "Idempotency-Key": f"bench-{visit.id}-{secrets.token_hex(4)}",
        }
        return Job(f"/api/v1/encounters/{visit.id}/settle", body, lambda: headers, _rest_failure)


class NhsaWork(Work):
    """The national interface: 2304 for a stay, 2207 for an outpatient visit, as the
    hospital's HIS sends them (``bench/nhsa_his.py``)."""

    interface = "nhsa"

    def __init__(self, visits: list[Visit], gateway: dict[int, Hospital]) -> None:
        super().__init__(visits)
        self.gateway = gateway
        self.msgids = MsgIds()

    def job(self, visit: Visit) -> Job:
        his = self.gateway[visit.hospital]
        now = datetime.now(UTC)
        body = settlement_message(his, visit, self.msgids.next(his.code, now), now)

        def headers() -> dict[str, str]:
            return {
                "Content-Type": "application/json;charset=utf-8",
                "x-tif-paasid": his.pass_id,
                **sign(his.secret),
            }

        def failure(status: int, payload: bytes) -> str | None:
            return settlement_failure(visit, status, payload)

        return Job(NHSA_PATH, body, headers, failure)


async def closed_loop(port: int, work: Work, clients: int, seconds: float) -> Level:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            job = work.next()
            if job is None:
                return
            t0 = time.perf_counter()
            status, payload = await conn.request(job)
            elapsed = time.perf_counter() - t0
            failed = job.failure(status, payload)
            if failed is None:
                latencies.append(elapsed)
            else:
                errors[failed] = errors.get(failed, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Level(
        f"closed x{clients}",
        clients,
        time.perf_counter() - start,
        latencies,
        errors,
        interface=work.interface,
    )


async def open_loop(
    port: int, work: Work, rate: float, seconds: float, max_conns: int = 64
) -> Level:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(max_conns):
        idle.put_nowait(Connection("127.0.0.1", port))
    tasks = []

    async def one(scheduled: float, job: Job) -> None:
        conn = await idle.get()
        try:
            status, payload = await conn.request(job)
        finally:
            idle.put_nowait(conn)
        done = time.perf_counter()
        failed = job.failure(status, payload)
        if failed is None:
            latencies.append(done - scheduled)
        else:
            errors[failed] = errors.get(failed, 0) + 1

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
    return Level(
        f"open {rate:.0f}/s",
        max_conns,
        seconds,
        latencies,
        errors,
        offered=rate,
        interface=work.interface,
    )


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


def start_server(url: str, port: int, workers: int, secret_key: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "YIBAO_DATABASE_URL": url,
        "YIBAO_ENVIRONMENT": "test",
        "YIBAO_LOG_LEVEL": "WARNING",
        "YIBAO_SECRET_KEY": secret_key,  # the key the gateway credentials were sealed with
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


class Failed(Exception):
    """A level with answers that did not settle: its figures are not comparable."""


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
        f"{level.interface:>4} {level.name:>14}: {level.throughput:8.1f} settlements/s  "
        f"p50 {level.pct(50):6.1f} ms  p95 {level.pct(95):6.1f} ms  p99 {level.pct(99):6.1f} ms"
        f"  (n={len(level.latencies)}){errors}{cpu}"
    )


def checked(level: Level) -> Level:
    """The level, when every answer settled; :class:`Failed` otherwise."""
    if level.errors:
        count = sum(level.errors.values())
        kinds = "\n".join(f"  {n} x {what}" for what, n in sorted(level.errors.items())[:10])
        raise Failed(
            f"{level.interface} {level.name}: {count} of {count + len(level.latencies)}"
            f" answers did not settle:\n{kinds}"
        )
    return level


def measured(meter: CpuMeter, run: Any) -> Level:
    """Run one load level (a coroutine) with the CPU meter and the load average around it."""
    load = _load()
    meter.start()
    level: Level = asyncio.run(run)
    level.cpu = meter.stop()
    level.load = load
    return level


def py_spy(pid: int, seconds: float, out: Path, gil: bool) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--duration",
            str(max(1, int(seconds))),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            *(["--gil"] if gil else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile_path(base: str, interface: str, several: bool) -> Path:
    path = Path(base)
    return path.with_name(f"{path.stem}-{interface}{path.suffix}") if several else path


def in_rounds(
    meter: CpuMeter,
    interfaces: list[str],
    rounds: int,
    make: Callable[[str], Coroutine[Any, Any, Level]],
    profile: Callable[[str], subprocess.Popen[bytes]] | None = None,
) -> dict[str, list[Level]]:
    """Each interface ``rounds`` times, alternating (A B, B A, A B, ...: a drift of the
    machine's load hits both alike); every round checked and printed as it ends."""
    out: dict[str, list[Level]] = {name: [] for name in interfaces}
    for r in range(rounds):
        for name in interfaces if r % 2 == 0 else interfaces[::-1]:
            spy = profile(name) if profile is not None and r == 0 else None
            level = measured(meter, make(name))
            if spy is not None:
                spy.wait(timeout=60)
            print(report(level) + (f"  [round {r + 1}]" if rounds > 1 else ""), flush=True)
            out[name].append(checked(level))
    return out


def ratios(rest: Level, nhsa: Level) -> dict[str, float]:
    """NHSA / REST: server CPU per settlement (app + PostgreSQL), app, PostgreSQL,
    throughput."""
    return {
        "cpu_server": nhsa.cpu_ms("server") / rest.cpu_ms("server"),
        "cpu_app": nhsa.cpu_ms("app") / rest.cpu_ms("app"),
        "cpu_postgres": nhsa.cpu_ms("postgres") / rest.cpu_ms("postgres"),
        "throughput": nhsa.throughput / rest.throughput,
    }


def table(rows: list[Level]) -> str:
    out = [
        "| interface | load | settlements/s | p50 ms | p95 ms | p99 ms |"
        " CPU ms/settlement: app / PostgreSQL / app+PG | rest of machine | load avg |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for lv in rows:
        out.append(
            f"| {lv.interface} | {lv.name} | {lv.throughput:.1f} | {lv.pct(50):.1f} |"
            f" {lv.pct(95):.1f} | {lv.pct(99):.1f} | {lv.cpu_ms('app'):.2f} /"
            f" {lv.cpu_ms('postgres'):.2f} / **{lv.cpu_ms('server'):.2f}** |"
            f" {lv.cpu_ms('other'):.2f} | {lv.load:.2f} |"
        )
    return "\n".join(out)


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
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds per load level and interface"
    )
    parser.add_argument("--clients", default="1,4,8,16,32", help="closed-loop client counts")
    parser.add_argument(
        "--interfaces",
        default="rest,nhsa",
        help="what settles: rest (POST /api/v1/encounters/{id}/settle), nhsa (the national"
        " interface's 2304/2207), or both, compared",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="alternating rounds per interface and level, of --duration/--rounds seconds"
        " each (default: 4 with two interfaces, 1 with one)",
    )
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument(
        "--encounters",
        type=int,
        default=60_000,
        help="pool settled at most once each (shared out among the interfaces)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn workers")
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server at the highest client count (first round of each interface)",
    )
    parser.add_argument(
        "--profile-out",
        default="var/bench-profile.txt",
        help="with two interfaces, -rest / -nhsa is added to the file name",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="sample only threads holding the GIL (Python CPU time, not waits)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    interfaces = list(dict.fromkeys(i.strip() for i in args.interfaces.split(",") if i.strip()))
    if not interfaces or any(i not in INTERFACES for i in interfaces):
        parser.error(f"--interfaces: a comma-separated choice of {', '.join(INTERFACES)}")
    rounds = args.rounds if args.rounds is not None else (4 if len(interfaces) > 1 else 1)
    if rounds < 1:
        parser.error("--rounds: at least 1")
    round_seconds = args.duration / rounds
    counts = [int(c) for c in args.clients.split(",")]

    rng = random.Random(args.seed)
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"yibao_bench_{secrets.token_hex(4)}"
    secret_key = secrets.token_urlsafe(32)
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
        world = seed(
            url,
            persons=args.persons,
            encounters=args.encounters,
            rng=rng,
            interfaces=interfaces,
            secret_key=secret_key,
        )
        print(
            f"seeded {args.persons} persons and {args.encounters} encounters"
            f" ({', '.join(f'{len(world.pools[i])} for {i}' for i in interfaces)})"
            f" in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        port = free_port()
        server = start_server(url, port, args.workers, secret_key)
        works: dict[str, Work] = {}
        for iface in interfaces:
            works[iface] = (
                RestWork(world.pools[iface], world.hospitals)
                if iface == "rest"
                else NhsaWork(world.pools[iface], world.gateway)
            )
            # warm-up: imports, caches, pools; its answers are checked too
            checked(asyncio.run(closed_loop(port, works[iface], 4, 3.0)))
        meter = CpuMeter(server.pid, args.pg_url, name)
        print(
            f"load average before the levels: {_load():.2f}; {rounds} round(s) of"
            f" {round_seconds:.1f} s per interface and level",
            flush=True,
        )
        levels: dict[str, list[Level]] = {i: [] for i in interfaces}
        per_round: list[dict[str, list[Level]]] = []
        server_pid = server.pid
        for clients in counts:

            def closed(iface: str, clients: int = clients) -> Coroutine[Any, Any, Level]:
                return closed_loop(port, works[iface], clients, round_seconds)

            def spy(iface: str) -> subprocess.Popen[bytes]:
                out = profile_path(args.profile_out, iface, len(interfaces) > 1)
                return py_spy(server_pid, round_seconds, out, args.profile_gil)

            profile = spy if args.profile and clients == max(counts) else None
            done = in_rounds(meter, interfaces, rounds, closed, profile)
            per_round.append(done)
            for iface in interfaces:
                levels[iface].append(merged(done[iface]))
        best = {i: max(levels[i], key=lambda lv: lv.throughput) for i in interfaces}

        def half(iface: str) -> Coroutine[Any, Any, Level]:
            return open_loop(port, works[iface], best[iface].throughput / 2, round_seconds)

        open_rounds = in_rounds(meter, interfaces, rounds, half)
        halves = {i: merged(open_rounds[i]) for i in interfaces}
        meter.admin.dispose()
        for iface in interfaces:
            work = works[iface]
            print(f"{iface}: encounters settled {work.used} of {work.size}", flush=True)
            if work.used >= work.size:
                print(f"WARNING: the {iface} pool ran out; raise --encounters", flush=True)
        stop_server(server)
        server = None
        pgbench_load = _load()
        tps, _out = pgbench(
            args.pg_url, int(args.duration), args.pgbench_clients, args.pgbench_scale
        )
        print(flush=True)
        summary = [lv for n, _c in enumerate(counts) for lv in (levels[i][n] for i in interfaces)]
        summary += [halves[i] for i in interfaces]
        print(table(summary), flush=True)
        print(
            f"pgbench TPC-B (scale {args.pgbench_scale}, {args.pgbench_clients} clients):"
            f" {tps:.1f} tps  (load {pgbench_load:.2f})",
            flush=True,
        )
        for iface in interfaces:
            b = best[iface]
            print(
                f"{iface} settle at saturation ({b.name}): {b.throughput:.1f}/s"
                f" = {b.throughput / tps:.3f} of pgbench; p99 at half that load:"
                f" {halves[iface].pct(99):.1f} ms (target <= 50 ms)",
                flush=True,
            )
        compared: list[dict[str, Any]] = []
        if "rest" in interfaces and "nhsa" in interfaces:
            for n, clients in enumerate(counts):
                r = ratios(levels["rest"][n], levels["nhsa"][n])
                pairs = [
                    ratios(a, b)["cpu_server"]
                    for a, b in zip(per_round[n]["rest"], per_round[n]["nhsa"], strict=True)
                ]
                compared.append({"clients": clients, **r, "cpu_server_rounds": pairs})
                print(
                    f"NHSA/REST at closed x{clients}: server CPU per settlement"
                    f" {r['cpu_server']:.3f} (app {r['cpu_app']:.3f}, PostgreSQL"
                    f" {r['cpu_postgres']:.3f}; round pairs {min(pairs):.3f}-{max(pairs):.3f}),"
                    f" throughput {r['throughput']:.3f}",
                    flush=True,
                )
            r = ratios(halves["rest"], halves["nhsa"])
            pairs = [
                ratios(a, b)["cpu_server"]
                for a, b in zip(open_rounds["rest"], open_rounds["nhsa"], strict=True)
            ]
            compared.append({"clients": "open", **r, "cpu_server_rounds": pairs})
            print(
                f"NHSA/REST in the open loop: server CPU per settlement {r['cpu_server']:.3f}"
                f" (app {r['cpu_app']:.3f}, PostgreSQL {r['cpu_postgres']:.3f}; round pairs"
                f" {min(pairs):.3f}-{max(pairs):.3f})",
                flush=True,
            )
            overall = sum(c["cpu_server"] for c in compared) / len(compared)
            print(
                f"the adapter's CPU per settlement: {100 * (overall - 1):+.1f}% over REST"
                f" (mean of the levels; target <= +10%):"
                f" {'met' if overall <= 1.10 else 'NOT met'}",
                flush=True,
            )
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "machine": info,
                        "rounds": rounds,
                        "round_seconds": round_seconds,
                        "levels": [
                            {
                                "interface": lv.interface,
                                "name": lv.name,
                                "throughput": lv.throughput,
                                "p50": lv.pct(50),
                                "p95": lv.pct(95),
                                "p99": lv.pct(99),
                                "errors": lv.errors,
                                "cpu_ms_per_settlement": {
                                    who: lv.cpu_ms(who)
                                    for who in ("app", "postgres", "server", "other")
                                },
                                "load": lv.load,
                            }
                            for lv in summary
                        ],
                        "pgbench_tps": tps,
                        "ratio_to_pgbench": {i: best[i].throughput / tps for i in interfaces},
                        "nhsa_over_rest": compared,
                    },
                    indent=2,
                )
            )
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if server is not None:
            stop_server(server)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
