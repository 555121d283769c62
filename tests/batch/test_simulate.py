"""``yibao simulate``: two sets of policies over the same claims, compared to the fen.

Every figure is checked against an independent path: sums of the scalar engine's
(``settle_run``) Decimal results, or a hand computation; the CSV files against the results
they were summed from; the HTML page for a chart and a table per CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from typer.testing import CliRunner

from yibao.batch.simulate import (
    CHANGE_BANDS,
    MONEY_ROWS,
    ReportTable,
    Simulation,
    by_person,
    mean_fen,
    nearest_rank,
    simulate,
    yuan,
)
from yibao.batch.simulate_report import table_csv, write_report
from yibao.batch.synth import demo_inputs
from yibao.cli.main import app
from yibao.data import demo_path
from yibao.engine import settle_run
from yibao.engine.columnar import claims_to_tables
from yibao.engine.models import (
    Catalog,
    Claim,
    ClaimLine,
    Deductible,
    FilingInfo,
    InstitutionInfo,
    PersonInfo,
    Policy,
    Settlement,
)

D = Decimal
POLICIES, CATALOG = demo_inputs()
runner = CliRunner()


def fen(value: Decimal) -> int:
    return int(value * 100)


def person(
    pid: str, region: str = "110000", scheme: str = "employee", kind: str = "in_service", **kw: Any
) -> PersonInfo:
    return PersonInfo(id=pid, insured_region=region, scheme=scheme, person_type=kind, **kw)


def claim(
    cid: str,
    who: PersonInfo,
    day: date,
    setting: str,
    lines: Sequence[tuple[str, str, str]],
    *,
    region: str | None = None,
    level: int = 3,
    **kw: Any,
) -> Claim:
    where = region or who.insured_region
    return Claim(
        claim_id=cid,
        date=day,
        setting=setting,  # type: ignore[arg-type]
        person=who,
        institution=InstitutionInfo(id=f"h-{where}-{level}", region=where, level=level),
        lines=tuple(ClaimLine(code=c, quantity=D(q), unit_price=D(p)) for c, q, p in lines),
        **kw,
    )


def with_deductible(policies: Sequence[Policy], policy_id: str, amount: str) -> list[Policy]:
    """The policies with one policy's inpatient per-admission deductible set to ``amount``."""
    out = []
    for p in policies:
        if p.id == policy_id:
            assert p.inpatient is not None
            deductible = dataclasses.replace(
                p.inpatient.deductible, by_level={1: D(amount), 2: D(amount), 3: D(amount)}
            )
            p = dataclasses.replace(
                p, inpatient=dataclasses.replace(p.inpatient, deductible=deductible)
            )
        out.append(p)
    return out


def table(sim: Simulation, slug: str) -> ReportTable:
    [found] = [t for t in sim.tables if t.slug == slug]
    return found


def run(
    claims: list[Claim],
    baseline: Sequence[Policy],
    reform: Sequence[Policy],
    catalog: Catalog = CATALOG,
) -> Simulation:
    claims_table, lines_table = claims_to_tables(claims)
    return simulate(claims_table, lines_table, catalog=catalog, baseline=baseline, reform=reform)


# --- a reform computed by hand ------------------------------------------------------------

BJ_WORKER = person("p-bj-1", account_balance=D("500.00"))
SY_RESIDENT = person("p-sy-1", region="460200", scheme="resident", kind="adult")
HAND_CLAIMS = [
    # appendectomy (class A), 10,000 yuan at a level-3 hospital in Beijing
    claim("c1", BJ_WORKER, date(2026, 3, 2), "inpatient", [("S0070", "1", "10000")]),
    # an outpatient visit of the same person: the reform does not touch it
    claim("c2", BJ_WORKER, date(2026, 4, 9), "outpatient", [("S0001", "1", "50")]),
    # a Sanya resident's outpatient care, 5,000 yuan at level 1: the 800 cap binds
    claim("c3", SY_RESIDENT, date(2026, 5, 20), "outpatient", [("S0010", "1", "5000")], level=1),
]


