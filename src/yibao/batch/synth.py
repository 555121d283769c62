"""Synthetic years (合成数据): a population and a year of claims on the demo policies and catalogs.

What the simulator and the benchmarks settle when no real year is at hand. The mix of claims
is calibrated to the published figures of cross-province direct settlement in the first
quarter of 2025 (NHSA; see :data:`CATEGORIES` and ``docs/batch.md``): inpatient stays,
ordinary outpatient visits, chronic and special outpatient visits (门诊慢特病) and pharmacy
purchases, in those counts and at those average amounts, with a long tail of large inpatient
bills. Every other figure (population, off-site filers, shares of class B items, lines above
price ceilings, readmissions, emergencies) is illustrative and named in one constant here.

Vectorised with numpy over persons, claims and lines; one ``numpy.random.Generator`` seeded
once, drawn in a fixed order, so the same seed gives the same tables (and the same Parquet
bytes). Floats only ever shape random draws: every amount written is an integer (fen, or
1/10,000 for quantities and unit prices, as the columnar layout says).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yibao.engine.columnar import CLAIM_SCHEMA, LINE_SCHEMA
from yibao.engine.models import Catalog, CatalogItem, Policy

# --- calibration --------------------------------------------------------------------------

SOURCE_NHSA_2025Q1 = (
    "NHSA, cross-province direct settlement, Q1 2025: 70.75 million settlements "
    "(3.64 M inpatient averaging about 10,000 yuan, 45.16 M ordinary outpatient about 125 "
    "yuan, 3.08 M chronic/special outpatient about 900 yuan, 18.87 M pharmacy purchases)"
)


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of claim: its share of all claims and its average amount (yuan)."""

    code: str  # IP, OP, CH, RX: written in the claim id (2026IP00000001)
    name: str
    setting: str
    count_millions: float  # in the published quarter
    mean_yuan: float
    sigma: float  # lognormal shape of the amounts (illustrative)
    mean_published: bool  # False: the average is an assumption (no published figure)


CATEGORIES: tuple[Category, ...] = (
    Category("IP", "inpatient 住院", "inpatient", 3.64, 10_000.0, 0.85, True),
    Category("OP", "ordinary outpatient 普通门诊", "outpatient", 45.16, 125.0, 0.90, True),
    Category("CH", "chronic/special outpatient 门诊慢特病", "outpatient", 3.08, 900.0, 0.70, True),
    Category("RX", "pharmacy purchase 定点药店购药", "outpatient", 18.87, 100.0, 0.80, False),
)
TOTAL_MILLIONS = sum(c.count_millions for c in CATEGORIES)  # 70.75

# About four claims a person a year: one admission for five persons, the order of China's
# hospitalisation rate; the other kinds follow the published shares.
CLAIMS_PER_PERSON = 4.0

# Long tail of inpatient bills: this share of stays is drawn from a Pareto tail from
# TAIL_FROM yuan (shape TAIL_ALPHA, at most TAIL_MAX); the body is lognormal, scaled so the
# mean of all stays is the published 10,000 yuan.
TAIL_SHARE = 0.025
TAIL_FROM = 50_000.0
TAIL_ALPHA = 1.5
TAIL_MAX = 3_000_000.0
READMISSION_SHARE = 0.08  # stays followed by another within 3..30 days

# Share of each claim's lines by class (A, B, C); B is 20–30% of inpatient amounts.
CLASS_MIX: dict[str, tuple[float, float]] = {  # (B mean, C mean); A the rest
    "IP": (0.25, 0.05),
    "OP": (0.30, 0.04),
    "CH": (0.30, 0.03),
    "RX": (0.35, 0.08),
}
OVER_CEILING_SHARE = 0.10  # lines of items with a price ceiling priced above it (when it shows)

LEVEL_MIX: dict[str, tuple[float, float, float]] = {  # hospital levels 1, 2, 3
    "IP": (0.15, 0.35, 0.50),
    "OP": (0.45, 0.30, 0.25),
    "CH": (0.30, 0.35, 0.35),
}
LEVEL_COST = (0.55, 0.85, 1.25)  # relative bill by level (then rescaled to the mean)
INSTITUTIONS_PER_LEVEL = (20, 10, 6)
PHARMACIES_PER_REGION = 30

EMPLOYEE_SHARE = 0.29
RETIRED_SHARE_OF_EMPLOYEES = 0.26
ASSISTANCE_SHARE = {"employee": 0.005, "resident": 0.05}

