"""A synthetic year settled three ways in one run: scalar, columnar in-process, on Dask.

Run: ``make bench-batch`` or ``.venv/bin/python bench/batch.py [--persons N] [--no-dask]``.

1. ``yibao.batch.synth.synth_tables`` generates a year (about 4 claims a person) on the
   demo policies and catalogs; it is written as Parquet (claims and lines, zstd), as
   ``yibao synth`` writes it.
2. The scalar engine (``settle_run``) settles a sample (the first ``--scalar-sample``
   claims in run order; building the ``Claim`` objects is not timed), and the columnar
   engine's results for the same claims are compared with it field by field.
3. The columnar engine in this process, end to end: Parquet read (string columns read
   as dictionaries), ``settle_tables``, Parquet written by ``yibao.batch.formats.
   write_results`` as ``yibao batch settle`` writes it (results and result lines at once,
   LZ4); once with the results' text columns plain (what ``yibao batch settle`` does), once
   with the repeating ones as dictionaries (``dictionary_text=True``). Each timed
   ``--repeat`` times, best kept, wall and CPU seconds (all threads) by stage; the first
   call (Numba's compile or cache load) is timed apart.
4. The same on a 2-worker Dask ``LocalCluster`` through ``yibao.batch.run.settle_batch``
   (tables read in this process, partitions sent to the workers, results merged here).

Prints claims/s and lines/s of each, peak memory (``getrusage``), load average and the
machine. Figures go to docs/benchmarks.md ("Batch").
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from machine import one_line
from yibao.batch.formats import RESULT_COMPRESSION, write_results
from yibao.engine import result_to_dict, settle_run
from yibao.engine.columnar import results_to_dicts, settle_tables
from yibao.engine.columnar_convert import tables_to_claims

# low-cardinality text columns: Parquet keeps them dictionary-encoded, so read them so
DICTIONARY_COLUMNS = [
    "setting",
    "insured_region",
    "scheme",
    "person_type",
    "institution_id",
    "institution_region",
    "filing_type",
    "filing_destination",
    "liability",
]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def read(claims_path: Path, lines_path: Path) -> tuple[pa.Table, pa.Table]:
    claims = pq.read_table(claims_path, read_dictionary=DICTIONARY_COLUMNS)
    lines = pq.read_table(lines_path, read_dictionary=["code"])
    return claims, lines


def write(results: pa.Table, result_lines: pa.Table, out: Path, compression: str) -> None:
    # the path `yibao batch settle` takes: both files at once, repeating texts as dictionaries
    write_results(
        results,
        result_lines,
        out=out / "results.parquet",
        lines_out=out / "results.lines.parquet",
        compression=compression,
    )


def end_to_end(
    claims_path: Path,
    lines_path: Path,
    out: Path,
    compression: str,
    inputs: Any,
    *,
    dictionary_text: bool = False,
) -> tuple[float, dict[str, float]]:
    """Wall and CPU seconds (all threads of this process) of each stage."""
    policies, catalog = inputs
    stages: dict[str, float] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    claims, lines = read(claims_path, lines_path)
    t1, cpu1 = time.perf_counter(), time.process_time()
    results, result_lines = settle_tables(
        claims, lines, catalog=catalog, policies=policies, dictionary_text=dictionary_text
    )
    t2, cpu2 = time.perf_counter(), time.process_time()
    write(results, result_lines, out, compression)
    t3, cpu3 = time.perf_counter(), time.process_time()
    stages.update(
        read=t1 - t0,
        settle=t2 - t1,
        write=t3 - t2,
        cpu=cpu3 - cpu0,
        cpu_read=cpu1 - cpu0,
        cpu_settle=cpu2 - cpu1,
        cpu_write=cpu3 - cpu2,
    )
    return t3 - t0, stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=250_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--scalar-sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--compression", default=RESULT_COMPRESSION, help="of the results (lz4, snappy, zstd, none)"
    )
    parser.add_argument("--no-dask", action="store_true", help="skip the LocalCluster run")
    args = parser.parse_args(argv)

    from yibao.batch.synth import demo_inputs, synth_tables, write_tables

    print(f"machine: {one_line()}")
    policies, catalog = demo_inputs()
    started = time.perf_counter()
    claims, lines = synth_tables(args.persons, args.year, args.seed)
    n, m = claims.num_rows, lines.num_rows
    print(
        f"synthetic year: {args.persons:,} persons, {n:,} claims, {m:,} lines "
        f"({time.perf_counter() - started:.1f} s to generate)"
    )
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        folder = Path(tmp)
        claims_path = folder / "claims.parquet"
        write_tables(claims, lines, claims_path)
        lines_path = folder / "claims.lines.parquet"
        size = (claims_path.stat().st_size + lines_path.stat().st_size) / 2**20
        print(f"input Parquet: {size:.1f} MiB (zstd)")

        # the scalar engine on a sample, and the columnar engine's agreement with it
        k = min(args.scalar_sample, n)
        sample = claims.slice(0, k)
        sample_lines = lines.filter(pc.less(lines.column("claim_row"), k))
        built = tables_to_claims(sample, sample_lines)
        t = time.perf_counter()
        cpu = time.process_time()
        scalar = settle_run(built, policies=policies, catalog=catalog)
        scalar_s = time.perf_counter() - t
        scalar_cpu = time.process_time() - cpu
        scalar_rate = k / scalar_s
        print(
            f"scalar settle_run: {k:,} claims, {sample_lines.num_rows:,} lines in "
            f"{scalar_s:.2f} s: {scalar_rate:,.0f} claims/s, "
            f"{sample_lines.num_rows / scalar_s:,.0f} lines/s, CPU {scalar_cpu:.2f} s "
            f"(load {load()})"
        )
        t = time.perf_counter()
        first = settle_tables(sample, sample_lines, catalog=catalog, policies=policies)
        print(f"columnar first call (compile or cache load): {time.perf_counter() - t:.2f} s")
        same = results_to_dicts(*first) == [result_to_dict(r) for r in scalar]
        print(f"columnar == scalar on the sample, every field: {same}")
        if not same:
            return 1

        # the columnar engine, Parquet in -> Parquet out, in this process: results with plain
        # text columns (what `yibao batch settle` writes), then with the repeating ones as
        # dictionaries (settle_tables(..., dictionary_text=True))
        for dictionary_text in (False, True):
            best = float("inf")
            best_stages: dict[str, float] = {}
            for _ in range(args.repeat):
                seconds, stages = end_to_end(
                    claims_path,
                    lines_path,
                    folder,
                    args.compression,
                    (policies, catalog),
                    dictionary_text=dictionary_text,
                )
                if seconds < best:
                    best, best_stages = seconds, stages
            rate = n / best
            kind = "dictionary text" if dictionary_text else "plain text"
            print(
                f"columnar in-process, Parquet in -> Parquet out, {kind}: {best:.2f} s "
                f"(read {best_stages['read']:.2f}, settle {best_stages['settle']:.2f}, "
                f"write {best_stages['write']:.2f}; CPU {best_stages['cpu']:.2f} s, all "
                f"threads: read {best_stages['cpu_read']:.2f}, settle "
                f"{best_stages['cpu_settle']:.2f}, write {best_stages['cpu_write']:.2f}; "
                f"best of {args.repeat}): {rate:,.0f} claims/s, "
                f"{m / best:,.0f} lines/s, {rate / scalar_rate:.0f}x scalar; "
                f"settle alone {n / best_stages['settle']:,.0f} claims/s (load {load()})"
            )
            written = [folder / "results.parquet", folder / "results.lines.parquet"]
            sizes = ", ".join(f"{path.stat().st_size / 2**20:.1f}" for path in written)
            print(f"results and result lines written: {sizes} MiB ({args.compression})")
        print(f"peak memory of this process so far: {peak_mib():,.0f} MiB")

        if not args.no_dask:
            dask_run(claims_path, lines_path, (policies, catalog), n, m, scalar_rate)
    return 0


def dask_run(
    claims_path: Path, lines_path: Path, inputs: Any, n: int, m: int, scalar_rate: float
) -> None:
    try:
        from yibao.batch.run import dask_client, settle_batch
    except ImportError:
        print("Dask: yibao.batch.run is not there; skipped")
        return
    policies, catalog = inputs
    with dask_client(scheduler=None, workers=2) as client:
        claims, lines = read(claims_path, lines_path)
        # warm the workers (Numba's cache load, policies sent) on a small table
        small = claims.slice(0, 1000)
        settle_batch(
            small,
            lines.filter(pc.less(lines.column("claim_row"), 1000)),
            catalog=catalog,
            policies=policies,
            client=client,
        )
        t = time.perf_counter()
        claims, lines = read(claims_path, lines_path)
        _results, _lines, summary = settle_batch(
            claims, lines, catalog=catalog, policies=policies, client=client
        )
        seconds = time.perf_counter() - t
        worker_peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(
        f"columnar on a 2-worker LocalCluster ({summary.partitions} partitions, Parquet read "
        f"here, results merged here): {seconds:.2f} s: {n / seconds:,.0f} claims/s, "
        f"{m / seconds:,.0f} lines/s, {n / seconds / scalar_rate:.0f}x scalar (load {load()})"
    )
    peaks = ", ".join(f"{v:,.0f}" for v in worker_peaks.values())
    print(f"peak memory: this process {peak_mib():,.0f} MiB, workers {peaks} MiB")


if __name__ == "__main__":
    sys.exit(main())