def hand_reform() -> list[Policy]:
    """Beijing in-service employees: inpatient deductible 1,300 → 800; Sanya resident
    adults: outpatient cap 800 → 5,000."""
    out = with_deductible(POLICIES, "bj-employee-in_service-2026", "800")
    final = []
    for p in out:
        if p.id == "sy-resident-adult-2026":
            assert p.outpatient is not None
            p = dataclasses.replace(
                p, outpatient=dataclasses.replace(p.outpatient, annual_cap=D(5000))
            )
        final.append(p)
    return final


def test_a_lower_deductible_and_a_higher_cap_cost_what_the_hand_says() -> None:
    sim = run(HAND_CLAIMS, POLICIES, hand_reform())
    # c1: in scope 10,000; pool = (10,000 − 1,300) × 85% = 7,395.00, after the reform
    # (10,000 − 800) × 85% = 7,820.00: the fund pays 425.00 more.
    # c3: pool = min((5,000 − 100) × 60%, 800) = 800.00, after the reform 2,940.00.
    by_setting = {row[0]: row for row in table(sim, "by_setting").rows}
    assert by_setting["inpatient"][3:6] == [739500, 782000, 42500]
    assert by_setting["outpatient"][5] == 294000 - 80000
    assert sim.headline.fund_fen[1] - sim.headline.fund_fen[0] == 42500 + 214000
    # both persons pay less, by exactly those amounts
    assert (sim.headline.pay_more, sim.headline.pay_less) == (0, 2)
    assert sim.headline.pay_less_fen == 42500 + 214000
    persons = {r["person_id"]: r for r in sim.persons.to_pylist()}
    assert persons["p-bj-1"]["burden_difference_fen"] == -42500
    assert persons["p-sy-1"]["burden_difference_fen"] == -214000
    # the Sanya resident reached the outpatient cap under the baseline only
    caps = {row[0]: row[1:] for row in table(sim, "caps_reached").rows}
    assert caps["pool fund, outpatient annual cap 统筹门诊年度限额"] == [1, 0, -1]
    assert caps["pool fund, inpatient annual cap 统筹住院年度限额"] == [0, 0, 0]
    # the scalar engine says the same, claim by claim
    base = settle_run(HAND_CLAIMS, policies=POLICIES, catalog=CATALOG)
    new = settle_run(HAND_CLAIMS, policies=hand_reform(), catalog=CATALOG)
    assert [fen(r.pool_fund_pay) for r in base] == [739500, 0, 80000]
    assert [fen(r.pool_fund_pay) for r in new] == [782000, 0, 294000]


def test_the_same_policies_change_nothing() -> None:
    sim = run(HAND_CLAIMS, POLICIES, POLICIES)
    assert sim.headline.fund_fen[0] == sim.headline.fund_fen[1] > 0
    assert (sim.headline.pay_more, sim.headline.pay_less) == (0, 0)
    for t in sim.tables:
        if t.slug.startswith("by_"):
            assert all(row[5] == 0 and row[9] == 0 for row in t.rows), t.slug


# --- engine agreement and money invariants, on random claims and reforms ------------------

KINDS = [
    ("110000", "employee", "in_service"),
    ("110000", "employee", "retired"),
    ("110000", "resident", "adult"),
    ("110000", "resident", "minor"),
    ("130600", "employee", "in_service"),
    ("130600", "resident", "adult"),
    ("460200", "employee", "retired"),
    ("460200", "resident", "minor"),
    ("460200", "resident", "student"),  # no policy: rejected both ways
]
# codes of every demo region: classes A, B (self-pay share), C, and items with price ceilings
CODES = ["S0070", "D0001", "D0002", "D0010", "S0021", "S0090", "M0001", "F0001", "S0064", "M0008"]
REGIONS = ["110000", "130600", "460200"]


