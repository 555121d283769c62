"""Policy simulation (政策模拟): the same claims settled under two sets of policies, compared.

An agency that changes its policy (a deductible lowered, a band moved, a ratio raised for
retirees) asks before it does: what does it cost the fund, and who pays more? The claims are
settled twice by the columnar engine (:func:`yibao.engine.columnar.settle_tables`, the same
figures as ``yibao settle``), once under the baseline policies and once under the reform,
and every figure of the comparison is summed from those results in whole fen: nothing is
estimated, rounded on the way or sampled.

The comparison is a list of :class:`ReportTable` (what the CSV files and the HTML report
show) and a person-level table (the optional person diff). Money in the tables is yuan text
with two decimals (``"1234.50"``), made from integer fen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.engine.columnar import settle_tables
from yibao.engine.models import Catalog, Policy

Ints = npt.NDArray[np.int64]
Settle = Callable[..., tuple[pa.Table, pa.Table]]

RUNS = ("baseline", "reform")
NO_VALUE = "—"  # a claim without the value (a rejected claim has no off-site status)


def yuan(fen: int) -> str:
    """Whole fen as yuan text with two decimals (``-12.05``)."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{part:02d}"


def percent(new: int, old: int) -> str:
    """The change from ``old`` to ``new`` in percent, two decimals (empty when old is 0)."""
    if old == 0:
        return ""
    value = (Decimal(new - old) * 100 / Decimal(old)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{value:+}%"


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # CSV header
    label: str  # shown in the HTML report (Chinese / English)
    money: bool = False


@dataclass(slots=True)
class ReportTable:
    """One table of the report: its CSV, its HTML table and the chart drawn from it."""

    slug: str  # CSV file name without .csv
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]] = field(default_factory=list)  # money as fen (int)
    chart: dict[str, Any] | None = None
    note: str = ""

    def cells(self) -> list[list[str]]:
        """Rows as text: money in yuan, counts as integers."""
        return [
            [
                yuan(v) if c.money and isinstance(v, int) else str(v)
                for c, v in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]


@dataclass(slots=True)
class Headline:
    claims: int
    persons: int
    settled: tuple[int, int]
    fund_fen: tuple[int, int]
    burden_fen: tuple[int, int]
    pay_more: int
    pay_more_fen: int
    pay_less: int
    pay_less_fen: int


@dataclass(slots=True)
class Simulation:
    headline: Headline
    tables: list[ReportTable]
    persons: pa.Table  # one row per person: the person diff


# --- settling ---------------------------------------------------------------------------


def simulate(
    claims: pa.Table,
    lines: pa.Table,
    *,
    catalog: Catalog,
    baseline: Sequence[Policy],
    reform: Sequence[Policy],
    settle: Settle = settle_tables,
) -> Simulation:
    """Settle the claims under both sets of policies and compare the results."""
    base, _ = settle(claims, lines, catalog=catalog, policies=baseline)
    new, _ = settle(claims, lines, catalog=catalog, policies=reform)
    return compare(base, new, baseline=baseline, reform=reform)


def by_person(client: Any, partitions: int | None = None) -> Settle:
    """A ``settle`` that spreads the claims by person over a Dask client's cluster (or, with
    ``client`` None, over partitions in this process): :func:`yibao.batch.run.settle_batch`,
    whose results are those of one :func:`settle_tables` over the whole table."""
    from yibao.batch.run import settle_batch

    def settle(
        claims: pa.Table, lines: pa.Table, *, catalog: Catalog, policies: Sequence[Policy]
    ) -> tuple[pa.Table, pa.Table]:
        results, result_lines, _ = settle_batch(
            claims, lines, catalog=catalog, policies=policies, partitions=partitions, client=client
        )
        return results, result_lines

    return settle


def compare(
    base: pa.Table,
    new: pa.Table,
    *,
    baseline: Sequence[Policy],
    reform: Sequence[Policy],
) -> Simulation:
    """The comparison of two results tables of the same claims (same rows, same order)."""
    if base.num_rows != new.num_rows or not base.column("claim_id").equals(new.column("claim_id")):
        raise ValueError("the two results are not of the same claims in the same order")
    runs = (_Run(base), _Run(new))
    person_index, person_ids = _persons(base)
    burden = [
        _per_person(person_index, len(person_ids), r.ints("personal_burden_fen")) for r in runs
    ]
    fund = [_per_person(person_index, len(person_ids), r.ints("fund_pay_total_fen")) for r in runs]
    diff = burden[1] - burden[0]
    tables = [
        _summary_table(runs),
        *(_group_table(runs, dim) for dim in DIMENSIONS),
        _burden_table(burden),
        _change_table(diff),
        _change_bands_table(diff),
        _caps_table(runs, (baseline, reform)),
    ]
    headline = Headline(
        claims=base.num_rows,
        persons=len(person_ids),
        settled=(runs[0].settled_count(), runs[1].settled_count()),
        fund_fen=(runs[0].total("fund_pay_total_fen"), runs[1].total("fund_pay_total_fen")),
        burden_fen=(runs[0].total("personal_burden_fen"), runs[1].total("personal_burden_fen")),
        pay_more=int((diff > 0).sum()),
        pay_more_fen=int(diff[diff > 0].sum()),
        pay_less=int((diff < 0).sum()),
        pay_less_fen=int(-diff[diff < 0].sum()),
    )
    persons = _person_table(base, person_index, person_ids, burden, fund)
    return Simulation(headline=headline, tables=tables, persons=persons)


class _Run:
    """One results table, with the columns the comparison reads as numpy arrays."""

    def __init__(self, results: pa.Table) -> None:
        self.results = results
        self._cache: dict[str, Ints] = {}
        self.settled = results.column("status").to_numpy(zero_copy_only=False) == "settled"

    def ints(self, name: str) -> Ints:
        if name not in self._cache:
            self._cache[name] = np.asarray(self.results.column(name).to_numpy(), dtype=np.int64)
        return self._cache[name]

    def total(self, name: str) -> int:
        return int(self.ints(name).sum())

    def settled_count(self) -> int:
        return int(self.settled.sum())

    def labels(self, dim: str) -> npt.NDArray[np.object_]:
        if dim == "month":
            column = pc.strftime(self.results.column("date"), format="%Y-%m")
        else:
            column = self.results.column(dim)
        filled = pc.fill_null(column, NO_VALUE)
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=object)


