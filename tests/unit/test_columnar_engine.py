"""The columnar engine gives exactly what ``settle_run`` gives, field by field.

Hypothesis draws several policies (periods that change within a year, overlapping ones,
every option of the contract), catalogs, runs of claims over several persons and a year
boundary, with year-to-date starting states; the tables are also given in the shapes
other code hands them over (lines out of order, dictionary-encoded columns as Parquet
gives them, several chunks). Every result must equal ``result_to_dict`` of the scalar
engine, the result tables must equal the reference path's, and none of these claims may
have been handed to the scalar fallback (the fast path itself is what is tested).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_engine_properties import catalogs, claims, policies
from yibao.engine import UnknownCatalogCode, result_to_dict, settle_run
from yibao.engine.columnar import (
    CLAIM_SCHEMA,
    RESULT_LINE_SCHEMA,
    RESULT_SCHEMA,
    claims_to_tables,
    results_to_dicts,
    settle_tables,
    settle_tables_scalar,
)
from yibao.engine.columnar_fast import settle_fast
from yibao.engine.models import (
    Catalog,
    CatalogItem,
    Claim,
    ClaimLine,
    Policy,
    SettingAccumulator,
    Supplementary,
    SupplementaryAccumulator,
    SupplementaryBand,
    YearAccumulators,
)

PROPS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
BJ = "110000"
small = st.integers(min_value=0, max_value=2_000_000).map(lambda f: Decimal(f) / 100)


@st.composite
def policy_sets(draw: st.DrawFn) -> list[Policy]:
    """One to three policies: the first for the whole time, or a change on a drawn day
    within 2026; sometimes one for another person type, sometimes an overlap (ambiguous)."""
    first = draw(policies())
    kind = draw(st.sampled_from(["one", "change", "change", "types", "overlap", "overlap"]))
    if kind == "one":
        return [replace(first, id="p-all")]
    if kind == "types":
        other = draw(policies())
        return [
            replace(first, id="p-t"),
            replace(other, id="p-u", person_types=frozenset({"u", "other"}), scheme=first.scheme),
        ]
    day = date(2026, draw(st.integers(2, 12)), draw(st.integers(1, 28)))
    second = draw(policies())
    a = replace(first, id="p-before", effective_to=date.fromordinal(day.toordinal() - 1))
    start = day if kind == "change" else date.fromordinal(day.toordinal() - 90)
    b = replace(second, id="p-after", effective_from=start, scheme=first.scheme)
    return [a, b]


@st.composite
def year_to_date(draw: st.DrawFn) -> YearAccumulators:
    def setting() -> SettingAccumulator:
        return SettingAccumulator(draw(small), draw(small), draw(small), draw(st.integers(0, 3)))

    names = draw(st.sets(st.sampled_from(["s0", "s1", "old"]), max_size=2))
    return YearAccumulators(
        year=2026,
        inpatient=setting(),
        outpatient=setting(),
        supplementary={n: SupplementaryAccumulator(draw(small), draw(small)) for n in names},
        assistance_paid_cum=draw(small),
    )


@st.composite
def runs(draw: st.DrawFn, scheme: str | None = None) -> tuple[Claim, ...]:
    """Claims of up to four persons; with ``scheme``, most persons are of the policies'
    scheme (the others are rejected: no policy)."""
    count = draw(st.integers(1, 14))
    out = []
    ytd: dict[str, YearAccumulators | None] = {}
    for i in range(count):
        base = draw(claims(i))
        who = f"p{draw(st.integers(0, 3))}"
        if who not in ytd:
            ytd[who] = draw(st.none() | year_to_date())
        person = replace(
            base.person,
            id=who,
            scheme=base.person.scheme if scheme is None or draw(st.integers(0, 9)) == 0 else scheme,
            person_type=draw(st.sampled_from(["t", "t", "t", "u", "other"])),
            year_to_date=ytd[who],
        )
        out.append(replace(base, person=person))
    return tuple(out)


def _dictionary(table: pa.Table) -> pa.Table:
    """String columns dictionary-encoded, as Parquet gives them with read_dictionary."""
    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type):
            column = table.column(index).dictionary_encode()
            table = table.set_column(index, field.with_type(column.type), column)
    return table


def _chunked(table: pa.Table) -> pa.Table:
    if table.num_rows < 2:
        return table
    half = table.num_rows // 2
    return pa.concat_tables([table.slice(0, half), table.slice(half)])


def _shuffled(lines: pa.Table, seed: int) -> pa.Table:
    """Lines of different claims interleaved, each claim's own lines still in order."""
    rng = random.Random(seed)
    rows = lines.column("claim_row").to_pylist()
    keys = [rng.random() for _ in rows]
    by_claim: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        by_claim.setdefault(row, []).append(position)
    ordered = keys[:]
    for positions in by_claim.values():
        for position, key in zip(positions, sorted(keys[p] for p in positions), strict=True):
            ordered[position] = key
    order = sorted(range(len(rows)), key=lambda p: ordered[p])
    return lines.take(pa.array(order, pa.int64()))


