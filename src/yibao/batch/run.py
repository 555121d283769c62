"""Settling tables of claims by person: in this process, or on a Dask cluster.

A person's accumulators run through the year in claim order, so every claim of one person
must be settled in one place and in order. The claims are split into partitions by a hash
of ``person_id`` (all of a person's claims in one partition, in their original relative
order), each partition is settled by :func:`yibao.engine.columnar.settle_tables` on its own,
and the results are put back in the input's order. Since no state crosses persons, the
result does not depend on the number of partitions or workers (``tests/batch`` checks it).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from yibao.engine import Catalog, Policy
from yibao.engine.columnar import settle_tables
from yibao.errors import InvalidInput

Progress = Callable[[int, int], None]
"""``progress(claims_done, claims_total)``, called as partitions finish."""

CLAIMS_PER_PARTITION = 250_000
"""Default partition size: small enough for progress and spreading, large enough that the
per-partition overhead (scheduling, pickling) stays small."""

_HASH_SEED = 0x59_49_42_41  # "YIBA": any fixed seed; partitions are made in one process


@dataclass(frozen=True)
class Partition:
    """One partition's tables and where its claims came from (their row in the input)."""

    rows: np.ndarray[Any, np.dtype[np.int64]]
    claims: pa.Table
    lines: pa.Table


@dataclass(frozen=True)
class RunSummary:
    claims: int
    settled: int
    rejected: int
    total_fen: int
    fund_pay_fen: int
    personal_burden_fen: int
    seconds: float
    partitions: int
    workers: int

    @property
    def claims_per_second(self) -> float:
        return self.claims / self.seconds if self.seconds > 0 else float("inf")


def partition_ids(person_ids: pa.ChunkedArray | pa.Array, partitions: int) -> np.ndarray[Any, Any]:
    """The partition of each claim: a hash of its ``person_id`` modulo ``partitions``."""
    if partitions == 1:
        return np.zeros(len(person_ids), dtype=np.int64)
    hashed = pl.Series(person_ids).hash(seed=_HASH_SEED).to_numpy()
    return (hashed % np.uint64(partitions)).astype(np.int64)


def split(claims: pa.Table, lines: pa.Table, partitions: int) -> list[Partition]:
    """The partitions (empty ones left out), each self-contained: its lines' ``claim_row``
    is re-numbered to the partition's own claims table."""
    part = partition_ids(claims.column("person_id"), partitions)
    claim_row = lines.column("claim_row").to_numpy()
    line_part = part[claim_row] if claim_row.size else np.zeros(0, dtype=np.int64)
    # position of each claim inside its partition
    local = np.empty(len(part), dtype=np.int64)
    out = []
    claim_order = np.argsort(part, kind="stable")
    line_order = np.argsort(line_part, kind="stable")
    claim_bounds = np.searchsorted(part[claim_order], np.arange(partitions + 1))
    line_bounds = np.searchsorted(line_part[line_order], np.arange(partitions + 1))
    for p in range(partitions):
        rows = claim_order[claim_bounds[p] : claim_bounds[p + 1]]
        if rows.size == 0:
            continue
        local[rows] = np.arange(rows.size, dtype=np.int64)
        taken = line_order[line_bounds[p] : line_bounds[p + 1]]
        part_lines = lines.take(pa.array(taken))
        renumbered = pa.array(local[claim_row[taken]], type=pa.int64())
        index = part_lines.column_names.index("claim_row")
        part_lines = part_lines.set_column(index, part_lines.field(index), renumbered)
        out.append(Partition(rows=rows, claims=claims.take(pa.array(rows)), lines=part_lines))
    return out


def settle_partition(
    claims: pa.Table,
    lines: pa.Table,
    catalog: Catalog,
    policies: Sequence[Policy],
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table]:
    """One partition, settled (the function a Dask worker runs). ``threads`` as
    :func:`settle_tables` takes it: the Dask path passes 1, its workers being one process
    per core already; in this process the engine's default applies."""
    return settle_tables(claims, lines, catalog=catalog, policies=policies, threads=threads)


def merge(
    parts: Sequence[tuple[Partition, tuple[pa.Table, pa.Table]]],
) -> tuple[pa.Table, pa.Table]:
    """The partitions' results in the input's order, the lines' ``claim_row`` back to the
    input's row numbers (a claim's lines stay in their order)."""
    if not parts:
        raise ValueError("nothing to merge")
    results = pa.concat_tables([res for _, (res, _lines) in parts])
    rows = np.concatenate([partition.rows for partition, _ in parts])
    order = np.argsort(rows, kind="stable")
    results = results.take(pa.array(order))
    line_tables = []
    for partition, (_res, res_lines) in parts:
        original = (
            partition.rows[res_lines.column("claim_row").to_numpy()]
            if res_lines.num_rows
            else np.zeros(0, dtype=np.int64)
        )
        index = res_lines.column_names.index("claim_row")
        line_tables.append(
            res_lines.set_column(index, res_lines.field(index), pa.array(original, type=pa.int64()))
        )
    result_lines = pa.concat_tables(line_tables)
    line_order = np.argsort(result_lines.column("claim_row").to_numpy(), kind="stable")
    return results.combine_chunks(), result_lines.take(pa.array(line_order)).combine_chunks()


