"""``write_results``: both files written at once, read back to the same tables; the
repeating texts dictionary-encoded, integers delta-encoded; an error leaves no file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.batch.kit import generate_claims
from yibao.batch import formats
from yibao.batch.formats import RESULT_DICTIONARY_COLUMNS, write_results
from yibao.batch.synth import demo_inputs
from yibao.engine.columnar import RESULT_LINE_SCHEMA, RESULT_SCHEMA, settle_tables
from yibao.inputs import ClaimIn, claim_from_model


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    policies, catalog = demo_inputs()
    claims = [claim_from_model(ClaimIn.model_validate(c)) for c in generate_claims(30, 200, 5)]
    return settle_tables(*formats.tables_of(claims), catalog=catalog, policies=policies)


def _encodings(path: Path) -> dict[str, set[str]]:
    meta = pq.ParquetFile(path).metadata
    out: dict[str, set[str]] = {}
    for g in range(meta.num_row_groups):
        for k in range(meta.num_columns):
            column = meta.row_group(g).column(k)
            out.setdefault(column.path_in_schema, set()).update(column.encodings)
    return out


@pytest.mark.parametrize("compression", ["lz4", "zstd", "snappy", "none"])
def test_results_read_back_equal(
    tmp_path: Path, tables: tuple[pa.Table, pa.Table], compression: str
) -> None:
    results, lines = tables
    out, lines_out = tmp_path / "r.parquet", tmp_path / "l.parquet"
    write_results(results, lines, out=out, lines_out=lines_out, compression=compression)
    assert pq.read_table(out).equals(results) and pq.read_table(lines_out).equals(lines)
    # the same types as in memory (plain text), whatever the encoding in the file
    assert pq.read_schema(out).equals(RESULT_SCHEMA)
    assert pq.read_schema(lines_out).equals(RESULT_LINE_SCHEMA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.parquet", "r.parquet"]


def test_layout_in_the_file(tmp_path: Path, tables: tuple[pa.Table, pa.Table]) -> None:
    results, lines = tables
    out, lines_out = tmp_path / "r.parquet", tmp_path / "l.parquet"
    write_results(results, lines, out=out, lines_out=lines_out)
    encodings = {**_encodings(out), **{f"lines.{k}": v for k, v in _encodings(lines_out).items()}}
    for name in ("status", "offsite_status", "policy_id", "setting", "lines.code"):
        assert any("DICTIONARY" in e for e in encodings[name]), name
    for name in ("claim_id", "person_id", "acc_supplementary"):
        assert not any("DICTIONARY" in e for e in encodings[name]), name
    for name in ("total_fen", "date", "acc_year", "lines.claim_row", "lines.amount_fen"):
        assert "DELTA_BINARY_PACKED" in encodings[name], name
    assert set(RESULT_DICTIONARY_COLUMNS) <= set(RESULT_SCHEMA.names) | {"code"}
    meta = pq.ParquetFile(out).metadata.row_group(0)
    stats = {
        meta.column(k).path_in_schema: meta.column(k).is_stats_set for k in range(meta.num_columns)
    }
    assert stats["total_fen"] and stats["date"] and not stats["acc_supplementary"]


def test_results_alone(tmp_path: Path, tables: tuple[pa.Table, pa.Table]) -> None:
    write_results(*tables, out=tmp_path / "r.parquet", lines_out=None)
    assert pq.read_table(tmp_path / "r.parquet").equals(tables[0])
    assert [p.name for p in tmp_path.iterdir()] == ["r.parquet"]


@pytest.mark.parametrize("failing", ["results", "lines"])
def test_a_failed_write_leaves_no_file(
    tmp_path: Path,
    tables: tuple[pa.Table, pa.Table],
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    results, lines = tables
    real = formats.write_parquet

    def flaky(table: pa.Table, path: Path, *, compression: str) -> None:
        real(table, path, compression=compression)
        if (table.num_columns == len(RESULT_SCHEMA)) == (failing == "results"):
            raise OSError("disk full")

    monkeypatch.setattr(formats, "write_parquet", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_results(results, lines, out=tmp_path / "r.parquet", lines_out=tmp_path / "l.parquet")
    assert list(tmp_path.iterdir()) == []