# Off-site filers (备案), by person type: long-term filing types and shares.
LONG_TERM_FILERS = {
    "retired": ("resettled_retiree", 0.08),
    "in_service": ("posted_worker", 0.02),
    "adult": ("long_term_resident", 0.015),
    "minor": ("minor_with_parents", 0.01),
    "student": ("minor_with_parents", 0.01),
}
REFERRAL_SHARE = 0.015  # persons with a referral (转诊) during the year
OTHER_TEMPORARY_SHARE = 0.005
LATE_FILING_SHARE = 0.20  # long-term filings that start during the year
FILED_CLAIMS_AWAY = 0.80  # claims of a long-term filer made at the destination
UNFILED_AWAY = {"IP": 0.02, "OP": 0.02, "CH": 0.01, "RX": 0.01}  # non-filers treated elsewhere
EMERGENCY = {"IP": 0.15, "OP": 0.03, "CH": 0.0, "RX": 0.0}
EMERGENCY_AWAY = {"IP": 0.40, "OP": 0.15, "CH": 0.0, "RX": 0.0}  # of unfiled off-site claims
# of stays; a work injury only for employees in service, WORK_INJURY_SHARE of their stays
LIABILITIES = (("third_party_unresolved", 0.003), ("work_injury", 0.0), ("third_party", 0.001))
WORK_INJURY_SHARE = 0.01

MONTH_WEIGHT = (1.08, 0.85, 1.05, 1.0, 0.98, 0.96, 0.97, 0.97, 1.0, 0.98, 1.04, 1.12)

_EPOCH = dt.date(1970, 1, 1)


# --- catalog and policies -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pools:
    """Catalog codes a line may draw, by key ``((region × 3 + pool) × 3 + class) × 3 + level − 1``.

    The candidates of key ``g`` are ``flat[offset[g] : offset[g] + size[g]]`` (global item
    indices); a key without candidates borrows the class A ones of its region, pool and level.
    """

    codes: pa.Array  # every code, by global item index
    ceiling_fen: np.ndarray  # 0 = no ceiling
    is_drug: np.ndarray
    flat: np.ndarray
    offset: np.ndarray
    size: np.ndarray


_POOL_OF = {"IP": 0, "OP": 1, "CH": 1, "RX": 2}


def _pools(catalog: Catalog, regions: Sequence[str]) -> _Pools:
    items: list[CatalogItem] = sorted(catalog.items.values(), key=lambda i: (i.region, i.code))
    ceiling = np.array(
        [int(i.price_ceiling * 100) if i.price_ceiling is not None else 0 for i in items],
        dtype=np.int64,
    )
    is_drug = np.array([i.kind == "drug" for i in items], dtype=bool)
    chosen: dict[tuple[int, int, int, int], list[int]] = {}
    for r, region in enumerate(regions):
        for pool in range(3):
            setting = "inpatient" if pool == 0 else "outpatient"
            for c, item_class in enumerate(("A", "B", "C")):
                for level in (1, 2, 3):
                    chosen[(r, pool, c, level)] = [
                        k
                        for k, item in enumerate(items)
                        if item.region == region
                        and item.item_class == item_class
                        and setting in item.settings
                        and (item.min_level or 1) <= level
                        and (pool != 2 or item.kind == "drug")
                    ]
    flat: list[int] = []
    offset, size = [], []
    for (r, pool, _c, level), found in chosen.items():  # in key order
        if not found:
            found = chosen[(r, pool, 0, level)]
        if not found:
            raise ValueError(f"the catalog of region {regions[r]} has no class A item to draw")
        offset.append(len(flat))
        size.append(len(found))
        flat.extend(found)
    return _Pools(
        codes=pa.array([i.code for i in items], pa.string()),
        ceiling_fen=ceiling,
        is_drug=is_drug,
        flat=np.asarray(flat, dtype=np.int64),
        offset=np.asarray(offset, dtype=np.int64),
        size=np.asarray(size, dtype=np.int64),
    )


def _coverage(policies: Sequence[Policy], year: int) -> set[tuple[str, str, str]]:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return {
        (p.region, p.scheme, t)
        for p in policies
        for t in p.person_types
        if p.effective_from <= last and (p.effective_to is None or p.effective_to >= first)
    }


# --- the population -----------------------------------------------------------------------


@dataclass(slots=True)
class _Population:
    region: np.ndarray  # index into regions
    scheme: np.ndarray  # 0 employee, 1 resident
    person_type: np.ndarray  # index into PERSON_TYPES
    age: np.ndarray
    frailty: np.ndarray
    assistance: np.ndarray
    balance_fen: np.ndarray
    filing: np.ndarray  # index into FILING_TYPES, -1 none
    destination: np.ndarray  # index into regions, -1 none
    destination_province: np.ndarray  # bool: the filing names the province (PP0000)
    valid_from: np.ndarray  # days since 1970
    valid_to: np.ndarray  # days since 1970, -1 open


PERSON_TYPES = ("in_service", "retired", "adult", "minor", "student")
FILING_TYPES = (
    "resettled_retiree",
    "posted_worker",
    "long_term_resident",
    "minor_with_parents",
    "referral",
    "other_temporary",
)
_TEMPORARY = (FILING_TYPES.index("referral"), FILING_TYPES.index("other_temporary"))