@st.composite
def claim_lists(draw: st.DrawFn) -> list[Claim]:
    people = []
    for i in range(draw(st.integers(1, 5))):
        region, scheme, kind = draw(st.sampled_from(KINDS))
        filed = draw(st.booleans())
        people.append(
            (
                person(
                    f"p{i}",
                    region,
                    scheme,
                    kind,
                    assistance_eligible=draw(st.booleans()),
                    account_balance=D(draw(st.integers(0, 500_000))) / 100
                    if scheme == "employee"
                    else D(0),
                ),
                FilingInfo("resettled_retiree", draw(st.sampled_from(REGIONS)), date(2026, 1, 1))
                if filed
                else None,
            )
        )
    claims = []
    for k in range(draw(st.integers(1, 14))):
        who, filing = draw(st.sampled_from(people))
        lines = [
            (
                draw(st.sampled_from(CODES)),
                str(draw(st.integers(1, 4))),
                str(D(draw(st.integers(1, 6_000_000))) / 100),
            )
            for _ in range(draw(st.integers(1, 3)))
        ]
        claims.append(
            claim(
                f"c{k}",
                who,
                date(2026, draw(st.integers(1, 12)), draw(st.integers(1, 28))),
                draw(st.sampled_from(["inpatient", "outpatient"])),
                lines,
                region=draw(st.sampled_from(REGIONS)),
                level=draw(st.integers(1, 3)),
                filing=filing,
                emergency=draw(st.booleans()),
                liability=draw(
                    st.sampled_from([None, None, None, "third_party_unresolved", "work_injury"])
                ),
            )
        )
    return claims


@st.composite
def reforms(draw: st.DrawFn) -> list[Policy]:
    """Every demo policy, each maybe with its deductibles scaled and its caps changed."""
    out = []
    for p in POLICIES:
        factor = D(draw(st.sampled_from(["0", "0.5", "1", "1.5"])))
        cap = draw(st.sampled_from([None, "100", "2000", "900000"]))
        changes: dict[str, Any] = {}
        for setting in ("inpatient", "outpatient"):
            rules = p.rules(setting)
            if rules is None:
                continue
            d = rules.deductible
            deductible = Deductible(
                mode=d.mode,
                amount=(d.amount * factor).quantize(D("0.01")),
                by_level={k: (v * factor).quantize(D("0.01")) for k, v in d.by_level.items()},
                later_admissions_factor=d.later_admissions_factor,
            )
            changes[setting] = dataclasses.replace(
                rules, deductible=deductible, annual_cap=D(cap) if cap else rules.annual_cap
            )
        out.append(dataclasses.replace(p, **changes))
    return out