def _variant(kind: str, claims: pa.Table, lines: pa.Table) -> tuple[pa.Table, pa.Table]:
    if kind == "dictionary":
        return _dictionary(claims), _dictionary(lines)
    if kind == "chunked":
        return _chunked(claims), _chunked(lines)
    if kind == "shuffled":
        return claims, _shuffled(lines, claims.num_rows)
    return claims, lines


def expected(run: tuple[Claim, ...], pols: list[Policy], catalog: Catalog) -> list[dict[str, Any]]:
    return [result_to_dict(r) for r in settle_run(run, policies=pols, catalog=catalog)]


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Policy], Catalog, tuple[Claim, ...]]:
    pols = draw(policy_sets())
    return pols, draw(catalogs()), draw(runs(pols[0].scheme))


@PROPS
@given(case=cases(), kind=st.sampled_from(["plain", "plain", "shuffled", "dictionary", "chunked"]))
def test_columnar_equals_settle_run_on_every_field(
    case: tuple[list[Policy], Catalog, tuple[Claim, ...]], kind: str
) -> None:
    pols, catalog, run = case
    want = expected(run, pols, catalog)
    claims_t, lines_t = _variant(kind, *claims_to_tables(run))
    report: dict[str, int] = {}
    results, result_lines = settle_fast(
        claims_t, lines_t, catalog=catalog, policies=pols, report=report
    )
    assert results_to_dicts(results, result_lines) == want
    assert report["scalar_claims"] == 0  # the fast path settled every claim
    assert results.schema == RESULT_SCHEMA and result_lines.schema == RESULT_LINE_SCHEMA
    reference = settle_tables_scalar(*claims_to_tables(run), catalog=catalog, policies=pols)
    assert results.equals(reference[0]) and result_lines.equals(reference[1])


def test_the_generated_runs_reach_what_they_should() -> None:
    """The differential test is only as good as its runs: in a fixed sample of them, caps
    are reached, claims are rejected for each reason, supplementary items and assistance
    pay, and year-to-date states and the year boundary are met."""
    seen: dict[str, int] = {}

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=cases())
    def sample(case: tuple[list[Policy], Catalog, tuple[Claim, ...]]) -> None:
        pols, catalog, run = case
        for claim, r in zip(run, settle_run(run, policies=pols, catalog=catalog), strict=True):
            reason = (r.reason or "").split(" ")[0:2]
            flags = {
                "rejected": r.status == "rejected",
                "several": reason == ["several", "policies"],
                "suspended": reason == ["local", "treatment"],
                "no-policy": reason == ["no", "policy"],
                "pool-cap": bool(r.explanation and r.explanation.pool_cap_reached),
                "supplementary": r.supplementary_pay > 0,
                "assistance": r.assistance_pay > 0,
                "account": r.account_pay > 0,
                "recoverable": r.recoverable > 0,
                "ytd": claim.person.year_to_date is not None,
                "2027": claim.date.year == 2027,
                "per-admission-later": r.accumulators.inpatient.admissions >= 2,
            }
            for name, hit in flags.items():
                seen[name] = seen.get(name, 0) + int(hit)

    sample()
    missing = [name for name, count in seen.items() if count == 0]
    assert not missing, f"never met: {missing}"


# --- what the fast path hands to the scalar engine ---------------------------------------


def _supplementary_policy(threshold: str) -> Policy:
    from tests.unit.enginekit import policy

    return policy(
        supplementary=(
            Supplementary(
                name="large",
                settings=frozenset({"inpatient", "outpatient"}),
                threshold=Decimal(threshold),
                bands=(SupplementaryBand(None, Decimal("0.5")),),
                annual_cap=None,
            ),
        )
    )


def _simple_run(n: int = 6, quantity: str = "3", price: str = "1234.5") -> list[Claim]:
    from tests.unit.enginekit import claim, line, person

    return [
        claim(
            line("A1", quantity, price),
            line("B1", "1", "99.99"),
            claim_id=f"c{i}",
            date=date(2026, 1 + i, 3),
            person=person(id=f"p{i % 2}"),
        )
        for i in range(n)
    ]


def _catalog() -> Catalog:
    from tests.unit.enginekit import catalog, item

    return catalog(
        item("A1", price_ceiling=Decimal("1000")),
        item("B1", "B", self_pay_ratio=Decimal("0.15")),
    )


def _check(run: list[Claim], pols: list[Policy], catalog: Catalog) -> dict[str, int]:
    report: dict[str, int] = {}
    got = settle_fast(*claims_to_tables(run), catalog=catalog, policies=pols, report=report)
    assert results_to_dicts(*got) == expected(tuple(run), pols, catalog)
    reference = settle_tables_scalar(*claims_to_tables(run), catalog=catalog, policies=pols)
    assert got[0].equals(reference[0]) and got[1].equals(reference[1])
    return report


