"""``yibao synth``: a synthetic year calibrated to the published shares, reproducible by seed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from yibao.batch.formats import read_parquet_claims
from yibao.batch.synth import (
    CATEGORIES,
    TOTAL_MILLIONS,
    calibration,
    demo_inputs,
    line_amounts_fen,
    synth_tables,
    write_tables,
)
from yibao.cli.main import app
from yibao.engine.columnar import CLAIM_SCHEMA, LINE_SCHEMA, settle_tables

POLICIES, CATALOG = demo_inputs()
runner = CliRunner()


@pytest.fixture(scope="module")
def year() -> tuple[pa.Table, pa.Table]:
    return synth_tables(25_000, 2026, 11, policies=POLICIES, catalog=CATALOG)


def test_the_tables_are_in_the_columnar_layout_and_in_run_order(
    year: tuple[pa.Table, pa.Table],
) -> None:
    claims, lines = year
    assert claims.schema.equals(CLAIM_SCHEMA) and lines.schema.equals(LINE_SCHEMA)
    days = claims.column("date").to_numpy()
    assert (np.diff(days.astype("int64")) >= 0).all()  # run order is date order
    assert days.min().astype(object).year == days.max().astype(object).year == 2026
    rows = lines.column("claim_row").to_numpy()
    assert (np.diff(rows) >= 0).all()
    assert set(np.unique(rows)) == set(range(claims.num_rows))  # every claim has lines
    assert pc.count_distinct(claims.column("claim_id")).as_py() == claims.num_rows
    assert (lines.column("quantity_e4").to_numpy() > 0).all()
    assert (lines.column("unit_price_e4").to_numpy() > 0).all()
    # every line's code is in its treatment region's catalog
    region = claims.column("institution_region").take(lines.column("claim_row"))
    pairs = set(zip(region.to_pylist(), lines.column("code").to_pylist(), strict=True))
    assert all(CATALOG.get(r, c) is not None for r, c in pairs)


def test_the_shares_and_averages_are_near_the_published_figures(
    year: tuple[pa.Table, pa.Table],
) -> None:
    claims, lines = year
    assert 3.7 < claims.num_rows / 25_000 < 4.3  # about four claims a person
    kinds = Counter(s[4:6] for s in claims.column("claim_id").to_pylist())
    amount = line_amounts_fen(lines)
    per_claim = np.bincount(lines.column("claim_row").to_numpy(), weights=amount)
    kind_of = np.asarray([s[4:6] for s in claims.column("claim_id").to_pylist()])
    for c in CATEGORIES:
        share = kinds[c.code] / claims.num_rows
        target = c.count_millions / TOTAL_MILLIONS
        assert abs(share - target) < 0.12 * target, (c.code, share, target)
        mean = per_claim[kind_of == c.code].mean() / 100
        assert abs(mean - c.mean_yuan) < 0.04 * c.mean_yuan, (c.code, mean)
    figures = {f.name: f.achieved for f in calibration(claims, lines, CATALOG)}
    assert 0.20 <= figures["class B share of inpatient amounts"] <= 0.30
    assert 0.01 < figures["lines priced above the item's ceiling, of lines with a ceiling"] < 0.2
    # a long tail: the largest 1% of stays carry far more than 1% of the money
    assert figures["share of inpatient amounts in the largest 1% of stays"] > 0.08
    assert figures["largest inpatient bill"] > 100_000
    assert figures["persons with two or more stays, of persons with a stay"] > 0.05
    assert 0.01 < figures["claims treated off-site"] < 0.2
    assert figures["off-site claims of persons without a filing"] > 0.05
    assert figures["off-site claims marked emergency"] > 0.01


def test_the_population_has_every_kind_the_issue_names(year: tuple[pa.Table, pa.Table]) -> None:
    claims, _ = year
    kinds = set(
        zip(
            claims.column("scheme").to_pylist(),
            claims.column("person_type").to_pylist(),
            strict=True,
        )
    )
    assert kinds == {
        ("employee", "in_service"),
        ("employee", "retired"),
        ("resident", "adult"),
        ("resident", "minor"),
    }  # the demo policies have no student policy: students are minors (or adults) there
    filings = Counter(x for x in claims.column("filing_type").to_pylist() if x)
    assert {"resettled_retiree", "posted_worker", "long_term_resident", "referral"} <= set(filings)
    assert set(claims.column("insured_region").to_pylist()) == {"110000", "130600", "460200"}
    liabilities = set(claims.column("liability").to_pylist())
    assert {None, "third_party_unresolved", "work_injury"} <= liabilities
    assert pc.any(claims.column("assistance_eligible")).as_py()
    employees = pc.equal(claims.column("scheme"), "employee")
    balances = pc.filter(claims.column("account_balance_fen"), employees).to_numpy()
    assert (balances > 0).mean() > 0.9
    residents = pc.filter(claims.column("account_balance_fen"), pc.invert(employees))
    assert pc.max(residents).as_py() == 0


def test_students_appear_when_a_policy_covers_them() -> None:
    student = [
        dataclasses.replace(p, id=p.id + "-s", person_types=frozenset({"student"}))
        for p in POLICIES
        if p.scheme == "resident" and "minor" in p.person_types
    ]
    claims, _ = synth_tables(3_000, 2026, 5, policies=POLICIES + student, catalog=CATALOG)
    types = Counter(claims.column("person_type").to_pylist())
    assert types["student"] > 0 and types["minor"] > 0


def test_the_claims_settle_on_the_demo_policies() -> None:
    claims, lines = synth_tables(400, 2026, 3, policies=POLICIES, catalog=CATALOG)
    results, _ = settle_tables(claims, lines, catalog=CATALOG, policies=POLICIES)
    status = Counter(results.column("status").to_pylist())
    # rejections only where a Baoding policy suspends home benefits of a long-term filer
    assert status["settled"] / claims.num_rows > 0.98
    reasons = {r for r in results.column("reason").to_pylist() if r}
    assert all("suspends home benefits" in r for r in reasons)
    offsite = set(results.column("offsite_status").to_pylist())
    assert {"local", "long_term", "temporary", "unfiled"} <= offsite


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        claims, lines = synth_tables(2_000, 2026, seed, policies=POLICIES, catalog=CATALOG)
        write_tables(claims, lines, tmp_path / f"{name}.parquet")
    for suffix in (".parquet", ".lines.parquet"):
        a, b, c = ((tmp_path / f"{n}{suffix}").read_bytes() for n in "abc")
        assert a == b
        assert a != c
    # what was written reads back through the batch reader, checked and unchanged
    claims, lines = read_parquet_claims(tmp_path / "a.parquet", CATALOG)
    again, again_lines = synth_tables(2_000, 2026, 7, policies=POLICIES, catalog=CATALOG)
    assert claims.equals(again) and lines.equals(again_lines)


def test_synth_command_writes_both_files(tmp_path: Path) -> None:
    out = tmp_path / "year.parquet"
    result = runner.invoke(app, ["synth", "--persons", "500", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and (tmp_path / "year.lines.parquet").is_file()
    text = " ".join(result.output.split())
    assert "NHSA Q1 2025" in text and "claims" in text
    claims, _lines = read_parquet_claims(out, CATALOG)
    expected, _ = synth_tables(500, 2026, 4, policies=POLICIES, catalog=CATALOG)
    assert claims.equals(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["year.lines.parquet", "year.parquet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--persons", "0"], "--persons"),
        (["--persons", "10", "--year", "99999"], "--year"),
        (["--persons", "10", "--policies", "NOWHERE"], "not a folder"),
        (["--persons", "10", "--catalog", "NOWHERE.csv"], "no such file"),
    ],
)
def test_synth_refuses_bad_arguments_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["synth", *args, "--out", str(tmp_path / "y.parquet")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_synth_refuses_an_output_it_cannot_write(tmp_path: Path) -> None:
    for out in (tmp_path / "missing" / "y.parquet", tmp_path / "y.csv", tmp_path):
        result = runner.invoke(app, ["synth", "--persons", "10", "--out", str(out)])
        assert result.exit_code == 2, out
        assert result.stderr.startswith("error: --out")
    assert list(tmp_path.iterdir()) == []


def test_work_injuries_are_employees_in_service(year: tuple[pa.Table, pa.Table]) -> None:
    claims, _ = year
    injured = pc.equal(claims.column("liability"), "work_injury")
    kinds = set(pc.filter(claims.column("person_type"), injured).to_pylist())
    assert kinds == {"in_service"}


def test_synth_says_which_claims_no_policy_covers(tmp_path: Path) -> None:
    out = tmp_path / "y.parquet"
    result = runner.invoke(app, ["synth", "--persons", "200", "--year", "2027", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    # the demo has one policy for 2027 (Beijing's resident adults): everyone else is rejected
    assert "note: no policy of 2027 for 460200/employee/retired" in text
    assert "110000/resident/adult" not in text