def _population(
    rng: np.random.Generator, n: int, regions: Sequence[str], year: int, covered: set[Any]
) -> _Population:
    region = rng.integers(0, len(regions), n)
    employee = rng.random(n) < EMPLOYEE_SHARE
    retired = employee & (rng.random(n) < RETIRED_SHARE_OF_EMPLOYEES)
    age = np.where(
        employee,
        np.where(
            retired,
            np.minimum(55 + rng.gamma(2.5, 5.0, n), 98),
            rng.integers(20, 60, n),
        ),
        rng.choice(np.arange(0, 96), n, p=_resident_ages()),
    ).astype(np.int64)
    in_school = (~employee) & (
        ((age >= 6) & (age < 18)) | ((age >= 18) & (age <= 22) & (rng.random(n) < 0.5))
    )
    types = np.where(
        employee, np.where(retired, 1, 0), np.where(age < 18, 3, 2)
    )  # in_service, retired, adult, minor
    student_ok = np.array([(r, "resident", "student") in covered for r in regions])
    types = np.where(in_school & student_ok[region], 4, types)

    frailty = rng.gamma(0.7, 1 / 0.7, n)
    assistance = rng.random(n) < np.where(
        employee, ASSISTANCE_SHARE["employee"], ASSISTANCE_SHARE["resident"]
    )
    balance = np.where(
        employee,
        np.rint(rng.lognormal(np.log(np.where(retired, 4000.0, 2500.0)) - 0.32, 0.8, n) * 100),
        0,
    ).astype(np.int64)

    # off-site filers
    filing = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    for t, name in enumerate(PERSON_TYPES):
        kind, share = LONG_TERM_FILERS[name]
        filing[(types == t) & (u < share)] = FILING_TYPES.index(kind)
    free = filing < 0
    v = rng.random(n)
    filing[free & (v < REFERRAL_SHARE)] = FILING_TYPES.index("referral")
    filing[free & (v >= REFERRAL_SHARE) & (v < REFERRAL_SHARE + OTHER_TEMPORARY_SHARE)] = (
        FILING_TYPES.index("other_temporary")
    )
    destination = np.full(n, -1, dtype=np.int64)
    has = filing >= 0
    if len(regions) > 1:
        step = rng.integers(1, len(regions), n)
        destination = np.where(has, (region + step) % len(regions), -1)
        # resettled retirees go south for the winter: Sanya when it is one of the regions
        if "460200" in regions:
            south = regions.index("460200")
            snowbird = (filing == 0) & (region != south) & (rng.random(n) < 0.6)
            destination = np.where(snowbird, south, destination)
    else:
        filing[:] = -1
        has[:] = False
    province = has & (rng.random(n) < 0.4)
    start = (dt.date(year, 1, 1) - _EPOCH).days
    length = 366 if calendar.isleap(year) else 365
    late = rng.random(n) < LATE_FILING_SHARE
    valid_from = np.where(
        late, start + rng.integers(0, length, n), start - rng.integers(0, 1100, n)
    ).astype(np.int64)
    valid_to = np.full(n, -1, dtype=np.int64)  # temporary filings get theirs from the claims
    return _Population(
        region=region,
        scheme=np.where(employee, 0, 1),
        person_type=types,
        age=age,
        frailty=frailty,
        assistance=assistance,
        balance_fen=balance,
        filing=filing,
        destination=destination,
        destination_province=province,
        valid_from=np.where(has, valid_from, -1),
        valid_to=valid_to,
    )


def _resident_ages() -> np.ndarray:
    ages = np.arange(0, 96)
    weight = np.where(ages < 18, 1.0, np.where(ages < 60, 1.25, np.where(ages < 80, 1.0, 0.35)))
    return np.asarray(weight / weight.sum(), dtype=np.float64)


# --- frequencies and amounts -------------------------------------------------------------

_AGE_KNOTS = np.array([0, 5, 18, 45, 60, 75, 90], dtype=np.float64)
_AGE_FACTOR = {
    "IP": np.array([0.6, 0.4, 0.5, 0.8, 1.5, 2.6, 3.5]),
    "OP": np.array([1.8, 1.2, 0.8, 0.9, 1.3, 1.6, 1.6]),
    "CH": np.array([0.02, 0.05, 0.2, 0.8, 2.0, 3.0, 3.0]),
    "RX": np.array([0.4, 0.4, 0.8, 1.0, 1.4, 1.5, 1.3]),
}
_SCHEME_FACTOR = {"IP": (1.0, 1.0), "OP": (1.0, 1.0), "CH": (1.1, 0.9), "RX": (1.8, 0.6)}


def _counts(rng: np.random.Generator, people: _Population) -> dict[str, np.ndarray]:
    n = len(people.age)
    counts: dict[str, np.ndarray] = {}
    for cat in CATEGORIES:
        raw = (
            np.interp(people.age, _AGE_KNOTS, _AGE_FACTOR[cat.code])
            * people.frailty
            * np.where(people.scheme == 0, *_SCHEME_FACTOR[cat.code])
        )
        target = CLAIMS_PER_PERSON * n * cat.count_millions / TOTAL_MILLIONS
        if cat.code == "IP":
            target /= 1 + READMISSION_SHARE
        counts[cat.code] = rng.poisson(raw * (target / raw.sum()))
    return counts