def _sums(
    results: list[Settlement], claims: list[Claim], key: Any
) -> dict[str, tuple[int, int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r, c in zip(results, claims, strict=True):
        k = key(r, c)
        out[k][0] += 1
        out[k][1] += fen(r.fund_pay_total)
        out[k][2] += fen(r.personal_burden)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


KEYS = {
    "setting": lambda r, c: c.setting,
    "scheme": lambda r, c: c.person.scheme,
    "person_type": lambda r, c: c.person.person_type,
    "offsite_status": lambda r, c: r.offsite_status or "—",
    "institution_region": lambda r, c: c.institution.region,
    "month": lambda r, c: c.date.strftime("%Y-%m"),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=claim_lists(), reform=reforms())
def test_every_figure_is_the_sum_of_the_scalar_engines_results(
    claims: list[Claim], reform: list[Policy]
) -> None:
    sim = run(claims, POLICIES, reform)
    base = settle_run(claims, policies=POLICIES, catalog=CATALOG)
    new = settle_run(claims, policies=reform, catalog=CATALOG)
    # totals
    summary = {row[0]: row[1:3] for row in table(sim, "summary").rows}
    for name, label in (
        ("fund_pay_total", "fund total 基金支付合计"),
        ("personal_burden", "personal burden 个人负担"),
        ("pool_fund_pay", "pool fund 统筹基金"),
        ("total", "total medical cost 医疗费总额"),
    ):
        assert summary[label] == [
            sum(fen(getattr(r, name)) for r in base),
            sum(fen(getattr(r, name)) for r in new),
        ]
    # every dimension: claims, fund and burden per value, both ways
    for dim, key in KEYS.items():
        expected_base, expected_new = _sums(base, claims, key), _sums(new, claims, key)
        rows = {row[0]: row for row in table(sim, f"by_{dim}").rows}
        assert set(rows) == set(expected_base) | set(expected_new), dim
        for value, row in rows.items():
            b = expected_base.get(value, (0, 0, 0))
            n = expected_new.get(value, (0, 0, 0))
            assert row[1:6] == [b[0], n[0], b[1], n[1], n[1] - b[1]], (dim, value)
            assert row[7:10] == [b[2], n[2], n[2] - b[2]], (dim, value)
    # per person
    burden: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r0, r1, c in zip(base, new, claims, strict=True):
        burden[c.person.id][0] += fen(r0.personal_burden)
        burden[c.person.id][1] += fen(r1.personal_burden)
    persons = {r["person_id"]: r for r in sim.persons.to_pylist()}
    assert {
        p: [r["burden_baseline_fen"], r["burden_reform_fen"]] for p, r in persons.items()
    } == dict(burden)
    diffs = [b[1] - b[0] for b in burden.values()]
    assert sim.headline.pay_more == sum(d > 0 for d in diffs)
    assert sim.headline.pay_less_fen == -sum(d for d in diffs if d < 0)
    bands = table(sim, "burden_change_bands")
    assert sum(row[1] for row in bands.rows) == len(burden)
    assert sum(row[2] for row in bands.rows) == sum(diffs)
    # caps: the persons whose pool payments reached their policy's cap, from the scalar
    # engine's accumulators
    by_id = {p.id: p for p in POLICIES}
    reached = set()
    for r, c in zip(base, claims, strict=True):
        p = by_id.get(r.policy_id or "")
        if (
            r.status == "settled"
            and p is not None
            and p.outpatient is not None
            and p.outpatient.annual_cap is not None
            and r.accumulators.outpatient.pool_paid_cum >= p.outpatient.annual_cap
        ):
            reached.add(c.person.id)
    caps = {row[0]: row[1] for row in table(sim, "caps_reached").rows}
    assert caps["pool fund, outpatient annual cap 统筹门诊年度限额"] == len(reached)


# --- the statistics -------------------------------------------------------------------------


@given(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=200), st.integers(1, 100))
def test_a_percentile_is_one_persons_figure_with_enough_below_it(values: list[int], p: int) -> None:
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    q = nearest_rank(ordered, p)
    assert q in values
    assert sum(v <= q for v in values) * 100 >= p * len(values)
    assert sum(v < q for v in values) * 100 < p * len(values)


@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=100))
def test_the_mean_is_rounded_half_up_to_the_fen_as_round2(values: list[int]) -> None:
    exact = D(sum(values)) / len(values)
    got = mean_fen(np.asarray(values, dtype=np.int64))
    assert abs(D(got) - exact) <= D("0.5")
    if abs(D(got) - exact) == D("0.5"):  # a half rounds away from zero, as round2 does
        assert abs(D(got)) > abs(exact)


def test_yuan_text_is_exact() -> None:
    assert [yuan(v) for v in (0, 5, -5, 100, 123456789, -100001)] == [
        "0.00",
        "0.05",
        "-0.05",
        "1.00",
        "1234567.89",
        "-1000.01",
    ]


def test_the_change_bands_cover_every_integer_once() -> None:
    for value in (-(10**9), -1_000_000, -999_999, -1, 0, 1, 999, 1_000, 1_000_000, 10**9):
        hits = [
            label
            for low, high, label in CHANGE_BANDS
            if (low is None or value > low) and (high is None or value <= high)
        ]
        assert len(hits) == 1, value