def _persons(results: pa.Table) -> tuple[Ints, list[str]]:
    encoded = pc.dictionary_encode(results.column("person_id")).combine_chunks()
    return (
        np.asarray(encoded.indices.to_numpy(), dtype=np.int64),
        encoded.dictionary.to_pylist(),
    )


def _per_person(index: Ints, count: int, values: Ints) -> Ints:
    out = np.zeros(count, dtype=np.int64)
    np.add.at(out, index, values)
    return out


# --- the tables -------------------------------------------------------------------------

MONEY_ROWS = (
    ("total_fen", "total medical cost 医疗费总额"),
    ("pool_fund_pay_fen", "pool fund 统筹基金"),
    ("supplementary_pay_fen", "supplementary 大病/大额补充"),
    ("assistance_pay_fen", "medical assistance 医疗救助"),
    ("fund_pay_total_fen", "fund total 基金支付合计"),
    ("personal_burden_fen", "personal burden 个人负担"),
    ("account_pay_fen", "personal account 个人账户"),
    ("cash_pay_fen", "cash 现金"),
    ("recoverable_fen", "recoverable advances 可追偿"),
)

DIMENSIONS = (
    ("setting", "by setting 按就医类型"),
    ("scheme", "by scheme 按险种"),
    ("person_type", "by person type 按人员类别"),
    ("offsite_status", "by off-site status 按异地状态"),
    ("institution_region", "by treatment region 按就医地"),
    ("month", "by month 按月份"),
)

_SETTING_ORDER = {"inpatient": 0, "outpatient": 1}


def _summary_table(runs: tuple[_Run, _Run]) -> ReportTable:
    table = ReportTable(
        slug="summary",
        title="Totals 总体",
        columns=(
            Column("figure", "figure 项目"),
            Column("baseline", "baseline 现行", money=True),
            Column("reform", "reform 改革", money=True),
            Column("difference", "difference 差额", money=True),
            Column("change", "change 变化"),
        ),
    )
    counts = [
        ("claims 结算笔数", runs[0].results.num_rows, runs[1].results.num_rows),
        ("settled 已结算", runs[0].settled_count(), runs[1].settled_count()),
        (
            "rejected 拒付",
            runs[0].results.num_rows - runs[0].settled_count(),
            runs[1].results.num_rows - runs[1].settled_count(),
        ),
    ]
    money_rows = [(label, runs[0].total(k), runs[1].total(k)) for k, label in MONEY_ROWS]
    # counts are written as text, so they are not read as money
    table.rows = [[label, str(b), str(r), str(r - b), percent(r, b)] for label, b, r in counts]
    table.rows += [[label, b, r, r - b, percent(r, b)] for label, b, r in money_rows]
    payers = money_rows[1:4] + money_rows[5:6]
    table.chart = {
        "kind": "bar",
        "unit": "yuan",
        "categories": [label for label, _, _ in payers],
        "series": [
            {"name": "baseline 现行", "values": [yuan(b) for _, b, _ in payers]},
            {"name": "reform 改革", "values": [yuan(r) for _, _, r in payers]},
        ],
    }
    return table