def test_a_policy_finer_than_a_fen_is_settled_by_the_scalar_engine() -> None:
    # a threshold of 100.005 yuan: band positions are not whole fen
    report = _check(_simple_run(), [_supplementary_policy("100.005")], _catalog())
    assert report["scalar_claims"] == 6 and report["scalar_persons"] == 2
    report = _check(_simple_run(), [_supplementary_policy("100.01")], _catalog())
    assert report["scalar_claims"] == 0


def test_a_line_that_would_overflow_int64_goes_to_the_scalar_engine_for_that_person() -> None:
    from tests.unit.enginekit import claim, line, person

    run = _simple_run()
    huge = claim(
        line("A1", "1000000", "1000000"),  # 10^12 yuan: quantity_e4 × unit_price_e4 > 2^63
        claim_id="huge",
        date=date(2026, 8, 1),
        person=person(id="p9"),
    )
    report = _check([*run, huge], [_supplementary_policy("0")], _catalog())
    assert report["scalar_persons"] == 1 and report["scalar_claims"] == 1


def test_year_to_date_finer_than_a_fen_goes_to_the_scalar_engine() -> None:
    from tests.unit.enginekit import person

    run = _simple_run()
    ytd = YearAccumulators(year=2026, inpatient=SettingAccumulator(in_scope_cum=Decimal("10.005")))
    run[0] = replace(run[0], person=person(id="p0", year_to_date=ytd))
    report = _check(run, [_supplementary_policy("0")], _catalog())
    assert report["scalar_persons"] == 1 and report["scalar_claims"] == 3


def test_a_ratio_with_many_places_goes_to_the_scalar_engine() -> None:
    from tests.unit.enginekit import catalog, item

    odd = catalog(
        item("A1"),
        item("B1", "B", self_pay_ratio=Decimal("0.1234567890123")),
    )
    report = _check(_simple_run(), [_supplementary_policy("0")], odd)
    assert report["scalar_claims"] == 6


def test_an_unknown_code_raises_as_settle_run_does() -> None:
    from tests.unit.enginekit import claim, line

    run = _simple_run(3)
    run.append(claim(line("A1", "1", "1"), line("NOPE", "1", "1"), claim_id="bad"))
    run.append(claim(line("NOPE2", "1", "1"), claim_id="worse"))
    with pytest.raises(UnknownCatalogCode) as scalar:
        settle_run(run, policies=[_supplementary_policy("0")], catalog=_catalog())
    with pytest.raises(UnknownCatalogCode) as columnar:
        settle_tables(
            *claims_to_tables(run), catalog=_catalog(), policies=[_supplementary_policy("0")]
        )
    assert (
        (columnar.value.line_index, columnar.value.code, columnar.value.region)
        == (
            scalar.value.line_index,
            scalar.value.code,
            scalar.value.region,
        )
        == (1, "NOPE", BJ)
    )


def test_an_empty_table_gives_empty_results() -> None:
    results, lines = settle_tables(
        CLAIM_SCHEMA.empty_table(),
        claims_to_tables([])[1],
        catalog=_catalog(),
        policies=[_supplementary_policy("0")],
    )
    assert results.num_rows == 0 and lines.num_rows == 0
    assert results.schema == RESULT_SCHEMA


def test_lines_naming_a_missing_claim_row_are_refused() -> None:
    claims_t, lines_t = claims_to_tables(_simple_run(2))
    bad = lines_t.set_column(0, "claim_row", pa.array([0, 1, 2, 7], pa.int64()))
    with pytest.raises(ValueError, match="claim_row must be a row of the claims table"):
        settle_tables(claims_t, bad, catalog=_catalog(), policies=[_supplementary_policy("0")])


def test_a_missing_column_is_named() -> None:
    claims_t, lines_t = claims_to_tables(_simple_run(2))
    with pytest.raises(ValueError, match="liability"):
        settle_tables(
            claims_t.drop_columns(["liability"]),
            lines_t,
            catalog=_catalog(),
            policies=[_supplementary_policy("0")],
        )


def test_claims_to_tables_refuses_what_the_layout_cannot_hold() -> None:
    from tests.unit.enginekit import claim, line, person

    with pytest.raises(ValueError, match="fen"):
        claims_to_tables(
            [claim(line("A1", "1", "1"), person=person(account_balance=Decimal("1.005")))]
        )
    with pytest.raises(ValueError, match="4 decimals"):
        claims_to_tables([claim(ClaimLine("A1", Decimal("0.00001"), Decimal(1)))])


def test_a_catalog_item_with_a_finer_ceiling_than_the_layout_is_settled_exactly() -> None:
    odd = Catalog.of(
        [
            CatalogItem(
                region=BJ,
                code="A1",
                name="a",
                kind="drug",
                item_class="A",
                price_ceiling=Decimal("999.99999"),
            ),
            CatalogItem(region=BJ, code="B1", name="b", kind="drug", item_class="A"),
        ]
    )
    report = _check(_simple_run(), [_supplementary_policy("0")], odd)
    assert report["scalar_claims"] == 6