def _days(rng: np.random.Generator, year: int, size: int) -> np.ndarray:
    """Days since 1970 in ``year``, months weighted by :data:`MONTH_WEIGHT`."""
    first = (dt.date(year, 1, 1) - _EPOCH).days
    weights = np.concatenate(
        [np.full(calendar.monthrange(year, m)[1], MONTH_WEIGHT[m - 1]) for m in range(1, 13)]
    )
    return first + rng.choice(len(weights), size, p=weights / weights.sum())


def _amounts_yuan(rng: np.random.Generator, cat: Category, level: np.ndarray) -> np.ndarray:
    """Claim totals in yuan, lognormal by level (and a Pareto tail for stays), at the mean."""
    n = len(level)
    cost = np.asarray(LEVEL_COST)[level - 1]
    body = rng.lognormal(-(cat.sigma**2) / 2, cat.sigma, n) * cost
    tail = np.zeros(n, dtype=bool)
    if cat.code == "IP":
        tail = rng.random(n) < TAIL_SHARE
        pareto = TAIL_FROM * (1 + rng.pareto(TAIL_ALPHA, n))
        body = np.where(tail, np.minimum(pareto, TAIL_MAX), body)
    if n == 0:
        return np.asarray(body, dtype=np.float64)
    tail_sum = float(body[tail].sum())
    body_sum = float(body[~tail].sum())
    wanted = cat.mean_yuan * n - tail_sum
    scale = max(wanted / body_sum, 0.2 * cat.mean_yuan) if body_sum > 0 else 1.0
    if wanted <= 0 or body_sum <= 0:
        scale = 0.2 * cat.mean_yuan
    return np.asarray(np.where(tail, body, body * scale), dtype=np.float64)


# --- the year -----------------------------------------------------------------------------


def synth_tables(
    persons: int,
    year: int,
    seed: int,
    *,
    policies: Sequence[Policy] | None = None,
    catalog: Catalog | None = None,
) -> tuple[pa.Table, pa.Table]:
    """A population of ``persons`` and their claims of ``year``: ``(claims, lines)`` tables.

    On the demo policies and catalogs unless others are given (the home regions are the
    policies' regions that have a catalog; persons are treated in those regions only).
    The claims are in run order (by date); the same arguments give the same tables.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if policies is None or catalog is None:
        demo_policies, demo_catalog = demo_inputs()
        policies = demo_policies if policies is None else policies
        catalog = demo_catalog if catalog is None else catalog
    catalog_regions = {item.region for item in catalog.items.values()}
    regions = sorted({p.region for p in policies} & catalog_regions)
    if not regions:
        raise ValueError("no region has both a policy and a catalog")
    rng = np.random.default_rng(seed)
    people = _population(rng, persons, regions, year, _coverage(policies, year))
    counts = _counts(rng, people)

    # one row per claim, by category
    person_parts, cat_parts = [], []
    for k, category in enumerate(CATEGORIES):
        person_parts.append(np.repeat(np.arange(persons), counts[category.code]))
        cat_parts.append(np.full(int(counts[category.code].sum()), k, dtype=np.int64))
    person = np.concatenate(person_parts)
    cat = np.concatenate(cat_parts)
    day = _days(rng, year, len(person))
    # readmissions: another stay of the same person 3..30 days later, within the year
    last_day = (dt.date(year, 12, 31) - _EPOCH).days
    readmit = (cat == 0) & (rng.random(len(cat)) < READMISSION_SHARE)
    again = np.minimum(day[readmit] + rng.integers(3, 31, int(readmit.sum())), last_day)
    person = np.concatenate([person, person[readmit]])
    cat = np.concatenate([cat, cat[readmit]])
    day = np.concatenate([day, again])
    n_claims = len(person)

    _temporary_windows(rng, people, person, cat, day, last_day)
    where, emergency = _treatment_places(rng, people, person, cat, day, len(regions))
    level = _levels(rng, cat, where != people.region[person])

    amount_fen = np.zeros(n_claims, dtype=np.int64)
    for k, c in enumerate(CATEGORIES):
        rows = np.flatnonzero(cat == k)
        amount_fen[rows] = np.maximum(
            np.rint(_amounts_yuan(rng, c, level[rows]) * 100).astype(np.int64), 100
        )
    liability = np.full(n_claims, -1, dtype=np.int64)
    u = rng.random(n_claims)
    edge = 0.0
    for k, (_name, share) in enumerate(LIABILITIES):
        liability[(cat == 0) & (u >= edge) & (u < edge + share)] = k
        edge += share
    # a work injury (工伤) is only an employee's in service
    working = people.person_type[person] == PERSON_TYPES.index("in_service")
    injury = [name for name, _ in LIABILITIES].index("work_injury")
    liability[
        (cat == 0) & working & (liability < 0) & (u >= edge) & (u < edge + WORK_INJURY_SHARE)
    ] = injury

    # run order: by date, ties in random order
    order = np.lexsort((rng.random(n_claims), day))
    inverse = np.empty(n_claims, dtype=np.int64)
    inverse[order] = np.arange(n_claims)

    pools = _pools(catalog, regions)
    lines = _lines(rng, pools, cat, where, level, amount_fen, inverse)
    claims = _claims_table(
        rng, people, regions, year, order, person, cat, day, where, level, emergency, liability
    )
    return claims, lines


def _temporary_windows(
    rng: np.random.Generator,
    people: _Population,
    person: np.ndarray,
    cat: np.ndarray,
    day: np.ndarray,
    last_day: int,
) -> None:
    """A temporary filing opens shortly before its holder's first stay (or first claim)."""
    temporary = np.isin(people.filing, _TEMPORARY)
    if not temporary.any():
        return
    big = np.iinfo(np.int64).max
    first_stay = np.full(len(people.age), big, dtype=np.int64)
    stays = cat == 0
    np.minimum.at(first_stay, person[stays], day[stays])
    first_any = np.full(len(people.age), big, dtype=np.int64)
    np.minimum.at(first_any, person, day)
    anchor = np.where(first_stay < big, first_stay, first_any)
    has_claims = anchor < big
    open_day = np.where(has_claims, anchor - rng.integers(0, 15, len(anchor)), people.valid_from)
    people.valid_from = np.where(temporary, open_day, people.valid_from)
    people.valid_to = np.where(
        temporary,
        np.minimum(people.valid_from + rng.integers(90, 181, len(anchor)), last_day + 180),
        people.valid_to,
    )