def _group_table(runs: tuple[_Run, _Run], dim: tuple[str, str]) -> ReportTable:
    name, title = dim
    sums: list[dict[str, list[int]]] = []
    for run in runs:
        labels = run.labels(name)
        keys, inverse = np.unique(labels.astype(str), return_inverse=True)
        claims = np.bincount(inverse, minlength=len(keys)).astype(np.int64)
        fund = _per_person(inverse.astype(np.int64), len(keys), run.ints("fund_pay_total_fen"))
        burden = _per_person(inverse.astype(np.int64), len(keys), run.ints("personal_burden_fen"))
        sums.append(
            {
                str(k): [int(claims[i]), int(fund[i]), int(burden[i])]
                for i, k in enumerate(keys.tolist())
            }
        )
    ordered = sorted(set(sums[0]) | set(sums[1]), key=lambda k: _order(name, k))
    table = ReportTable(
        slug=f"by_{name}",
        title=f"Fund cost {title}",
        columns=(
            Column(name, _DIM_LABEL[name]),
            Column("claims_baseline", "claims 笔数 (baseline)"),
            Column("claims_reform", "claims 笔数 (reform)"),
            Column("fund_baseline", "fund 基金 (baseline 现行)", money=True),
            Column("fund_reform", "fund 基金 (reform 改革)", money=True),
            Column("fund_difference", "difference 差额", money=True),
            Column("fund_change", "change 变化"),
            Column("burden_baseline", "personal burden 个人负担 (baseline)", money=True),
            Column("burden_reform", "personal burden 个人负担 (reform)", money=True),
            Column("burden_difference", "difference 差额", money=True),
        ),
    )
    zero = [0, 0, 0]
    for key in ordered:
        b, r = sums[0].get(key, zero), sums[1].get(key, zero)
        table.rows.append(
            [key, b[0], r[0], b[1], r[1], r[1] - b[1], percent(r[1], b[1]), b[2], r[2], r[2] - b[2]]
        )
    table.chart = {
        "kind": "line" if name == "month" else "bar",
        "unit": "yuan",
        "categories": ordered,
        "series": [
            {"name": "baseline 现行", "values": [yuan(row[3]) for row in table.rows]},
            {"name": "reform 改革", "values": [yuan(row[4]) for row in table.rows]},
        ],
    }
    return table


_DIM_LABEL = {
    "setting": "setting 就医类型",
    "scheme": "scheme 险种",
    "person_type": "person type 人员类别",
    "offsite_status": "off-site status 异地状态",
    "institution_region": "treatment region 就医地",
    "month": "month 月份",
}


def _order(dim: str, key: str) -> tuple[int, str]:
    if key == NO_VALUE:
        return (9, key)
    if dim == "setting":
        return (_SETTING_ORDER.get(key, 5), key)
    if dim == "offsite_status":
        return ({"local": 0, "long_term": 1, "temporary": 2, "unfiled": 3}.get(key, 5), key)
    return (0, key)


