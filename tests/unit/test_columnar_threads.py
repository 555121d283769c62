"""The columnar engine's threads: the claim scan split by person over threads, the result
lines built beside the results and the person ids hashed beside the other columns give
exactly the tables of one thread, and the figures of ``settle_run``."""

from __future__ import annotations

import pyarrow as pa
import pytest

from tests.unit.test_columnar_suite import _world
from yibao.engine import columnar_fast, result_to_dict, settle_run
from yibao.engine.columnar import claims_to_tables, results_to_dicts
from yibao.engine.columnar_fast import settle_fast
from yibao.engine.models import Catalog, Claim, Policy

World = tuple[list[Policy], Catalog, list[Claim]]


def _settle(
    claims: pa.Table, lines: pa.Table, world: World, threads: int | None = None
) -> tuple[pa.Table, pa.Table]:
    policies, catalog, _ = world
    out: dict[str, int] = {}
    tables = settle_fast(
        claims, lines, catalog=catalog, policies=policies, report=out, threads=threads
    )
    assert out["scalar_claims"] == 0
    return tables


@pytest.mark.parametrize("threads", [2, 4])
@pytest.mark.parametrize("seed", [0, 5])
def test_threads_give_the_tables_of_one_thread(threads: int, seed: int) -> None:
    world = _world(seed)
    policies, catalog, claims = world
    tables = claims_to_tables(claims)
    one = _settle(*tables, world, threads=1)
    many = _settle(*tables, world, threads=threads)
    assert many[0].equals(one[0]) and many[1].equals(one[1])
    want = [result_to_dict(r) for r in settle_run(claims, policies=policies, catalog=catalog)]
    assert results_to_dicts(*many) == want


def test_how_many_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    scan = columnar_fast._scan_threads
    # asked: rounded down to a power of two (the scan splits persons by their low bits)
    assert [scan(10, t) for t in (0, 1, 2, 3, 4, 5, 8)] == [1, 1, 2, 2, 4, 4, 8]
    # by default: one per core, at most four, from PARALLEL_CLAIMS claims
    monkeypatch.setattr(columnar_fast, "_cores", lambda: 2)
    assert scan(columnar_fast.PARALLEL_CLAIMS - 1) == 1
    assert scan(columnar_fast.PARALLEL_CLAIMS) == 2
    monkeypatch.setattr(columnar_fast, "_cores", lambda: 6)
    assert scan(columnar_fast.PARALLEL_CLAIMS) == 4
    monkeypatch.setattr(columnar_fast, "_cores", lambda: 1)
    assert scan(columnar_fast.PARALLEL_CLAIMS) == 1


def test_the_default_on_a_large_table_uses_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(6)
    tables = claims_to_tables(world[2])
    one = _settle(*tables, world, threads=1)
    monkeypatch.setattr(columnar_fast, "PARALLEL_CLAIMS", 0)
    monkeypatch.setattr(columnar_fast, "_cores", lambda: 2)
    started: list[int] = []
    real = columnar_fast.settle_claims

    def counted(*args: object) -> None:
        started.append(int(args[-1]))  # parts
        real(*args)

    monkeypatch.setattr(columnar_fast, "settle_claims", counted)
    many = _settle(*tables, world)
    assert started == [2, 2]
    assert many[0].equals(one[0]) and many[1].equals(one[1])


def test_threads_on_dictionary_columns_and_unsorted_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dictionary-encoded text in chunks with dictionaries of their own (as Parquet gives
    it) and lines out of claim order: the threaded path reads and orders them as the
    single one does."""
    world = _world(3)
    plain, lines = claims_to_tables(world[2])
    reversed_lines = lines.take(pa.array(range(lines.num_rows - 1, -1, -1)))
    one = _settle(plain, reversed_lines, world, threads=1)
    many = _settle(_chunked_dictionaries(plain), reversed_lines, world, threads=2)
    assert many[0].equals(one[0]) and many[1].equals(one[1])
    # the results are typed as always (plain text), whatever the input's encoding
    assert many[0].schema.equals(one[0].schema)


def _chunked_dictionaries(table: pa.Table) -> pa.Table:
    """Every text column dictionary-encoded, each half of the rows with its own
    dictionary (two chunks)."""
    half = table.num_rows // 2
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type):
            chunks = [
                column.slice(0, half).combine_chunks().dictionary_encode(),
                column.slice(half).combine_chunks().dictionary_encode(),
            ]
            column = pa.chunked_array(chunks)
        columns.append(column)
    return pa.table(columns, names=table.column_names)