# --- the report files -------------------------------------------------------------------


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_csv_totals_are_the_sums_of_the_results(tmp_path: Path) -> None:
    claims = HAND_CLAIMS + [
        claim(
            f"x{i}",
            person(f"q{i % 4}", *KINDS[i % 4]),
            date(2026, 1 + i % 12, 3),
            "inpatient" if i % 3 else "outpatient",
            [("D0002", "3", f"{17 + 13 * i}.35"), ("S0090", "1", "80")],
            region=REGIONS[i % 3],
            level=1 + i % 3,
        )
        for i in range(30)
    ]
    reform = hand_reform()
    sim = run(claims, POLICIES, reform)
    write_report(sim, tmp_path / "report", title="t", sources={})
    base = settle_run(claims, policies=POLICIES, catalog=CATALOG)
    new = settle_run(claims, policies=reform, catalog=CATALOG)
    fund = (sum(r.fund_pay_total for r in base), sum(r.fund_pay_total for r in new))
    burden = (sum(r.personal_burden for r in base), sum(r.personal_burden for r in new))
    for dim in KEYS:
        rows = _csv(tmp_path / "report" / f"by_{dim}.csv")
        assert sum(int(r["claims_baseline"]) for r in rows) == len(claims)
        assert (
            sum(D(r["fund_baseline"]) for r in rows),
            sum(D(r["fund_reform"]) for r in rows),
        ) == fund
        assert sum(D(r["fund_difference"]) for r in rows) == fund[1] - fund[0]
        assert (
            sum(D(r["burden_baseline"]) for r in rows),
            sum(D(r["burden_reform"]) for r in rows),
        ) == burden
    summary = {r["figure"]: r for r in _csv(tmp_path / "report" / "summary.csv")}
    assert D(summary["fund total 基金支付合计"]["baseline"]) == fund[0]
    assert D(summary["fund total 基金支付合计"]["difference"]) == fund[1] - fund[0]
    assert summary["claims 结算笔数"]["baseline"] == str(len(claims))
    for name in ("pool_fund_pay", "supplementary_pay", "assistance_pay", "account_pay", "cash_pay"):
        label = dict(MONEY_ROWS)[f"{name}_fen"]
        assert D(summary[label]["baseline"]) == sum(getattr(r, name) for r in base), name
    change = {r["group"]: r for r in _csv(tmp_path / "report" / "burden_change.csv")}
    assert (
        D(change["pay less 少付"]["total"]) - D(change["pay more 多付"]["total"])
        == burden[0] - burden[1]
    )


def test_the_html_has_a_chart_and_a_table_per_csv(tmp_path: Path) -> None:
    sim = run(HAND_CLAIMS, POLICIES, hand_reform())
    written = write_report(
        sim, tmp_path / "r", title="Policy simulation 政策模拟", sources={"claims": "x.parquet"}
    )
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    csvs = sorted(p.name for p in (tmp_path / "r").glob("*.csv"))
    assert sorted(p.name for p in written if p.suffix == ".csv") == csvs
    assert len(csvs) == len(sim.tables) >= 11
    for t in sim.tables:
        # the chart's container, its figures (valid JSON), then its table, in that order
        chart = html.index(f'<div class="chart" id="chart-{t.slug}" data-chart="figures-{t.slug}"')
        figures = re.search(
            rf'<script type="application/json" id="figures-{t.slug}">(.*?)</script>', html, re.S
        )
        assert figures is not None
        data = json.loads(figures.group(1))
        assert data["categories"] and data["series"]
        table_at = html.index(f'<table data-table="{t.slug}">')
        assert chart < figures.start() < table_at
        for row in t.cells():
            assert all(f"<td>{escape(cell)}</td>" in html for cell in row), row
    assert "echarts.init" in html and 'version:"6.1.0"' in html  # ECharts inline, standalone
    assert "<script src=" not in html and "http://" not in html.split("<script>")[0]
    assert 'id="chart-by_setting"' in html and 'id="chart-caps_reached"' in html
    assert table_csv(table(sim, "by_setting")).splitlines()[0].startswith("setting,claims_baseline")


