"""Where a settlement's app CPU goes, REST against the national interface, in process.

Run: ``.venv/bin/python bench/settle_profile.py [--count 300] [--top 25]``.

Seeds a fresh PostgreSQL database as ``bench/settle_api.py`` does (every visit twice, one
copy per interface), then settles ``--count`` visits through each path, alternating, each
in its own session and transaction as a request's would be, without HTTP:

- REST: the token check (``auth.tokens.authenticate``) and the route function
  ``encounters.routes.settle`` (idempotency, ``settle_encounter``, the explained answer);
- national interface: ``nhsa.routes._serve`` on the HIS's signed 2304 / 2207 message
  (gateway check and nonce, envelope, idempotency by msgid, ``settle_encounter``, the
  answer's figures and text).

It prints each path's process CPU per settlement without a profiler, then cProfile's
functions (timed by process CPU, so waits for PostgreSQL do not count) by cumulative CPU
per settlement for the national interface, with the REST path's calls and figure for the
same function beside it. What the two share (the commit, FastAPI's
dependency resolution, uvicorn) is measured over HTTP by ``settle_api.py``. The database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nhsa_his import PATH, MsgIds, Visit, settlement_failure, settlement_message, sign
from settle_api import seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "YIBAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--count", type=int, default=300, help="settlements per path")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"yibao_profile_{secrets.token_hex(4)}"
    secret_key = secrets.token_urlsafe(32)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        from yibao.auth.tokens import authenticate
        from yibao.db import make_engine, make_session_factory, session_scope, upgrade_database
        from yibao.encounters.routes import settle
        from yibao.encounters.schemas import SettleRequest
        from yibao.engine.phrases import DEFAULT_LANGUAGE
        from yibao.nhsa.routes import _serve

        upgrade_database(url)
        warm = 20
        world = seed(
            url,
            persons=args.persons,
            encounters=2 * (args.count + warm),
            rng=random.Random(args.seed),
            interfaces=["rest", "nhsa"],
            secret_key=secret_key,
        )
        engine = make_engine(url)
        factory = make_session_factory(engine)
        app = SimpleNamespace(state=SimpleNamespace(settings=None))
        msgids = MsgIds()

        def rest(visit: Visit) -> None:
            from starlette.requests import Request

            path = f"/api/v1/encounters/{visit.id}/settle"
            request = Request(
                {
                    "type": "http",
                    "method": "POST",
                    "scheme": "http",
                    "server": ("127.0.0.1", 80),
                    "path": path,
                    "query_string": b"",
                    "headers": [],
                    "app": app,
                }
            )
            with session_scope(factory) as session:
                user = authenticate(session, token=world.hospitals[visit.hospital])
                answer = settle(
                    visit.id,
                    SettleRequest(on=date.fromisoformat(visit.day)),
                    request,
                    session,
                    user,
                    datetime.now(UTC),
                    DEFAULT_LANGUAGE,
                    f"profile-{visit.id}",
                )
            if answer.status_code != 201:
                raise SystemExit(f"REST {visit.id}: {answer.status_code} {answer.body[:200]!r}")

        def nhsa(visit: Visit) -> None:
            his = world.gateway[visit.hospital]
            now = datetime.now(UTC)
            body = settlement_message(his, visit, msgids.next(his.code, now), now)
            headers = {
                "content-type": "application/json;charset=utf-8",
                "x-tif-paasid": his.pass_id,
                **sign(his.secret),
            }
            with session_scope(factory) as session:
                answer = _serve(session, headers, body, secret_key, None, now)
            failed = settlement_failure(visit, 200, answer.encode())
            if failed is not None:
                raise SystemExit(f"{PATH} {visit.id}: {failed}")

        paths: dict[str, Callable[[Visit], None]] = {"rest": rest, "nhsa": nhsa}
        pools = {k: iter(v) for k, v in world.pools.items()}
        for _ in range(warm):
            for key, run in paths.items():
                run(next(pools[key]))
        cpu = {key: 0.0 for key in paths}
        # CPU time, not wall time: waits for PostgreSQL do not count.
        profiles = {key: cProfile.Profile(time.process_time) for key in paths}
        half = args.count // 2
        # First half without the profiler (CPU per settlement), second half profiled.
        for i in range(args.count):
            for key, run in paths.items() if i % 2 == 0 else reversed(paths.items()):
                visit = next(pools[key])
                if i < half:
                    t0 = time.process_time()
                    run(visit)
                    cpu[key] += time.process_time() - t0
                else:
                    profiles[key].enable()
                    run(visit)
                    profiles[key].disable()
        engine.dispose()
        rest_ms, nhsa_ms = (cpu[k] * 1000 / half for k in ("rest", "nhsa"))
        print(
            f"process CPU per settlement, {half} each, no profiler: REST {rest_ms:.2f} ms,"
            f" national interface {nhsa_ms:.2f} ms (+{nhsa_ms - rest_ms:.2f} ms,"
            f" ratio {nhsa_ms / rest_ms:.3f}); PostgreSQL's own CPU not included"
        )
        profiled = args.count - half
        stats = {k: pstats.Stats(p).stats for k, p in profiles.items()}  # type: ignore[attr-defined]
        totals = {
            k: sum(tt for _cc, _nc, tt, _ct, _callers in s.values()) for k, s in stats.items()
        }
        print(
            f"profiled {profiled} each: REST {totals['rest'] * 1000 / profiled:.2f} ms,"
            f" national interface {totals['nhsa'] * 1000 / profiled:.2f} ms per settlement"
            " (with cProfile's own overhead)"
        )

        def per(key: str, func: Any) -> tuple[float, float, float]:
            row = stats[key].get(func)
            if row is None:
                return 0.0, 0.0, 0.0
            _cc, calls, tottime, cumtime, _callers = row
            return calls / profiled, tottime * 1000 / profiled, cumtime * 1000 / profiled

        rows = sorted(stats["nhsa"], key=lambda f: -stats["nhsa"][f][3])
        print(
            f"\nnational interface, top {args.top} by cumulative ms per settlement (REST beside):"
        )
        print(f"{'calls':>6} {'cum ms':>7} {'own ms':>7} | {'calls':>6} {'cum ms':>7}  function")
        for func in rows[: args.top]:
            calls, own, cum = per("nhsa", func)
            rest_calls, _o, rest_cum = per("rest", func)
            where = f"{Path(func[0]).name}:{func[1]} {func[2]}"
            print(
                f"{calls:6.1f} {cum:7.3f} {own:7.3f} | {rest_calls:6.1f} {rest_cum:7.3f}  {where}"
            )

        def label(func: Any) -> str:
            return f"{Path(func[0]).name}:{func[1]} {func[2]}"

        only_rest = [f for f in stats["rest"] if f not in stats["nhsa"]]
        only_rest.sort(key=lambda f: -stats["rest"][f][3])
        print("\nREST only, by cumulative CPU ms per settlement:")
        for func in only_rest[:10]:
            calls, _own, cum = per("rest", func)
            print(f"{calls:6.1f} {cum:7.3f}  {label(func)}")
        # What the adapter's own steps spend, callee by callee.
        steps = [
            ("rest", "routes.py", "settle"),
            ("nhsa", "routes.py", "_serve"),
            ("nhsa", "gateway.py", "authenticate"),
            ("nhsa", "window.py", "settle"),
            ("nhsa", "common.py", "record_output"),
        ]
        for key, file, function in steps:
            found = [f for f in stats[key] if Path(f[0]).name == file and f[2] == function]
            if not found:
                continue
            callees = []
            for func, row in stats[key].items():
                link = row[4].get(found[0])
                if link is not None:
                    callees.append((link[3] * 1000 / profiled, link[1] / profiled, func))
            callees.sort(reverse=True)
            print(f"\n{key} {label(found[0])}: its callees, cumulative CPU ms per settlement")
            for cum, calls, func in callees[:12]:
                print(f"{calls:6.1f} {cum:7.3f}  {label(func)}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