def nearest_rank(sorted_values: Ints, p: int) -> int:
    """The ``p``-th percentile by nearest rank: one person's actual figure, never between two."""
    n = len(sorted_values)
    if n == 0:
        return 0
    rank = max(-(-p * n // 100), 1)  # ceil(p/100 × n), exactly
    return int(sorted_values[rank - 1])


def mean_fen(values: Ints) -> int:
    """The mean to the fen, half up (exact: an integer sum over a count)."""
    if len(values) == 0:
        return 0
    return int((Decimal(int(values.sum())) / len(values)).quantize(Decimal(1), ROUND_HALF_UP))


def _burden_table(burden: list[Ints]) -> ReportTable:
    stats = []
    for values in burden:
        ordered = np.sort(values)
        stats.append(
            [
                mean_fen(values),
                nearest_rank(ordered, 50),
                nearest_rank(ordered, 90),
                nearest_rank(ordered, 99),
                int(ordered[-1]) if len(ordered) else 0,
            ]
        )
    labels = ("mean 均值", "median 中位数", "p90", "p99", "max 最大")
    table = ReportTable(
        slug="burden_distribution",
        title="Personal burden per person over the year 人均个人负担分布",
        columns=(
            Column("statistic", "statistic 统计量"),
            Column("baseline", "baseline 现行", money=True),
            Column("reform", "reform 改革", money=True),
            Column("difference", "difference 差额", money=True),
        ),
        note="Per person: the sum of the personal burden of all their claims. Median and "
        "percentiles by nearest rank (each is one person's figure); the mean is rounded "
        "half up to the fen.",
    )
    table.rows = [
        [label, b, r, r - b] for label, b, r in zip(labels, stats[0], stats[1], strict=True)
    ]
    table.chart = {
        "kind": "bar",
        "unit": "yuan",
        "categories": list(labels[:4]),
        "series": [
            {"name": "baseline 现行", "values": [yuan(v) for v in stats[0][:4]]},
            {"name": "reform 改革", "values": [yuan(v) for v in stats[1][:4]]},
        ],
    }
    return table


def _change_table(diff: Ints) -> ReportTable:
    table = ReportTable(
        slug="burden_change",
        title="Who pays more, who pays less 个人负担增减",
        columns=(
            Column("group", "persons 人群"),
            Column("persons", "persons 人数"),
            Column("total", "total change 合计", money=True),
            Column("mean", "mean 均值", money=True),
            Column("median", "median 中位数", money=True),
            Column("max", "largest 最大", money=True),
        ),
        note="Change = personal burden under the reform − under the baseline, per person; "
        "amounts of the 'pay less' row are what they save (positive).",
    )
    more = np.sort(diff[diff > 0])
    less = np.sort(-diff[diff < 0])
    for label, values in (("pay more 多付", more), ("pay less 少付", less)):
        table.rows.append(
            [
                label,
                len(values),
                int(values.sum()),
                mean_fen(values),
                nearest_rank(values, 50),
                int(values[-1]) if len(values) else 0,
            ]
        )
    table.rows.append(["unchanged 不变", int((diff == 0).sum()), 0, 0, 0, 0])
    table.chart = {
        "kind": "pie",
        "unit": "persons",
        "categories": [row[0] for row in table.rows],
        "series": [{"name": "persons 人数", "values": [str(row[1]) for row in table.rows]}],
    }
    return table


# Bands of the per-person change in yuan; (low, high] in fen, None = unbounded.
CHANGE_BANDS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, -1_000_000, "≤ −10,000"),
    (-1_000_000, -100_000, "−10,000 … −1,000"),
    (-100_000, -10_000, "−1,000 … −100"),
    (-10_000, -1_000, "−100 … −10"),
    (-1_000, -1, "−10 … −0.01"),
    (-1, 0, "0"),
    (0, 1_000, "0.01 … 10"),
    (1_000, 10_000, "10 … 100"),
    (10_000, 100_000, "100 … 1,000"),
    (100_000, 1_000_000, "1,000 … 10,000"),
    (1_000_000, None, "> 10,000"),
)


def _change_bands_table(diff: Ints) -> ReportTable:
    table = ReportTable(
        slug="burden_change_bands",
        title="Change of personal burden per person, in bands 个人负担变化分布",
        columns=(
            Column("band_yuan", "change 变化 (yuan 元)"),
            Column("persons", "persons 人数"),
            Column("total", "total change 合计", money=True),
        ),
        note="Bands are (low, high] in yuan: '−100 … −10' holds changes above −100 and up to −10.",
    )
    for low, high, label in CHANGE_BANDS:
        mask = np.ones(len(diff), dtype=bool)
        if low is not None:
            mask &= diff > low
        if high is not None:
            mask &= diff <= high
        table.rows.append([label, int(mask.sum()), int(diff[mask].sum())])
    table.chart = {
        "kind": "bar",
        "unit": "persons",
        "categories": [row[0] for row in table.rows],
        "series": [{"name": "persons 人数", "values": [str(row[1]) for row in table.rows]}],
    }
    return table


