"""``settle_tables(..., dictionary_text=True)``: the repeating text columns as Arrow
dictionaries, every value as in the plain tables (also for persons the scalar engine
settles, for an empty table, and on the threaded path), and written to Parquet as they are."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.unit.test_columnar_engine import _catalog, _simple_run, _supplementary_policy
from tests.unit.test_columnar_suite import _world
from yibao.batch.formats import write_results
from yibao.engine import columnar_fast
from yibao.engine.columnar import (
    CLAIM_SCHEMA,
    RESULT_LINE_SCHEMA,
    RESULT_LINE_SCHEMA_DICTIONARY,
    RESULT_SCHEMA,
    RESULT_SCHEMA_DICTIONARY,
    claims_to_tables,
    results_to_dicts,
)
from yibao.engine.columnar_fast import settle_fast
from yibao.engine.models import Catalog, Policy


def _both(
    claims: pa.Table, lines: pa.Table, catalog: Catalog, policies: list[Policy]
) -> tuple[tuple[pa.Table, pa.Table], tuple[pa.Table, pa.Table], dict[str, int]]:
    report: dict[str, int] = {}
    plain = settle_fast(claims, lines, catalog=catalog, policies=policies)
    coded = settle_fast(
        claims, lines, catalog=catalog, policies=policies, dictionary_text=True, report=report
    )
    assert coded[0].schema.equals(RESULT_SCHEMA_DICTIONARY)
    assert coded[1].schema.equals(RESULT_LINE_SCHEMA_DICTIONARY)
    # the same values: decoded, the tables are the plain ones
    assert coded[0].cast(RESULT_SCHEMA).equals(plain[0])
    assert coded[1].cast(RESULT_LINE_SCHEMA).equals(plain[1])
    assert results_to_dicts(*coded) == results_to_dicts(*plain)
    return plain, coded, report


@pytest.mark.parametrize("threaded", [False, True])
def test_dictionaries_hold_the_plain_values(
    monkeypatch: pytest.MonkeyPatch, threaded: bool
) -> None:
    policies, catalog, claims = _world(1)
    monkeypatch.setattr(columnar_fast, "PARALLEL_CLAIMS", 0 if threaded else 10**12)
    monkeypatch.setattr(columnar_fast, "_cores", lambda: 2)
    _, coded, report = _both(*claims_to_tables(claims), catalog, policies)
    assert report["scalar_claims"] == 0
    # rejected claims have reasons, settled ones none: both kinds are there
    assert coded[0].column("reason").null_count not in (0, coded[0].num_rows)


def test_dictionary_input_stays_a_dictionary() -> None:
    policies, catalog, claims = _world(2)
    plain, lines = claims_to_tables(claims)
    encoded = pa.table(
        [c.dictionary_encode() if pa.types.is_string(c.type) else c for c in plain.columns],
        names=plain.column_names,
    )
    _both(encoded, lines, catalog, policies)


def test_persons_of_the_scalar_engine_among_dictionaries() -> None:
    from tests.unit.enginekit import claim, line, person

    # one person's line overflows int64: that person goes to settle_run, the others not
    huge = claim(
        line("A1", "1000000", "1000000"),
        claim_id="huge",
        date=date(2026, 8, 1),
        person=person(id="p9"),
    )
    run = [*_simple_run(), huge]
    _, _, report = _both(*claims_to_tables(run), _catalog(), [_supplementary_policy("0")])
    assert report["scalar_claims"] == 1


def test_an_empty_table() -> None:
    _both(CLAIM_SCHEMA.empty_table(), claims_to_tables([])[1], _catalog(), [])


def test_written_and_read_back(tmp_path: Path) -> None:
    policies, catalog, claims = _world(4)
    _, coded, _ = _both(*claims_to_tables(claims), catalog, policies)
    out, lines_out = tmp_path / "r.parquet", tmp_path / "l.parquet"
    write_results(*coded, out=out, lines_out=lines_out)
    back, back_lines = pq.read_table(out), pq.read_table(lines_out)
    assert back.schema.equals(RESULT_SCHEMA_DICTIONARY)
    assert back.cast(RESULT_SCHEMA).equals(coded[0].cast(RESULT_SCHEMA))
    assert back_lines.cast(RESULT_LINE_SCHEMA).equals(coded[1].cast(RESULT_LINE_SCHEMA))