def test_script_json_cannot_close_its_script(tmp_path: Path) -> None:
    evil = person("</script><script>alert(1)</script>", "110000")
    sim = run(
        [claim("e1", evil, date(2026, 2, 1), "outpatient", [("S0001", "1", "30")])],
        POLICIES,
        POLICIES,
    )
    sim.tables[0].chart = {
        "kind": "bar",
        "categories": ["</script><b>"],
        "series": [{"name": "x", "values": ["1"]}],
    }
    write_report(sim, tmp_path / "r", title="<t>", sources={"claims": "<x>"})
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "</script><b>" not in html and "<script>alert" not in html
    assert "&lt;t&gt;" in html


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    claims_file = tmp_path / "claims.json"
    payload = [
        {
            "claim_id": c.claim_id,
            "date": c.date.isoformat(),
            "setting": c.setting,
            "person": {
                "id": c.person.id,
                "insured_region": c.person.insured_region,
                "scheme": c.person.scheme,
                "person_type": c.person.person_type,
                "account_balance": str(c.person.account_balance),
            },
            "institution": {
                "id": c.institution.id,
                "region": c.institution.region,
                "level": c.institution.level,
            },
            "lines": [
                {"code": ln.code, "quantity": str(ln.quantity), "unit_price": str(ln.unit_price)}
                for ln in c.lines
            ],
        }
        for c in HAND_CLAIMS
    ]
    claims_file.write_text(json.dumps(payload), encoding="utf-8")
    reform = tmp_path / "reform"
    shutil.copytree(demo_path("policies"), reform)
    bj = reform / "110000-employee-in_service-2026.yaml"
    text = bj.read_text(encoding="utf-8")
    assert "by_level: {1: 1300, 2: 1300, 3: 1300}" in text
    bj.write_text(
        text.replace("by_level: {1: 1300, 2: 1300, 3: 1300}", "by_level: {1: 800, 2: 800, 3: 800}"),
        encoding="utf-8",
    )
    return {"claims": claims_file, "reform": reform, "tmp": tmp_path}


