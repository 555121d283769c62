"""The main pages over HTTP against a large PostgreSQL database: p50/p95 per page.

Run: ``.venv/bin/python bench/pages.py [--filings 100000 --settlements 500000 --claims 100000]``
(``make bench-pages``).

1. A fresh database ``yibao_pages_<random>`` is created, migrated and loaded with the demo
   (regions, agencies, institutions, policies, catalogs, persons, users with their
   passwords, filings, settlements and claims made by the real services).
2. Volume is added in SQL from those rows: persons, then filings, settlements with their
   lines and reimbursement claims, each a copy of a demo row of the same kind with a new
   id, person, date and message id (``generate_series``; nothing computed in Python). The
   demo's own users see a realistic share: the Sanya hospital made most settlements,
   the Beijing centre reviews the filings and claims of Beijing's insured, the demo
   retiree has a few hundred settlements.
3. ``uvicorn`` serves the app in a subprocess (one worker); each audience signs in through
   the login form and fetches its main pages one after another (``--requests`` times
   each, after a warm-up): p50, p95 and the largest, with the status of every answer
   checked.
4. References in the same run: the landing page (no database) and ``pgbench -S`` (one
   client, select-only) for what one indexed query costs on this machine now.
Everything it creates is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe
from settle_api import free_port, start_server, stop_server

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- volume --------------------------------------------------------------------------------


def columns(conn: Connection, table: str) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = :t ORDER BY ordinal_position"
            ),
            {"t": table},
        ).scalars()
    )


def clone(
    conn: Connection,
    table: str,
    *,
    count: int,
    templates: str,
    replace: dict[str, str],
) -> tuple[int, int]:
    """Insert ``count`` copies of the rows ``templates`` selects (cycled), each column taken
    from the template unless ``replace`` gives an SQL expression over ``g`` (1..count, the
    copy's number), ``t`` (the template row) and ``base`` (the first new id minus 1).
    Returns (first new id, template count)."""
    conn.execute(text(f"CREATE TEMP TABLE tpl AS {templates}"))
    conn.execute(text("ALTER TABLE tpl ADD COLUMN tpl_no serial"))
    k = conn.execute(text("SELECT count(*) FROM tpl")).scalar_one()
    if not k:
        raise RuntimeError(f"no template rows for {table}")
    base = conn.execute(text(f"SELECT coalesce(max(id), 0) + 1000 FROM {table}")).scalar_one()
    cols = columns(conn, table)
    exprs = []
    for col in cols:
        if col == "id":
            exprs.append(f"{base} + g")
        elif col in replace:
            exprs.append(replace[col].replace("base", str(base)))
        else:
            exprs.append(f"t.{col}")
    conn.execute(
        text(
            f"INSERT INTO {table} ({', '.join(cols)}) "
            f"SELECT {', '.join(exprs)} FROM generate_series(1, {count}) AS g "
            f"JOIN tpl AS t ON t.tpl_no = 1 + (g % {k})"
        )
    )
    conn.execute(text("DROP TABLE tpl"))
    if "id" in cols:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )
    return base + 1, k


def add_volume(url: str, *, persons: int, filings: int, settlements: int, claims: int) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        person0, _ = clone(
            conn,
            "persons",
            count=persons,
            templates="SELECT * FROM persons WHERE insured_region = '110000' ORDER BY id",
            replace={
                "identity_number": "'1101051960' || lpad(g::text, 7, '0') || 'X'",
                "card_number": "'BENCH' || g",
                "name": "'测试' || g",
                **({"phone": "NULL"} if "phone" in columns(conn, "persons") else {}),
            },
        )
        conn.execute(
            text(
                f"INSERT INTO accounts (person_id, balance_fen) "
                f"SELECT id, 100000 FROM persons WHERE id >= {person0}"
            )
        )
        # one filing per copied person (some persons get two): Beijing insured, to Sanya
        clone(
            conn,
            "filings",
            count=filings,
            templates="SELECT * FROM filings WHERE insured_region = '110000' ORDER BY id",
            replace={
                "person_id": f"{person0} + (g % {persons})",
                "number": "CASE WHEN t.number IS NULL THEN NULL ELSE 'B' || g END",
                "created_at": "t.created_at - (g % 700) * interval '1 hour'",
                "submitted_on": "t.submitted_on - (g % 300)",
            },
        )
        # settlements: 80 % at the Sanya hospital, the demo retiree gets 300
        wang = conn.execute(
            text("SELECT person_id FROM users WHERE login = 'insured'")
        ).scalar_one()
        first, _ = clone(
            conn,
            "settlements",
            count=settlements,
            templates=(
                "SELECT * FROM settlements WHERE state = 'settled' AND kind = 'settlement' "
                "AND institution_id IS NOT NULL ORDER BY id"
            ),
            replace={
                "person_id": (
                    f"CASE WHEN g <= 300 THEN {wang} ELSE {person0} + (g % {persons}) END"
                ),
                # the account paid is the settled person's own (a CHECK names the payer)
                "account_person_id": (
                    "CASE WHEN t.account_pay_fen = 0 THEN NULL WHEN g <= 300 THEN "
                    f"{wang} ELSE {person0} + (g % {persons}) END"
                ),
                "encounter_id": "NULL",
                "msg_id": "'BENCH-' || g",
                "invoice_no": "'BENCH-INV-' || g",
                "claim_id": "'BENCH-' || g",
                "institution_id": (
                    "CASE WHEN g % 5 = 0 THEN t.institution_id ELSE "
                    "(SELECT id FROM institutions WHERE code = 'H460200001') END"
                ),
                "claim_date": "t.claim_date - (g % 330)",
                "year_month": "to_char(t.claim_date - (g % 330), 'YYYY-MM')",
                "year": "extract(year FROM t.claim_date - (g % 330))::int",
                "created_at": "t.created_at - (g % 330) * interval '1 day'",
            },
        )
        # each copy gets the lines of its template
        conn.execute(
            text(
                "CREATE TEMP TABLE tpl_ids AS SELECT id, row_number() OVER (ORDER BY id) AS n "
                "FROM settlements WHERE state = 'settled' AND kind = 'settlement' "
                f"AND institution_id IS NOT NULL AND id < {first}"
            )
        )
        k = conn.execute(text("SELECT count(*) FROM tpl_ids")).scalar_one()
        line_cols = [c for c in columns(conn, "settlement_lines") if c != "id"]
        picked = ", ".join("s.id" if c == "settlement_id" else f"l.{c}" for c in line_cols)
        conn.execute(
            text(
                f"INSERT INTO settlement_lines ({', '.join(line_cols)}) "
                f"SELECT {picked} "
                f"FROM settlements s JOIN tpl_ids t ON t.n = 1 + ((s.id - {first} + 1) % {k}) "
                f"JOIN settlement_lines l ON l.settlement_id = t.id WHERE s.id >= {first}"
            )
        )
        clone(
            conn,
            "reimbursement_claims",
            count=claims,
            templates="SELECT * FROM reimbursement_claims ORDER BY id",
            replace={
                "person_id": f"{person0} + (g % {persons})",
                "settlement_id": "NULL",
                "submitted_at": "t.submitted_at - (g % 400) * interval '1 hour'",
                "state": "CASE WHEN g % 4 = 0 THEN t.state ELSE 'submitted' END",
                "decided_at": "CASE WHEN g % 4 = 0 THEN t.decided_at ELSE NULL END",
                "payout_fen": "CASE WHEN g % 4 = 0 THEN t.payout_fen ELSE NULL END",
                "paid_at": "CASE WHEN g % 4 = 0 THEN t.paid_at ELSE NULL END",
            },
        )
    # the settlements were copied in SQL, around the service that keeps the fund rollups:
    # sum them again, so the dashboard shows (and pays for) the real figures
    from yibao.db import session_scope
    from yibao.settlements.repository import rebuild_fund_rollups

    with session_scope(engine) as session:
        rebuild_fund_rollups(session)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def build_clearing(url: str) -> None:
    """The Beijing centre builds the last complete month, as a clearing clerk would."""
    from yibao.auth.models import User
    from yibao.clearing import service as clearing
    from yibao.clock import china_today
    from yibao.db import make_engine, session_scope

    today = china_today()
    last = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    engine = make_engine(url)
    with session_scope(engine) as session:
        agency = session.query(User).filter(User.login == "agency").one()
        clearing.build_month(session, actor=agency, month=last)
    engine.dispose()


def seed_demo(url: str, upload_dir: Path) -> None:
    from yibao.clock import china_today
    from yibao.db import make_engine, session_scope
    from yibao.demo.loader import load_demo

    engine = make_engine(url)
    with session_scope(engine) as session:
        load_demo(session, upload_dir=upload_dir, today=china_today())
    engine.dispose()


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Figure:
    path: str
    who: str
    p50: float
    p95: float
    worst: float
    size: int


def signed_in(base: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/login")
    token = CSRF.search(form.text)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    answer = client.post(
        "/login",
        data={
            "login": login,
            "password": f"demo-{login}",
            "csrf_token": token.group(1),
            "next": "",
        },
    )
    if answer.status_code >= 400 or "yibao_session" not in client.cookies:
        raise RuntimeError(f"{login} could not sign in: {answer.status_code}")
    return client


def measure(client: httpx.Client, who: str, path: str, requests: int) -> Figure | None:
    first = client.get(path)
    if first.status_code != 200:
        print(f"  {who:<14} {path:<44} answered {first.status_code}: not measured")
        return None
    for _ in range(2):
        client.get(path)
    times = []
    size = 0
    for _ in range(requests):
        t0 = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code} while measured")
        size = len(answer.content)
    times.sort()
    return Figure(
        path=path,
        who=who,
        p50=statistics.median(times),
        p95=times[max(0, int(len(times) * 0.95) - 1)],
        worst=times[-1],
        size=size,
    )


def pages(conn: Connection) -> list[tuple[str, str]]:
    """(login, path) of the main pages, with ids read from the database."""

    def one(sql: str) -> Any:
        return conn.execute(text(sql)).scalar()

    wang_settlement = one(
        "SELECT max(s.id) FROM settlements s JOIN users u ON u.person_id = s.person_id "
        "WHERE u.login = 'insured'"
    )
    wang_filing = one(
        "SELECT max(f.id) FROM filings f JOIN users u ON u.person_id = f.person_id "
        "WHERE u.login = 'insured'"
    )
    hospital_settlement = one(
        "SELECT max(s.id) FROM settlements s JOIN institutions i ON i.id = s.institution_id "
        "WHERE i.code = 'H460200001'"
    )
    open_encounter = one(
        "SELECT max(e.id) FROM encounters e JOIN institutions i ON i.id = e.institution_id "
        "WHERE i.code = 'H460200001'"
    )
    queued_filing = one("SELECT max(id) FROM filings WHERE insured_region = '110000'")
    queued_claim = one(
        "SELECT max(id) FROM reimbursement_claims WHERE insured_region = '110000' "
        "AND state = 'submitted'"
    )
    statement = one("SELECT max(id) FROM clearing_statements")
    return [
        ("insured", "/me"),
        ("insured", "/me/settlements"),
        ("insured", "/me/settlements?page=10"),
        ("insured", f"/me/settlements/{wang_settlement}"),
        ("insured", "/me/filings"),
        ("insured", f"/me/filings/{wang_filing}"),
        ("insured", "/me/claims"),
        ("insured", "/institutions?region=460200"),
        ("hospital", "/window"),
        ("hospital", "/window/encounters"),
        ("hospital", f"/window/encounters/{open_encounter}"),
        ("hospital", "/window/settlements"),
        ("hospital", "/window/settlements?on="),
        ("hospital", "/window/referrals"),
        ("hospital", f"/window/settlements/{hospital_settlement}"),
        ("hospital", f"/window/settlements/{hospital_settlement}/slip"),
        ("agency", "/agency/filings"),
        ("agency", f"/agency/filings/{queued_filing}"),
        ("agency", "/agency/claims"),
        ("agency", "/agency/claims?state=all"),
        ("agency", f"/agency/claims/{queued_claim}"),
        ("agency", "/agency/approvals"),
        ("agency", "/agency/clearing"),
        ("agency", f"/agency/clearing/statements/{statement}"),
        ("agency", "/agency/recovery"),
        ("agency", "/agency/dashboard"),
        ("agency", "/agency/policies"),
        ("street_office", "/office/filings"),
        ("admin", "/admin/users"),
        ("admin", "/admin/institutions"),
    ]


def pgbench_select(admin_url: str, seconds: int) -> float:
    """Average latency (ms) of one indexed select, pgbench -S with one client."""
    exe = shutil.which("pgbench")
    if exe is None:
        raise RuntimeError("pgbench is not installed (apt-get install postgresql-client)")
    name = f"yibao_pgbench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", "postgres"]
    try:
        subprocess.run([exe, "-i", "-q", "-s", "10", *args, name], check=True, capture_output=True)
        out = subprocess.run(
            [exe, "-S", "-T", str(seconds), "-c", "1", *args, name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    match = re.search(r"latency average = ([0-9.]+) ms", out)
    if match is None:
        raise RuntimeError(f"pgbench printed no latency:\n{out}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--filings", type=int, default=100_000)
    parser.add_argument("--settlements", type=int, default=500_000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (its name is printed)"
    )
    parser.add_argument(
        "--only", default="", help="measure only the pages whose path contains this text"
    )
    args = parser.parse_args()

    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"yibao_pages_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        pg_version = conn.execute(text("SHOW server_version")).scalar_one()
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    info = {**describe(), "postgresql": str(pg_version)}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    server = None
    uploads = Path(f"/tmp/{name}-uploads")
    try:
        from yibao.db import upgrade_database

        upgrade_database(url)
        t0 = time.perf_counter()
        seed_demo(url, uploads)
        # the month is built on the demo's own settlements, before the volume is added:
        # building a month audits each settlement one by one, which at this volume (about
        # 45,000 a month) takes longer than the benchmark (docs/benchmarks.md)
        build_clearing(url)
        add_volume(
            url,
            persons=args.persons,
            filings=args.filings,
            settlements=args.settlements,
            claims=args.claims,
        )
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (
                    "persons",
                    "filings",
                    "settlements",
                    "settlement_lines",
                    "reimbursement_claims",
                )
            }
            targets = [(who, path) for who, path in pages(conn) if args.only in path]
        engine.dispose()
        print(
            f"seeded in {time.perf_counter() - t0:.0f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
            flush=True,
        )
        port = free_port()
        server = start_server(url, port, 1, secrets.token_hex(32))
        base = f"http://127.0.0.1:{port}"
        reference = httpx.Client(base_url=base, timeout=30)
        landing = measure(reference, "anyone", "/", args.requests)
        select_ms = pgbench_select(args.pg_url, 10)
        figures: list[Figure] = []
        clients: dict[str, httpx.Client] = {}
        for login, path in targets:
            if login not in clients:
                clients[login] = signed_in(base, login)
            figure = measure(clients[login], login, path, args.requests)
            if figure is not None:
                figures.append(figure)
                print(
                    f"  {login:<14} {path:<44} p50 {figure.p50:6.1f} ms  p95 {figure.p95:6.1f} ms"
                    f"  max {figure.worst:6.1f} ms  {figure.size / 1024:5.0f} KiB",
                    flush=True,
                )
        print()
        print("| page | who | p50 ms | p95 ms | max ms | KiB |")
        print("|---|---|---:|---:|---:|---:|")
        for f in figures:
            print(
                f"| `{f.path}` | {f.who} | {f.p50:.1f} | {f.p95:.1f} | {f.worst:.1f} "
                f"| {f.size / 1024:.0f} |"
            )
        if landing is not None:
            print(
                f"\nreference: landing page (no database) p50 {landing.p50:.1f} ms, "
                f"p95 {landing.p95:.1f} ms"
            )
        print(f"reference: pgbench -S, one client: {select_ms:.3f} ms per indexed select")
        slow = [f for f in figures if f.p95 > 150]
        print(f"pages over 150 ms at p95: {len(slow)} of {len(figures)}")
        return 0
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(uploads, ignore_errors=True)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        admin.dispose()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