def _treatment_places(
    rng: np.random.Generator,
    people: _Population,
    person: np.ndarray,
    cat: np.ndarray,
    day: np.ndarray,
    n_regions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The treatment region of each claim and whether it was an emergency."""
    n = len(person)
    home = people.region[person]
    filing = people.filing[person]
    destination = people.destination[person]
    valid = (day >= people.valid_from[person]) & (
        (people.valid_to[person] < 0) | (day <= people.valid_to[person])
    )
    u = rng.random(n)
    long_term = (filing >= 0) & ~np.isin(filing, _TEMPORARY)
    away_filed = long_term & (u < FILED_CLAIMS_AWAY)
    # a temporary filing covers its stays (and a few other claims) while valid
    away_filed |= np.isin(filing, _TEMPORARY) & valid & (u < np.where(cat == 0, 0.9, 0.3))
    where = np.where(away_filed, destination, home)
    unfiled_share = np.asarray([UNFILED_AWAY[c.code] for c in CATEGORIES])[cat]
    v = rng.random(n)
    wander = (~away_filed) & (v < unfiled_share) & (n_regions > 1)
    if n_regions > 1:
        step = rng.integers(1, n_regions, n)
        where = np.where(wander, (home + step) % n_regions, where)
    e = rng.random(n)
    emergency = np.where(
        wander,
        e < np.asarray([EMERGENCY_AWAY[c.code] for c in CATEGORIES])[cat],
        e < np.asarray([EMERGENCY[c.code] for c in CATEGORIES])[cat],
    )
    return where, emergency


def _levels(rng: np.random.Generator, cat: np.ndarray, away: np.ndarray) -> np.ndarray:
    """Hospital level 1..3 (pharmacies are level 1); stays away from home go higher."""
    n = len(cat)
    level = np.ones(n, dtype=np.int64)
    u = rng.random(n)
    for k, c in enumerate(CATEGORIES):
        if c.code not in LEVEL_MIX:
            continue
        mix1, mix2, _ = LEVEL_MIX[c.code]
        mask = cat == k
        p1 = np.where(away, 0.05, mix1) if c.code == "IP" else np.full(n, mix1)
        p2 = np.where(away, 0.25, mix2) if c.code == "IP" else np.full(n, mix2)
        level = np.where(mask, np.where(u < p1, 1, np.where(u < p1 + p2, 2, 3)), level)
    return level


def _lines(
    rng: np.random.Generator,
    pools: _Pools,
    cat: np.ndarray,
    where: np.ndarray,
    level: np.ndarray,
    amount_fen: np.ndarray,
    inverse: np.ndarray,
) -> pa.Table:
    n = len(cat)
    codes = np.asarray([c.code for c in CATEGORIES])
    # how many lines
    ip = cat == 0
    n_lines = np.where(
        ip,
        6 + rng.poisson(2.0 * np.log1p(amount_fen / 100_000)) + rng.poisson(6, n),
        np.where(
            cat == 1,
            1 + rng.poisson(2.0, n),
            np.where(cat == 2, 2 + rng.poisson(3.0, n), 1 + rng.poisson(1.2, n)),
        ),
    ).astype(np.int64)
    n_lines = np.minimum(n_lines, 80)
    claim = np.repeat(np.arange(n), n_lines)
    total = len(claim)
    # class of each line: B and C shares drawn per claim around the category's mix
    b_mean = np.asarray([CLASS_MIX[c][0] for c in codes])[cat]
    c_mean = np.asarray([CLASS_MIX[c][1] for c in codes])[cat]
    p_b = rng.beta(8 * b_mean, 8 * (1 - b_mean))
    p_c = rng.beta(2 * c_mean / (1 - c_mean) + 0.5, 2 + 0.5 / c_mean, n) * (1 - p_b)
    u = rng.random(total)
    line_class = np.where(u < p_b[claim], 1, np.where(u < (p_b + p_c)[claim], 2, 0))
    # the claim's amount split over its lines
    weight = rng.exponential(1.0, total)
    weight_sum = np.bincount(claim, weights=weight, minlength=n)
    target = np.maximum(np.rint(amount_fen[claim] * weight / weight_sum[claim]), 1).astype(np.int64)
    # codes: by (region, pool, class, level)
    pool = np.asarray([_POOL_OF[c] for c in codes])[cat][claim]
    key = ((where[claim] * 3 + pool) * 3 + line_class) * 3 + (level[claim] - 1)
    pick = np.floor(rng.random(total) * pools.size[key]).astype(np.int64)
    item = pools.flat[pools.offset[key] + pick]
    # quantity and unit price
    ceiling = pools.ceiling_fen[item]
    has_ceiling = ceiling > 0
    over = rng.random(total) < OVER_CEILING_SHARE
    factor = np.where(over, rng.uniform(1.02, 1.5, total), rng.uniform(0.6, 1.0, total))
    ceiling_price = np.maximum(np.rint(ceiling * factor), 1).astype(np.int64)
    capped_qty = np.maximum(target // np.maximum(ceiling_price, 1), 1)
    small = target < ceiling_price
    drug = pools.is_drug[item]
    free_qty = np.where(
        drug,
        rng.integers(1, 7, total),
        np.where(rng.random(total) < 0.7, 1, rng.integers(1, 6, total)),
    )
    half = drug & (rng.random(total) < 0.05) & ~has_ceiling
    quantity_e4 = np.where(has_ceiling, np.where(small, 1, capped_qty), free_qty).astype(
        np.int64
    ) * 10_000 + np.where(half, 5_000, 0)
    price_e4_free = np.maximum(np.rint(target * 1_000_000 / quantity_e4), 1).astype(np.int64)
    fine = drug & (rng.random(total) < 0.05)  # per-tablet prices with 4 decimals
    price_e4_free = np.where(fine, price_e4_free, np.maximum((price_e4_free + 50) // 100, 1) * 100)
    unit_price_e4 = np.where(
        has_ceiling, np.where(small, target * 100, ceiling_price * 100), price_e4_free
    )
    # lines in run order of their claims: each claim's lines at its new row's place
    row = inverse[claim]
    per_row = np.zeros(n, dtype=np.int64)
    per_row[inverse] = n_lines
    first = np.cumsum(per_row) - per_row  # first line of each new row
    within = np.arange(total) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    place = np.empty(total, dtype=np.int64)
    place[first[row] + within] = np.arange(total)
    return pa.Table.from_arrays(
        [
            pa.array(row[place], pa.int64()),
            pools.codes.take(pa.array(item[place])),
            pa.array(quantity_e4[place], pa.int64()),
            pa.array(unit_price_e4[place], pa.int64()),
            pa.nulls(total, pa.string()),
        ],
        schema=LINE_SCHEMA,
    )


def _claims_table(
    rng: np.random.Generator,
    people: _Population,
    regions: Sequence[str],
    year: int,
    order: np.ndarray,
    person: np.ndarray,
    cat: np.ndarray,
    day: np.ndarray,
    where: np.ndarray,
    level: np.ndarray,
    emergency: np.ndarray,
    liability: np.ndarray,
) -> pa.Table:
    person, cat, day, where = person[order], cat[order], day[order], where[order]
    level, emergency, liability = level[order], emergency[order], liability[order]
    n = len(person)
    codes = [c.code for c in CATEGORIES]
    prefixes = [f"{year}{code}" for code in codes]
    claim_ids = _numbered(np.asarray(prefixes)[cat], np.arange(1, n + 1), 8)
    person_ids = _numbered(np.full(len(people.age), "P"), np.arange(len(people.age)), 8)
    region_names = pa.array(list(regions), pa.string())
    setting = pa.array(["inpatient", "outpatient"], pa.string()).take(
        pa.array(np.where(cat == 0, 0, 1))
    )
    scheme = pa.array(["employee", "resident"], pa.string()).take(pa.array(people.scheme[person]))
    ptype = pa.array(list(PERSON_TYPES), pa.string()).take(pa.array(people.person_type[person]))
    # institutions: pharmacies Y<region>-<k>, hospitals H<region>-<level><k>
    k = rng.integers(0, 1_000_000, n)
    pharmacy = cat == 3
    per_level = np.asarray(INSTITUTIONS_PER_LEVEL)[level - 1]
    number = np.where(pharmacy, k % PHARMACIES_PER_REGION, k % per_level)
    inst_key = (where * 4 + np.where(pharmacy, 0, level)) * 1000 + number
    uniq, inst_index = np.unique(inst_key, return_inverse=True)
    inst_names = pa.array([_institution_id(regions, u) for u in uniq.tolist()], pa.string())
    # account balance, as given on the day of the claim (spent through the year)
    start = (dt.date(year, 1, 1) - _EPOCH).days
    left = 1.0 - 0.6 * (day - start) / 366.0
    balance = np.rint(people.balance_fen[person] * left).astype(np.int64)
    filing = people.filing[person]
    has_filing = filing >= 0
    dest_index = np.where(has_filing, people.destination[person], 0)
    dest_region = region_names.take(pa.array(dest_index))
    province = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(dest_region, 0, 2), pa.scalar("0000"), ""
    )
    destination = pc.if_else(pa.array(people.destination_province[person]), province, dest_region)
    no_filing = pa.array(~has_filing)
    filing_type = pa.array(list(FILING_TYPES), pa.string()).take(
        pa.array(np.where(has_filing, filing, 0))
    )
    valid_to = people.valid_to[person]
    liability_names = pa.array([name for name, _ in LIABILITIES], pa.string())
    return pa.Table.from_arrays(
        [
            claim_ids,
            pa.array(day.astype(np.int32), pa.date32()),
            setting,
            person_ids.take(pa.array(person)),
            region_names.take(pa.array(people.region[person])),
            scheme,
            ptype,
            pa.array(people.assistance[person], pa.bool_()),
            pa.array(balance, pa.int64()),
            pa.nulls(n, pa.string()),
            inst_names.take(pa.array(inst_index)),
            region_names.take(pa.array(where)),
            pa.array(level.astype(np.int8), pa.int8()),
            pc.if_else(no_filing, pa.scalar(None, pa.string()), filing_type),
            pc.if_else(no_filing, pa.scalar(None, pa.string()), destination),
            pa.array(people.valid_from[person].astype(np.int32), pa.date32(), mask=~has_filing),
            pa.array(valid_to.astype(np.int32), pa.date32(), mask=~has_filing | (valid_to < 0)),
            pa.array(emergency, pa.bool_()),
            pc.if_else(
                pa.array(liability < 0),
                pa.scalar(None, pa.string()),
                liability_names.take(pa.array(np.maximum(liability, 0))),
            ),
        ],
        schema=CLAIM_SCHEMA,
    )


def _numbered(prefix: np.ndarray, number: np.ndarray, digits: int) -> pa.Array:
    """Strings ``prefix + number`` (zero-padded to ``digits``), built as one Arrow buffer.

    Every prefix has the same length; a Python f-string per row costs seconds a million.
    """
    n = len(number)
    head = np.asarray(prefix).astype("S").view(np.uint8).reshape(n, -1) if n else None
    width = (head.shape[1] if head is not None else 0) + digits
    chars = np.empty((n, width), dtype=np.uint8)
    if head is not None:
        chars[:, : head.shape[1]] = head
    value = number.astype(np.int64).copy()
    for d in range(digits - 1, -1, -1):
        chars[:, width - digits + d] = ord("0") + value % 10
        value //= 10
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(chars.tobytes())
    )


def _institution_id(regions: Sequence[str], key: int) -> str:
    number, kind = key % 1000, (key // 1000) % 4
    region = regions[key // 4000]
    return f"Y{region}-{number:03d}" if kind == 0 else f"H{region}-{kind}{number:02d}"


# --- demo inputs, files and the calibration check ----------------------------------------


def write_tables(claims: pa.Table, lines: pa.Table, out: Path) -> None:
    """``out`` (the claims) and ``X.lines.parquet`` beside it, both or neither (temporary
    files renamed at the end). zstd-compressed; the same tables give the same bytes."""
    from yibao.batch.clearing import atomic_path
    from yibao.batch.formats import lines_path

    with atomic_path(out) as claims_temp, atomic_path(lines_path(out)) as lines_temp:
        pq.write_table(claims, claims_temp, compression="zstd")
        pq.write_table(lines, lines_temp, compression="zstd")


def uncovered(claims: pa.Table, policies: Sequence[Policy], year: int) -> dict[str, int]:
    """Claims whose person has no policy of the year, by ``region/scheme/person type``
    (they will be rejected when settled)."""
    covered = {f"{r}/{s}/{t}" for r, s, t in _coverage(policies, year)}
    kinds = pc.binary_join_element_wise(
        claims.column("insured_region"), claims.column("scheme"), claims.column("person_type"), "/"
    )
    counts = pc.value_counts(kinds).to_pylist()
    return {c["values"]: c["counts"] for c in counts if c["values"] not in covered}


def demo_inputs() -> tuple[list[Policy], Catalog]:
    """The packaged demo policies and catalogs (``src/yibao/data``)."""
    from yibao.data import demo_path
    from yibao.inputs import parse_catalog_text, parse_policy_text

    policies = [
        parse_policy_text(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(demo_path("policies").glob("*.yaml"))
    ]
    items: list[CatalogItem] = []
    for path in sorted(demo_path("catalogs").glob("*.csv")):
        items.extend(parse_catalog_text(path.read_text(encoding="utf-8"), str(path)))
    return policies, Catalog.of(items)


# --- what a generated year looks like, against the targets --------------------------------


@dataclass(frozen=True, slots=True)
class Figure:
    """One calibration figure: what was aimed at and what the tables hold."""

    name: str
    target: str
    achieved: float
    unit: str  # "share" (0..1), "yuan", "count"
    source: str


def line_amounts_fen(lines: pa.Table) -> np.ndarray:
    """``round2(quantity × unit_price)`` of every line, in fen (half up, as the contract)."""
    q = lines.column("quantity_e4").to_numpy()
    p = lines.column("unit_price_e4").to_numpy()
    product = q * p  # 10^-8 yuan = 10^-6 fen; int64 holds any line of a real bill
    return np.asarray((product + 500_000) // 1_000_000, dtype=np.int64)


def calibration(claims: pa.Table, lines: pa.Table, catalog: Catalog) -> list[Figure]:
    """The generated year's shares and averages beside the targets they were drawn to."""
    n = claims.num_rows
    kinds = pc.utf8_slice_codeunits(claims.column("claim_id"), 4, 6).to_numpy(zero_copy_only=False)
    amount = line_amounts_fen(lines)
    claim_row = lines.column("claim_row").to_numpy()
    per_claim = np.bincount(claim_row, weights=amount, minlength=n)
    figures: list[Figure] = []
    for c in CATEGORIES:
        mask = kinds == c.code
        share = float(mask.sum()) / n if n else 0.0
        figures.append(
            Figure(
                f"share of claims: {c.name}",
                f"{c.count_millions / TOTAL_MILLIONS:.2%}",
                share,
                "share",
                "NHSA Q1 2025",
            )
        )
    for c in CATEGORIES:
        mask = kinds == c.code
        mean = float(per_claim[mask].mean()) / 100 if mask.any() else 0.0
        figures.append(
            Figure(
                f"average amount: {c.name}",
                f"{c.mean_yuan:,.0f}",
                mean,
                "yuan",
                "NHSA Q1 2025" if c.mean_published else "assumed (no published figure)",
            )
        )
    # class B share of inpatient amounts, over-ceiling lines: from the treatment catalog
    region = claims.column("institution_region").take(lines.column("claim_row"))
    keys = pc.binary_join_element_wise(region, lines.column("code"), "|")
    items = list(catalog.items.values())
    known = pa.array([f"{i.region}|{i.code}" for i in items], pa.string())
    index = pc.index_in(keys, value_set=known).to_numpy(zero_copy_only=False)
    index = np.where(np.isnan(index.astype(float)), -1, index).astype(np.int64)
    item_class = np.asarray([i.item_class for i in items] + ["?"])[index]
    ceiling_e4 = np.asarray(
        [int(i.price_ceiling * 10_000) if i.price_ceiling is not None else 0 for i in items] + [0],
        dtype=np.int64,
    )[index]
    inpatient_line = (kinds == "IP")[claim_row]
    ip_total = float(amount[inpatient_line].sum())
    b_share = (
        float(amount[inpatient_line & (item_class == "B")].sum()) / ip_total if ip_total else 0
    )
    figures.append(
        Figure("class B share of inpatient amounts", "20–30%", b_share, "share", "issue 12")
    )
    with_ceiling = ceiling_e4 > 0
    above = with_ceiling & (lines.column("unit_price_e4").to_numpy() > ceiling_e4)
    figures.append(
        Figure(
            "lines priced above the item's ceiling, of lines with a ceiling",
            "some",
            float(above.sum()) / max(int(with_ceiling.sum()), 1),
            "share",
            "issue 12",
        )
    )
    stays = np.sort(per_claim[kinds == "IP"])
    top = stays[-max(len(stays) // 100, 1) :].sum() / stays.sum() if len(stays) else 0.0
    figures.append(
        Figure(
            "share of inpatient amounts in the largest 1% of stays",
            "long tail",
            float(top),
            "share",
            "issue 12",
        )
    )
    figures.append(
        Figure(
            "largest inpatient bill",
            "long tail",
            float(stays[-1]) / 100 if len(stays) else 0.0,
            "yuan",
            "issue 12",
        )
    )
    persons = claims.column("person_id")
    stay_persons = pc.filter(persons, pa.array(kinds == "IP"))
    counts = (
        pc.value_counts(stay_persons).field("counts").to_numpy()
        if len(stay_persons)
        else np.zeros(0)
    )
    figures.append(
        Figure(
            "persons with two or more stays, of persons with a stay",
            "repeated admissions",
            float((counts >= 2).sum()) / max(len(counts), 1),
            "share",
            "issue 12",
        )
    )
    away = pc.not_equal(claims.column("institution_region"), claims.column("insured_region"))
    away_np = away.to_numpy(zero_copy_only=False)
    filed = pc.is_valid(claims.column("filing_type")).to_numpy(zero_copy_only=False)
    emergency = claims.column("emergency").to_numpy(zero_copy_only=False)
    figures.append(
        Figure(
            "claims treated off-site",
            "illustrative",
            float(away_np.mean()) if n else 0.0,
            "share",
            "illustrative",
        )
    )
    figures.append(
        Figure(
            "off-site claims of persons without a filing",
            "unfiled cases",
            float((away_np & ~filed).sum()) / max(int(away_np.sum()), 1),
            "share",
            "issue 12",
        )
    )
    figures.append(
        Figure(
            "off-site claims marked emergency",
            "emergency cases",
            float((away_np & emergency).sum()) / max(int(away_np.sum()), 1),
            "share",
            "issue 12",
        )
    )
    return figures
