"""``yibao settle`` as a user runs it: results on stdout, or exit 2 and one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.data import demo_path

POLICY = """\
id: bj-test
region: "110000"
scheme: employee
person_types: [in_service]
effective_from: 2026-01-01
inpatient:
  deductible: {mode: per_admission, by_level: {1: 1300, 2: 1300, 3: 1300}, later_admissions_factor: 0.5}
  bands:
    - {up_to: 30000, ratio: {1: 0.85, 2: 0.85, 3: 0.85}}
    - {up_to: 40000, ratio: {1: 0.90, 2: 0.90, 3: 0.90}}
    - {up_to: null, ratio: {1: 0.95, 2: 0.95, 3: 0.95}}
"""
CATALOG = """\
region,code,name,kind,class,self_pay_ratio,price_ceiling,settings,min_level
110000,A1,甲类药,drug,A,,,both,
110000,B1,乙类药,drug,B,0.10,,both,
110000,C1,丙类药,drug,C,,,both,
"""


def _claim(claim_id: str, day: str, lines: list[dict[str, str]]) -> dict[str, object]:
    return {
        "claim_id": claim_id,
        "date": day,
        "setting": "inpatient",
        "person": {
            "id": "p1",
            "insured_region": "110000",
            "scheme": "employee",
            "person_type": "in_service",
        },
        "institution": {"id": "h1", "region": "110000", "level": 3},
        "lines": lines,
    }


BEIJING = [
    {"code": "A1", "quantity": "1", "unit_price": "35000"},
    {"code": "B1", "quantity": "1", "unit_price": "10000.00"},
    {"code": "C1", "quantity": "1", "unit_price": "5000"},
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "p.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CATALOG, encoding="utf-8")
    claims = [_claim("first", "2026-03-01", BEIJING), _claim("second", "2026-09-01", BEIJING[:1])]
    (tmp_path / "claims.json").write_text(json.dumps(claims), encoding="utf-8")
    return {
        "policy": tmp_path / "p.yaml",
        "catalog": tmp_path / "c.csv",
        "claims": tmp_path / "claims.json",
    }


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_settle_prints_a_json_list_in_order(files: dict[str, Path]) -> None:
    code, out, err = run(
        "settle", files["claims"], "--catalog", files["catalog"], "--policy", files["policy"]
    )
    assert code == 0, err
    first, second = json.loads(out)
    assert first["pool_fund_pay"] == "37195.00" and first["personal_burden"] == "12805.00"
    assert first["accumulators"]["inpatient"]["admissions"] == 1
    # the run carries the person's year: the second admission pays the 650 deductible
    # and sits at 44,000 on the axis → (35,000 − 650) × 95% = 32,632.50
    assert second["deductible"] == "650.00" and second["pool_fund_pay"] == "32632.50"


def test_policies_folder_and_explain(files: dict[str, Path]) -> None:
    code, out, _ = run(
        "settle",
        files["claims"],
        "--catalog",
        files["catalog"],
        "--policies",
        files["policy"].parent,
        "--explain",
    )
    assert code == 0
    first = json.loads(out)[0]
    text = "\n".join(first["explanation"])
    assert "band part 1300.00–30000.00: 28700.00 at 85%" in text
    assert "self-pay ratio 10%" in text and "deductible due 1300.00" in text
    assert "off-site status local" in text


def test_table_format_with_explanations(files: dict[str, Path]) -> None:
    code, out, _ = run(
        "settle",
        files["claims"],
        "--catalog",
        files["catalog"],
        "--policy",
        files["policy"],
        "--format",
        "table",
        "--explain",
    )
    assert code == 0
    assert "37195.00" in out and "band part" in out and "first" in out


@pytest.mark.parametrize(
    ("target", "content", "expected"),
    [
        ("claims", "[{", "claims.json: line 1, column 3: invalid JSON"),
        (
            "claims",
            json.dumps(
                [_claim("x", "2026-01-01", [{"code": "ZZ", "quantity": "1", "unit_price": "1"}])]
            ),
            "claims.json: [0].lines[0].code (claim x): code 'ZZ' is not in the catalog of region 110000",
        ),
        (
            "claims",
            json.dumps(
                [_claim("x", "2026-01-01", [{"code": "A1", "quantity": "-1", "unit_price": "1"}])]
            ),
            "claims.json: [0].lines[0].quantity: must not be negative",
        ),
        ("policy", POLICY + "colour: red\n", "p.yaml: top level: unknown key 'colour'"),
        ("catalog", CATALOG + "110000,A1,dup,drug,A,,,both,\n", "c.csv: line 5: duplicate code A1"),
    ],
)
def test_invalid_input_exits_2_with_one_line_and_no_output(
    files: dict[str, Path], target: str, content: str, expected: str
) -> None:
    files[target].write_text(content, encoding="utf-8")
    code, out, err = run(
        "settle", files["claims"], "--catalog", files["catalog"], "--policy", files["policy"]
    )
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert expected in err


def test_missing_file_is_a_clear_error(files: dict[str, Path]) -> None:
    code, out, err = run(
        "settle", files["claims"], "--catalog", "nope.csv", "--policy", files["policy"]
    )
    assert (code, out) == (2, "")
    assert "nope.csv: no such file" in err


def test_the_demo_claims_settle() -> None:
    catalogs = sorted(demo_path("catalogs").glob("*.csv"))
    args = ["settle", demo_path("claims", "demo-claims.json")]
    for path in catalogs:
        args += ["--catalog", path]
    code, out, err = run(*args, "--policies", demo_path("policies"))
    assert code == 0, err
    results = json.loads(out)
    assert len(results) >= 10
    for r in results:
        assert _identities_hold(r), r["claim_id"]
    statuses = {r["claim_id"]: r["status"] for r in results}
    assert "rejected" in statuses.values() and "settled" in statuses.values()


def _identities_hold(r: dict[str, object]) -> bool:
    from decimal import Decimal as D

    def f(k: str) -> D:
        return D(str(r[k]))

    return (
        f("total")
        == f("full_self_pay") + f("over_limit_self_pay") + f("pre_self_pay") + f("in_scope")
        and f("total") == f("fund_pay_total") + f("personal_burden")
        and f("personal_burden") == f("account_pay") + f("cash_pay")
    )


def test_table_says_why_a_claim_was_rejected(files: dict[str, Path]) -> None:
    claim = _claim("stranger", "2026-03-01", BEIJING[:1])
    claim["person"] = {**claim["person"], "person_type": "astronaut"}  # type: ignore[dict-item]
    files["claims"].write_text(json.dumps([claim]), encoding="utf-8")
    code, out, _ = run(
        "settle",
        files["claims"],
        "--catalog",
        files["catalog"],
        "--policy",
        files["policy"],
        "--format",
        "table",
    )
    assert code == 0
    assert "rejected: no policy for region 110000" in " ".join(out.split())


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
def test_the_output_is_the_bytes_json_dumps_writes(explain: bool) -> None:
    """The results are written by orjson for speed; the bytes are those of
    ``json.dumps(..., ensure_ascii=False, indent=2)``, Chinese explanations included."""
    catalogs = sorted(demo_path("catalogs").glob("*.csv"))
    args = ["settle", demo_path("claims", "demo-claims.json")]
    for path in catalogs:
        args += ["--catalog", path]
    args += ["--policies", demo_path("policies")] + (["--explain"] if explain else [])
    code, out, err = run(*args)
    assert code == 0, err
    parsed = json.loads(out)
    assert out == json.dumps(parsed, ensure_ascii=False, indent=2) + "\n"
    if explain:
        assert any(ord(ch) > 127 for ch in out)  # the explanations' Chinese, unescaped


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_orjson_and_json_dumps_agree_on_any_result_shape(value: object) -> None:
    """Whatever strings a claim carries (ids, codes, reasons: any Unicode), both encoders give
    the same bytes."""
    expected = json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8", "surrogatepass")
    try:
        got = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        # lone surrogates: orjson refuses them; claims read from UTF-8 files never hold one
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(value, ensure_ascii=False))
        return
    assert got == expected


def test_the_run_pauses_the_cyclic_collector_and_gives_it_back(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading, settling and writing run with the collector paused; whatever the outcome,
    the collector is on again afterwards (the command also runs inside the demo's process)."""
    import gc

    import yibao.cli.settle
    import yibao.inputs

    seen: list[bool] = []
    reading = yibao.inputs.parse_claims_text
    writing = yibao.cli.settle.write_json

    def read(text: str, source: str) -> object:
        seen.append(gc.isenabled())
        return reading(text, source)

    def write(results: object, *, explain: bool) -> None:
        seen.append(gc.isenabled())
        writing(results, explain=explain)  # type: ignore[arg-type]

    monkeypatch.setattr(yibao.cli.settle, "parse_claims_text", read)
    monkeypatch.setattr(yibao.cli.settle, "write_json", write)
    assert gc.isenabled()
    args = ["--catalog", files["catalog"], "--policy", files["policy"]]
    code, out, err = run("settle", files["claims"], *args)
    assert code == 0, err
    assert len(json.loads(out)) == 2
    assert seen == [False, False] and gc.isenabled()

    files["claims"].write_text('[{"claim_id": "x"}]', encoding="utf-8")
    code, _, err = run("settle", files["claims"], *args)
    assert code == 2 and "error:" in err
    assert seen == [False, False, False] and gc.isenabled()
