"""Clearing at national volume: a month's statements from 25 million settlement rows.

Generates a Parquet file of settlement rows (``yibao.batch.clearing.SETTLEMENT_ROW_SCHEMA``)
in chunks of a million rows (so generating never holds the whole month in memory), then
times :func:`yibao.batch.clearing.build_statements_frame` on it: reading the file, grouping
per region pair and summing every fund, as ``yibao batch clearing`` does. Goal: <= 60 s.

    .venv/bin/python bench/clearing_volume.py [--rows 25000000] [--file /tmp/rows.parquet]

The rows: 31 provinces' capital regions insuring and treating each other (961 pairs, a
tenth of them local and skipped), two months (the earlier one holding a few late
reversals' periods), about 2% reversals, a few frozen statements (rows of those pairs move
to the next month), amounts drawn like the issue's mix (outpatient ~125 yuan, inpatient
~10,000 yuan).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import one_line
from yibao.batch.clearing import (
    CONFIRMED_KEY,
    SETTLEMENT_ROW_SCHEMA,
    build_statements_frame,
)

PROVINCES = [
    f"{code}0100"
    for code in (
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
    )
]
CHUNK = 1_000_000
MONTH = "2026-05"


def generate(path: Path, rows: int, seed: int = 2026) -> float:
    """Write ``rows`` settlement rows to ``path`` in chunks; seconds taken."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    regions = pa.array(PROVINCES)
    confirmed = [[PROVINCES[0], PROVINCES[21], "2026-04"], [PROVINCES[5], PROVINCES[9], "2026-05"]]
    schema = SETTLEMENT_ROW_SCHEMA.with_metadata({CONFIRMED_KEY: json.dumps(confirmed).encode()})
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        done = 0
        while done < rows:
            n = min(CHUNK, rows - done)
            insured = rng.integers(0, len(PROVINCES), n)
            treated = np.where(rng.random(n) < 0.1, insured, rng.integers(0, len(PROVINCES), n))
            inpatient = rng.random(n) < 0.05
            total = np.where(
                inpatient,
                rng.lognormal(np.log(8_000 * 100), 0.8, n),
                rng.lognormal(np.log(110 * 100), 0.6, n),
            ).astype(np.int64)
            reversal = rng.random(n) < 0.02
            sign = np.where(reversal, -1, 1)
            pool = (total * np.where(inpatient, 0.7, 0.5)).astype(np.int64)
            supplementary = np.where(inpatient, total // 20, 0)
            assistance = np.where(rng.random(n) < 0.03, total // 50, 0)
            account = np.minimum(total - pool - supplementary - assistance, 30_000)
            cash = total - pool - supplementary - assistance - account
            period = np.where(rng.random(n) < 0.03, "2026-04", MONTH)
            table = pa.Table.from_arrays(
                [
                    pa.array(np.arange(done, done + n, dtype=np.int64)),
                    pa.array(np.where(reversal, "reversal", "settlement")),
                    pa.array(period),
                    regions.take(pa.array(insured)),
                    regions.take(pa.array(treated)),
                    pa.array(rng.integers(1, 200_000, n)),
                    *(
                        pa.array(sign * col)
                        for col in (total, pool, supplementary, assistance, account, cash)
                    ),
                ],
                schema=schema,
            )
            writer.write_table(table)
            done += n
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000_000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/yibao-clearing-rows.parquet"))
    parser.add_argument("--keep", action="store_true", help="Reuse the file if it exists.")
    args = parser.parse_args()
    print(one_line())
    if not (args.keep and args.file.exists()):
        seconds = generate(args.file, args.rows)
        print(
            f"generated {args.rows:,} rows in {seconds:.1f} s: {args.file} "
            f"({args.file.stat().st_size / 2**20:.0f} MiB)"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    frame = build_statements_frame(args.file, month=MONTH)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = pq.ParquetFile(args.file).metadata.num_rows
    print(
        f"built {frame.height} statements of {MONTH} from {rows:,} rows in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s), peak memory {peak:,.0f} MiB"
    )
    # the machine is shared: the CPU time says what the build itself cost
    print(f"CPU time of the build {cpu:.1f} s (all threads); load average {load}")
    counted = int(frame["settlements"].sum() + frame["reversals"].sum())
    print(
        f"rows in the statements: {counted:,}; "
        f"amount due {frame['amount_due_fen'].sum() / 100:,.2f}"
    )


if __name__ == "__main__":
    main()
