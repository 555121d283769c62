"""`yibao batch settle`: the same figures as `yibao settle`, from JSON, JSON Lines or Parquet;
invalid input refused as `yibao settle` refuses it, with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.batch.kit import CATALOGS, POLICIES, generate_claims, write_json, write_json_lines
from yibao.cli.main import app
from yibao.engine.columnar import claims_to_tables, results_to_dicts
from yibao.engine.columnar_convert import yuan
from yibao.engine.render import MONEY_FIELDS
from yibao.inputs import ClaimIn, claim_from_model

runner = CliRunner()
RULES = [arg for path in CATALOGS for arg in ("--catalog", str(path))] + [
    "--policies",
    str(POLICIES),
]


def batch(claims: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["batch", "settle", str(claims), *RULES, "--out", str(out), *extra])


def settle_json(claims: Path) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["settle", str(claims), *RULES])
    assert result.exit_code == 0, result.output
    payload: list[dict[str, Any]] = json.loads(result.stdout)
    return payload


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return generate_claims(40, 300, 11)


@pytest.fixture
def claims_json(tmp_path: Path, claims: list[dict[str, Any]]) -> Path:
    return write_json(claims, tmp_path / "claims.json")


def write_parquet(claims: list[dict[str, Any]], path: Path) -> Path:
    tables = claims_to_tables([claim_from_model(ClaimIn.model_validate(c)) for c in claims])
    pq.write_table(tables[0], path)
    pq.write_table(tables[1], path.with_name(path.stem + ".lines.parquet"))
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".part", ".parquet"))


def test_every_field_equals_yibao_settle(tmp_path: Path, claims_json: Path) -> None:
    expected = settle_json(claims_json)
    out, lines_out = tmp_path / "results.parquet", tmp_path / "lines.parquet"
    result = batch(claims_json, out, "--lines-out", str(lines_out), "--partitions", "3")
    assert result.exit_code == 0, result.output
    for word in ("claims", "settled", "rejected", "fund pay", "personal burden", "claims/s"):
        assert word in result.stdout
    results, result_lines = pq.read_table(out), pq.read_table(lines_out)
    got = results_to_dicts(results, result_lines)
    assert len(got) == len(expected) == 300
    for mine, theirs in zip(got, expected, strict=True):
        assert {key: mine[key] for key in theirs} == theirs
    # and straight from the Parquet columns, not only through results_to_dicts
    columns = results.to_pydict()
    for index, theirs in enumerate(expected):
        assert columns["claim_id"][index] == theirs["claim_id"]
        assert columns["status"][index] == theirs["status"]
        assert columns["reason"][index] == theirs["reason"]
        for name in MONEY_FIELDS:
            assert yuan(columns[f"{name}_fen"][index]) == theirs[name]
    assert result_lines.num_rows == sum(len(r["lines"]) for r in expected)
    summary_total = sum(columns["total_fen"])
    assert yuan(summary_total) in result.stdout


def test_json_lines_and_parquet_give_the_same_results(
    tmp_path: Path, claims: list[dict[str, Any]], claims_json: Path
) -> None:
    outs = {}
    inputs = {
        "json": claims_json,
        "jsonl": write_json_lines(claims, tmp_path / "claims.jsonl"),
        "parquet": write_parquet(claims, tmp_path / "claims.parquet"),
    }
    folder = tmp_path / "claims-folder"
    folder.mkdir()
    tables = claims_to_tables([claim_from_model(ClaimIn.model_validate(c)) for c in claims])
    pq.write_table(tables[0], folder / "claims.parquet")
    pq.write_table(tables[1], folder / "lines.parquet")
    inputs["folder"] = folder
    for name, source in inputs.items():
        out = tmp_path / f"out-{name}.parquet"
        result = batch(source, out, "--lines-out", str(tmp_path / f"lines-{name}.parquet"))
        assert result.exit_code == 0, (name, result.output)
        outs[name] = (pq.read_table(out), pq.read_table(tmp_path / f"lines-{name}.parquet"))
    for name in ("jsonl", "parquet", "folder"):
        assert outs[name][0].equals(outs["json"][0]), name
        assert outs[name][1].equals(outs["json"][1]), name


def test_a_local_cluster_of_two_workers_writes_the_same_file(
    tmp_path: Path, claims_json: Path
) -> None:
    alone, spread = tmp_path / "alone.parquet", tmp_path / "spread.parquet"
    assert batch(claims_json, alone).exit_code == 0
    result = batch(claims_json, spread, "--workers", "2", "--partitions", "4")
    assert result.exit_code == 0, result.output
    assert pq.read_table(spread).equals(pq.read_table(alone))


def refused(tmp_path: Path, claims: Path, *extra: str) -> str:
    before = leftovers(tmp_path)
    out = tmp_path / "never.parquet"
    result = batch(claims, out, "--lines-out", str(tmp_path / "never-lines.parquet"), *extra)
    assert result.exit_code == 2, result.output
    assert not out.exists() and not (tmp_path / "never-lines.parquet").exists()
    assert leftovers(tmp_path) == before  # no temporary file left either
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_invalid_json_is_refused_with_yibao_settles_very_line(
    tmp_path: Path, claims: list[dict[str, Any]]
) -> None:
    broken = [dict(c) for c in claims[:5]]
    broken[3] = {**broken[3], "lines": [{"code": "NOPE", "quantity": "1", "unit_price": "1"}]}
    bad_code = write_json(broken, tmp_path / "bad-code.json")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"claim_id": "x",', encoding="utf-8")
    bad_value = write_json(
        [{**claims[0], "setting": "daycare"}, *claims[1:3]], tmp_path / "bad-value.json"
    )
    for path in (bad_code, bad_json, bad_value):
        theirs = runner.invoke(app, ["settle", str(path), *RULES])
        assert theirs.exit_code == 2
        assert refused(tmp_path, path) == theirs.stderr.strip()
    assert "NOPE" in refused(tmp_path, bad_code) and "[3].lines[0].code" in refused(
        tmp_path, bad_code
    )


def test_invalid_json_lines_name_the_line(tmp_path: Path, claims: list[dict[str, Any]]) -> None:
    path = tmp_path / "claims.jsonl"
    write_json_lines(claims[:4], path)
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] = json.dumps({**claims[2], "person": {**claims[2]["person"], "scheme": "gold"}})
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    message = refused(tmp_path, path)
    assert message.startswith(f"error: {path}: line 3, person.scheme:"), message
    text[2] = '{"claim_id": '
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert refused(tmp_path, path).startswith(f"error: {path}: line 3, column ")
    text[2] = json.dumps(
        {**claims[2], "lines": [{"code": "ZZZ", "quantity": "1", "unit_price": "2"}]}
    )
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert "line 3, lines[0].code" in refused(tmp_path, path)


def test_invalid_parquet_names_file_row_and_column(
    tmp_path: Path, claims: list[dict[str, Any]]
) -> None:
    tables = claims_to_tables([claim_from_model(ClaimIn.model_validate(c)) for c in claims[:6]])
    claims_t, lines_t = tables
    path = tmp_path / "in.parquet"
    lines_path = tmp_path / "in.lines.parquet"

    def write(c: pa.Table, ln: pa.Table | None) -> None:
        pq.write_table(c, path)
        if ln is not None:
            pq.write_table(ln, lines_path)
        else:
            lines_path.unlink(missing_ok=True)

    write(claims_t, None)
    assert refused(tmp_path, path) == f"error: {lines_path}: no such file"
    write(claims_t.drop_columns(["scheme"]), lines_t)
    assert refused(tmp_path, path) == f"error: {path}: column scheme: missing column"
    settings = claims_t.column("setting").to_pylist()
    settings[4] = "daycare"
    idx = claims_t.column_names.index("setting")
    write(claims_t.set_column(idx, "setting", pa.array(settings)), lines_t)
    cid = claims[4]["claim_id"]
    assert refused(tmp_path, path) == (
        f"error: {path}: row 4 (claim {cid}), column setting: expected inpatient or outpatient"
    )
    ytd = claims_t.column("year_to_date").to_pylist()
    ytd[2] = '{"inpatient": '
    idx = claims_t.column_names.index("year_to_date")
    write(claims_t.set_column(idx, "year_to_date", pa.array(ytd, pa.string())), lines_t)
    assert refused(tmp_path, path).startswith(
        f"error: {path}: row 2 (claim {claims[2]['claim_id']}), column year_to_date: invalid JSON"
    )
    ytd[2] = '{"inpatient": {"admissions": -1}}'
    write(claims_t.set_column(idx, "year_to_date", pa.array(ytd, pa.string())), lines_t)
    assert "column year_to_date.inpatient.admissions:" in refused(tmp_path, path)
    codes = lines_t.column("code").to_pylist()
    row = lines_t.column("claim_row")[len(codes) - 1].as_py()
    codes[-1] = "NOPE"
    write(claims_t, lines_t.set_column(1, "code", pa.array(codes)))
    message = refused(tmp_path, path)
    assert message.startswith(
        f"error: {lines_path}: row {len(codes) - 1} (claim {claims[row]['claim_id']}), column code:"
    )
    assert "'NOPE' is not in the catalog of region" in message
    quantities = lines_t.column("quantity_e4").to_pylist()
    quantities[0] = -1
    write(claims_t, lines_t.set_column(2, "quantity_e4", pa.array(quantities)))
    assert "column quantity_e4: must not be negative" in refused(tmp_path, path)
    write(claims_t, lines_t.set_column(0, "claim_row", pa.array([99] * lines_t.num_rows)))
    assert "column claim_row: not a row of the claims table (0 to 5)" in refused(tmp_path, path)


def test_options_are_checked_before_any_work(tmp_path: Path, claims_json: Path) -> None:
    assert "give either --scheduler or --workers" in refused(
        tmp_path, claims_json, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"
    )
    assert "--partitions: 0: must be at least 1" in refused(
        tmp_path, claims_json, "--partitions", "0"
    )
    odd = tmp_path / "claims.txt"
    odd.write_text("[]", encoding="utf-8")
    assert "unknown claims format" in refused(tmp_path, odd)
    result = batch(claims_json, tmp_path / "missing-folder" / "out.parquet")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_an_existing_scheduler_is_used_by_its_address(tmp_path: Path, claims_json: Path) -> None:
    from distributed import LocalCluster

    alone, remote = tmp_path / "alone.parquet", tmp_path / "remote.parquet"
    assert batch(claims_json, alone).exit_code == 0
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        result = batch(claims_json, remote, "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    assert pq.read_table(remote).equals(pq.read_table(alone))