def default_partitions(claims: int, workers: int) -> int:
    by_size = max(1, math.ceil(claims / CLAIMS_PER_PARTITION))
    return max(by_size, 2 * workers) if workers > 1 else by_size


def settle_in_process(
    parts: Sequence[Partition],
    *,
    catalog: Catalog,
    policies: Sequence[Policy],
    progress: Progress,
    total: int,
) -> list[tuple[Partition, tuple[pa.Table, pa.Table]]]:
    done = 0
    out = []
    for partition in parts:
        out.append(
            (partition, settle_partition(partition.claims, partition.lines, catalog, policies))
        )
        done += partition.claims.num_rows
        progress(done, total)
    return out


def settle_on_client(
    client: Any,
    parts: Sequence[Partition],
    *,
    catalog: Catalog,
    policies: Sequence[Policy],
    progress: Progress,
    total: int,
) -> list[tuple[Partition, tuple[pa.Table, pa.Table]]]:
    """Every partition as one task of the cluster; the catalog and policies are sent to
    every worker once, under keys of this run alone: with content-hashed keys a second run
    on the same client (the reform after the baseline) reuses the key while the first run's
    release of it is still on its way, and the workers lose the data its tasks need."""
    import distributed

    as_completed: Any = distributed.as_completed  # distributed's API carries no types

    catalog_f = client.scatter(catalog, broadcast=True, hash=False)
    policies_f = client.scatter(list(policies), broadcast=True, hash=False)
    futures = {
        client.submit(
            settle_partition, p.claims, p.lines, catalog_f, policies_f, 1, pure=False
        ): index
        for index, p in enumerate(parts)
    }
    results: dict[int, tuple[pa.Table, pa.Table]] = {}
    done = 0
    for future in as_completed(futures):
        index = futures[future]
        results[index] = future.result()
        done += parts[index].claims.num_rows
        progress(done, total)
    return [(parts[i], results[i]) for i in range(len(parts))]


def summarize(results: pa.Table, *, seconds: float, partitions: int, workers: int) -> RunSummary:
    def total(name: str) -> int:
        value = pc.sum(results.column(name)).as_py()
        return int(value or 0)

    settled = int(pc.sum(pc.equal(results.column("status"), "settled")).as_py() or 0)
    return RunSummary(
        claims=results.num_rows,
        settled=settled,
        rejected=results.num_rows - settled,
        total_fen=total("total_fen"),
        fund_pay_fen=total("fund_pay_total_fen"),
        personal_burden_fen=total("personal_burden_fen"),
        seconds=seconds,
        partitions=partitions,
        workers=workers,
    )


def settle_batch(
    claims: pa.Table,
    lines: pa.Table,
    *,
    catalog: Catalog,
    policies: Sequence[Policy],
    partitions: int | None = None,
    client: Any = None,
    progress: Progress | None = None,
) -> tuple[pa.Table, pa.Table, RunSummary]:
    """Settle the claims table by person: in this process (``client`` None) or on the Dask
    ``client``'s cluster; results in the claims' order, and the run's summary."""
    started = time.perf_counter()
    tick = progress or (lambda done, total: None)
    workers = len(client.scheduler_info().get("workers", {})) if client is not None else 1
    count = partitions or default_partitions(claims.num_rows, workers)
    if count < 1:
        raise InvalidInput("--partitions", str(count), "must be at least 1")
    if claims.num_rows == 0:
        results, result_lines = settle_partition(claims, lines, catalog, policies)
    else:
        parts = split(claims, lines, count)
        if client is None:
            settled = settle_in_process(
                parts, catalog=catalog, policies=policies, progress=tick, total=claims.num_rows
            )
        else:
            settled = settle_on_client(
                client,
                parts,
                catalog=catalog,
                policies=policies,
                progress=tick,
                total=claims.num_rows,
            )
        results, result_lines = merge(settled)
    seconds = time.perf_counter() - started
    summary = summarize(results, seconds=seconds, partitions=count, workers=workers)
    return results, result_lines, summary


@contextmanager
def dask_client(*, scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, of a local cluster of ``workers`` processes
    (one thread each: the engine holds the GIL), or None: settle in this process."""
    if scheduler is not None and workers is not None:
        raise InvalidInput("--scheduler", scheduler, "give either --scheduler or --workers")
    if scheduler is None and workers is None:
        yield None
        return
    import distributed

    # distributed's API carries no types
    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInput(
                "--scheduler", scheduler, f"cannot reach the scheduler: {exc}"
            ) from None
        with client:
            yield client
        return
    assert workers is not None
    if workers < 1:
        raise InvalidInput("--workers", str(workers), "must be at least 1")
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