def test_simulate_writes_the_report_and_the_person_diff(files: dict[str, Path]) -> None:
    out, diff = files["tmp"] / "report", files["tmp"] / "persons.csv"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(files["claims"]),
            "--baseline",
            str(demo_path("policies")),
            "--reform",
            str(files["reform"]),
            "--out",
            str(out),
            "--person-diff",
            str(diff),
        ],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "425.00" in text  # the fund's difference, on the terminal
    assert "1 pay less" in text
    assert (out / "index.html").is_file() and (out / "by_month.csv").is_file()
    rows = {r["person_id"]: r for r in _csv(diff)}
    assert rows["p-bj-1"]["burden_difference"] == "-425.00"
    assert rows["p-sy-1"]["burden_difference"] == "0.00"
    assert set(rows["p-bj-1"]) >= {
        "burden_baseline",
        "burden_reform",
        "fund_baseline",
        "fund_reform",
        "claims",
    }
    # a second run replaces the report whole
    (out / "stale.csv").write_text("x", encoding="utf-8")
    again = runner.invoke(
        app,
        [
            "simulate",
            str(files["claims"]),
            "--baseline",
            str(demo_path("policies")),
            "--reform",
            str(files["reform"]),
            "--out",
            str(out),
        ],
    )
    assert again.exit_code == 0, again.output
    assert not (out / "stale.csv").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing_claims", "no such file"),
        ("baseline_not_folder", "--baseline"),
        ("empty_reform", "holds no policy"),
        ("bad_policy", "reform"),
        ("unknown_code", "not in the catalog"),
        ("out_is_file", "is a file"),
        ("out_has_other_files", "no report in it"),
        ("diff_folder_missing", "does not exist"),
    ],
)
def test_invalid_input_is_one_line_exit_2_and_nothing_written(
    files: dict[str, Path], change: str, message: str
) -> None:
    tmp = files["tmp"]
    claims, baseline, reform = files["claims"], demo_path("policies"), files["reform"]
    out, diff = tmp / "report", tmp / "persons.csv"
    if change == "missing_claims":
        claims = tmp / "nope.json"
    elif change == "baseline_not_folder":
        baseline = claims
    elif change == "empty_reform":
        reform = tmp / "empty"
        reform.mkdir()
    elif change == "bad_policy":
        (reform / "zz.yaml").write_text("id: x\nregion: 1\n", encoding="utf-8")
    elif change == "unknown_code":
        claims.write_text(
            claims.read_text(encoding="utf-8").replace("S0070", "NOPE1"), encoding="utf-8"
        )
    elif change == "out_is_file":
        out.write_text("", encoding="utf-8")
    elif change == "out_has_other_files":
        out.mkdir()
        (out / "mine.txt").write_text("keep", encoding="utf-8")
    elif change == "diff_folder_missing":
        diff = tmp / "no" / "persons.csv"
    before = sorted(p.relative_to(tmp) for p in tmp.rglob("*"))
    result = runner.invoke(
        app,
        [
            "simulate",
            str(claims),
            "--baseline",
            str(baseline),
            "--reform",
            str(reform),
            "--out",
            str(out),
            "--person-diff",
            str(diff),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert sorted(p.relative_to(tmp) for p in tmp.rglob("*")) == before  # nothing written


def test_spread_by_person_the_simulation_is_the_same() -> None:
    claims = [
        claim(
            f"s{i}",
            person(f"w{i % 7}", *KINDS[i % 8]),
            date(2026, 1 + i % 12, 1 + i % 28),
            "inpatient" if i % 4 == 0 else "outpatient",
            [("S0070", "1", f"{300 + 97 * i}"), ("D0002", "2", "31.50")],
            region=REGIONS[i % 3],
            level=1 + i % 3,
        )
        for i in range(60)
    ]
    claims_table, lines_table = claims_to_tables(claims)
    reform = hand_reform()
    whole = simulate(claims_table, lines_table, catalog=CATALOG, baseline=POLICIES, reform=reform)
    spread = simulate(
        claims_table,
        lines_table,
        catalog=CATALOG,
        baseline=POLICIES,
        reform=reform,
        settle=by_person(None, partitions=3),
    )
    assert [t.rows for t in spread.tables] == [t.rows for t in whole.tables]
    assert spread.persons.equals(whole.persons)


def test_simulate_on_a_dask_cluster_writes_the_same_report(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--workers settles through a Dask client; here a cluster of threads in this process (a
    cluster of processes gives the same tables: tests/batch/test_batch_run.py)."""
    import distributed

    import yibao.batch.run

    asked: list[int | None] = []

    @contextmanager
    def threads(*, scheduler: str | None, workers: int | None) -> Iterator[Any]:
        asked.append(workers)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client

    monkeypatch.setattr(yibao.batch.run, "dask_client", threads)
    args = [
        "simulate",
        str(files["claims"]),
        "--baseline",
        str(demo_path("policies")),
        "--reform",
        str(files["reform"]),
    ]
    there = runner.invoke(app, [*args, "--out", str(files["tmp"] / "there"), "--workers", "2"])
    assert there.exit_code == 0, there.output
    assert asked == [2]
    monkeypatch.undo()
    here = runner.invoke(app, [*args, "--out", str(files["tmp"] / "here")])
    assert here.exit_code == 0, here.output
    for path in sorted((files["tmp"] / "here").glob("*.csv")):
        assert path.read_bytes() == (files["tmp"] / "there" / path.name).read_bytes(), path.name


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "0"], "--workers"),
        (["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "either --scheduler or --workers"),
    ],
)
def test_simulate_refuses_bad_cluster_options(
    files: dict[str, Path], extra: list[str], message: str
) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            str(files["claims"]),
            "--baseline",
            str(demo_path("policies")),
            "--reform",
            str(files["reform"]),
            "--out",
            str(files["tmp"] / "r"),
            *extra,
        ],
    )
    assert result.exit_code == 2 and message in result.stderr
    assert not (files["tmp"] / "r").exists()