def _fen(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def _caps_reached(run: _Run, policies: Sequence[Policy]) -> dict[str, set[tuple[str, int]]]:
    """For each cap, the (person, year)s whose payments reached it on some claim."""
    by_id = {p.id: p for p in policies}
    results = run.results
    policy_ids = np.asarray(
        pc.fill_null(results.column("policy_id"), "").to_numpy(zero_copy_only=False), dtype=object
    )
    persons = np.asarray(results.column("person_id").to_numpy(zero_copy_only=False), dtype=object)
    years = run.ints("acc_year")
    reached: dict[str, set[tuple[str, int]]] = {}

    def mark(cap: str, rows: npt.NDArray[np.bool_]) -> None:
        found = reached.setdefault(cap, set())
        for i in np.flatnonzero(rows).tolist():
            found.add((persons[i], int(years[i])))

    settled = run.settled
    for column, setting, label in (
        (
            "acc_ip_pool_paid_cum_fen",
            "inpatient",
            "pool fund, inpatient annual cap 统筹住院年度限额",
        ),
        (
            "acc_op_pool_paid_cum_fen",
            "outpatient",
            "pool fund, outpatient annual cap 统筹门诊年度限额",
        ),
    ):
        caps = np.array(
            [_cap_of(by_id.get(pid), setting) for pid in policy_ids.tolist()], dtype=np.int64
        )
        reached.setdefault(label, set())
        mark(label, settled & (caps >= 0) & (run.ints(column) >= caps))
    assistance = np.array(
        [
            _fen(p.assistance.annual_cap)
            if (p := by_id.get(pid)) is not None
            and p.assistance is not None
            and p.assistance.annual_cap is not None
            else -1
            for pid in policy_ids.tolist()
        ],
        dtype=np.int64,
    )
    label = "medical assistance annual cap 医疗救助年度限额"
    reached.setdefault(label, set())
    mark(
        label, settled & (assistance >= 0) & (run.ints("acc_assistance_paid_cum_fen") >= assistance)
    )
    # supplementary: only a claim that paid can reach a cap (the JSON is read for those only)
    for p in policies:
        for item in p.supplementary:
            if item.annual_cap is not None:
                reached.setdefault(f"supplementary {item.name} annual cap 补充保险年度限额", set())
    paid = np.flatnonzero(settled & (run.ints("supplementary_pay_fen") > 0))
    acc = results.column("acc_supplementary")
    for i in paid.tolist():
        p = by_id.get(policy_ids[i])
        if p is None:
            continue
        state = json.loads(acc[i].as_py())
        for item in p.supplementary:
            cap = _fen(item.annual_cap)
            if cap is None or item.name not in state:
                continue
            if int(Decimal(state[item.name]["paid_cum"]) * 100) >= cap:
                reached[f"supplementary {item.name} annual cap 补充保险年度限额"].add(
                    (persons[i], int(years[i]))
                )
    return reached


def _cap_of(policy: Policy | None, setting: str) -> int:
    if policy is None:
        return -1
    rules = policy.rules(setting)
    if rules is None or rules.annual_cap is None:
        return -1
    return int(rules.annual_cap * 100)


def _caps_table(
    runs: tuple[_Run, _Run], policies: tuple[Sequence[Policy], Sequence[Policy]]
) -> ReportTable:
    found = [_caps_reached(run, p) for run, p in zip(runs, policies, strict=True)]
    labels = list(dict.fromkeys([*found[0], *found[1]]))
    table = ReportTable(
        slug="caps_reached",
        title="Persons reaching a cap 达到封顶线的人数",
        columns=(
            Column("cap", "cap 封顶线"),
            Column("persons_baseline", "persons 人数 (baseline 现行)"),
            Column("persons_reform", "persons 人数 (reform 改革)"),
            Column("difference", "difference 差额"),
        ),
        note="A person counts once a year for a cap when the year's payments of that payer "
        "reached the cap of the policy a claim was settled under.",
    )
    for label in labels:
        b, r = len(found[0].get(label, ())), len(found[1].get(label, ()))
        table.rows.append([label, b, r, r - b])
    table.chart = {
        "kind": "bar",
        "unit": "persons",
        "categories": labels,
        "series": [
            {"name": "baseline 现行", "values": [str(row[1]) for row in table.rows]},
            {"name": "reform 改革", "values": [str(row[2]) for row in table.rows]},
        ],
    }
    return table


def _person_table(
    results: pa.Table, index: Ints, person_ids: list[str], burden: list[Ints], fund: list[Ints]
) -> pa.Table:
    count = len(person_ids)
    last = np.zeros(count, dtype=np.int64)
    np.maximum.at(last, index, np.arange(len(index)))  # the person's last claim
    claims = np.bincount(index, minlength=count).astype(np.int64)
    take = pa.array(last)
    table = pa.table(
        {
            "person_id": pa.array(person_ids, pa.string()),
            "insured_region": results.column("insured_region").take(take),
            "scheme": results.column("scheme").take(take),
            "person_type": results.column("person_type").take(take),
            "claims": pa.array(claims),
            "burden_baseline_fen": pa.array(burden[0]),
            "burden_reform_fen": pa.array(burden[1]),
            "burden_difference_fen": pa.array(burden[1] - burden[0]),
            "fund_baseline_fen": pa.array(fund[0]),
            "fund_reform_fen": pa.array(fund[1]),
            "fund_difference_fen": pa.array(fund[1] - fund[0]),
        }
    )
    return table.sort_by("person_id")
