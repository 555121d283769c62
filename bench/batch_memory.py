"""Memory one worker needs per million claims (docs/batch.md, "Memory").

For each size, a fresh process reads a synthetic year's claims (Parquet, the batch layout),
settles them as one partition (what one Dask task does) and writes the results; its peak
resident memory less the same process's memory before reading is the partition's cost. The
slope between two sizes is the memory per million claims, the intercept the fixed part.

    .venv/bin/python bench/batch_memory.py [--persons 20000 80000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import one_line


def _status_mib(key: str) -> float:
    """From /proc/self/status: VmHWM is this process's own peak (getrusage's ru_maxrss
    carries the parent's peak across fork and exec, so it cannot be used here)."""
    for row in Path("/proc/self/status").read_text().splitlines():
        if row.startswith(f"{key}:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def measure(claims_file: Path) -> dict[str, float]:
    """Run in the child: read, settle as one partition, write; memory in MiB."""
    import pyarrow.parquet as pq

    from yibao.batch.formats import read_parquet_claims
    from yibao.batch.run import settle_batch
    from yibao.batch.synth import demo_inputs

    policies, catalog = demo_inputs()
    import yibao.engine.columnar  # noqa: F401  (its compiled code loaded before the baseline)

    base = _status_mib("VmRSS")
    started = time.perf_counter()
    claims, lines = read_parquet_claims(claims_file, catalog)
    results, result_lines, _ = settle_batch(
        claims, lines, catalog=catalog, policies=policies, partitions=1
    )
    with tempfile.TemporaryDirectory() as folder:
        pq.write_table(results, Path(folder) / "r.parquet")
        pq.write_table(result_lines, Path(folder) / "l.parquet")
    peak = _status_mib("VmHWM")
    return {
        "claims": claims.num_rows,
        "lines": lines.num_rows,
        "base_mib": base,
        "peak_mib": peak,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[20_000, 80_000])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child)))
        return
    from yibao.batch.synth import synth_tables, write_tables

    print(one_line())
    points = []
    with tempfile.TemporaryDirectory() as folder:
        for persons in args.persons:
            path = Path(folder) / f"claims-{persons}.parquet"
            write_tables(*synth_tables(persons, 2026, 1), path)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            point = json.loads(out.strip().splitlines()[-1])
            points.append(point)
            used = point["peak_mib"] - point["base_mib"]
            print(
                f"{point['claims']:>10,} claims {point['lines']:>11,} lines: "
                f"{used:8,.0f} MiB above the {point['base_mib']:,.0f} MiB of a started "
                f"process, {point['seconds']:.1f} s"
            )
    if len(points) >= 2:
        a, b = points[0], points[-1]
        slope = ((b["peak_mib"] - b["base_mib"]) - (a["peak_mib"] - a["base_mib"])) / (
            (b["claims"] - a["claims"]) / 1e6
        )
        print(f"memory per million claims (one partition, one worker): {slope:,.0f} MiB")


if __name__ == "__main__":
    main()
