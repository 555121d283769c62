"""Settle a generated year of claims in-process and print claims/s and lines/s.

Run: ``make bench`` or ``.venv/bin/python bench/engine.py [--claims N] [--persons N]``.
Uses the demo policies and catalogs shipped in the package; one core, one process.
As a same-run reference it also times a plain-Python loop doing the same count of
Decimal multiply-and-round operations, so figures from a noisy machine can be compared.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from machine import one_line
from yibao.cli.settle import load_catalogs, load_policies
from yibao.console import collector_paused
from yibao.engine import Claim, ClaimLine, FilingInfo, InstitutionInfo, PersonInfo, settle_run
from yibao.engine.models import Catalog, Policy

DATA = Path(__file__).resolve().parents[1] / "src" / "yibao" / "data"
REGIONS = ("110000", "460200", "130600")


def machine() -> str:
    return one_line()


def generate(
    policies: list[Policy], catalog: Catalog, *, claims: int, persons: int, seed: int
) -> list[Claim]:
    rng = random.Random(seed)
    codes: dict[str, list[str]] = {}
    for region, code in catalog.items:
        codes.setdefault(region, []).append(code)
    # a hospital charges its own fixed price per item (sometimes above the ceiling)
    price: dict[tuple[str, str], Decimal] = {}
    for (region, code), row in catalog.items.items():
        list_price = Decimal(rng.randint(100, 200000)) / 100
        if row.price_ceiling is not None and rng.random() < 0.8:
            list_price = row.price_ceiling
        price[(region, code)] = list_price
    kinds = sorted({(p.region, p.scheme, t) for p in policies for t in p.person_types})
    people = []
    for i in range(persons):
        region, scheme, person_type = rng.choice(kinds)
        people.append(
            PersonInfo(
                id=f"p{i}",
                insured_region=region,
                scheme=scheme,
                person_type=person_type,
                assistance_eligible=rng.random() < 0.05,
                account_balance=Decimal(rng.randint(0, 500000)) / 100,
            )
        )
    start = date(2026, 1, 1)
    out = []
    for n in range(claims):
        person = rng.choice(people)
        treated = person.insured_region if rng.random() < 0.6 else rng.choice(REGIONS)
        filing = None
        if treated != person.insured_region and rng.random() < 0.6:
            filing = FilingInfo(
                type=rng.choice(("resettled_retiree", "referral", "other_temporary")),
                destination=treated,
                valid_from=start,
                valid_to=date(2026, 12, 31),
            )
        inpatient = rng.random() < 0.3
        pool = codes[treated]
        picked = [rng.choice(pool) for _ in range(rng.randint(3, 9))]
        lines = tuple(
            ClaimLine(
                code=code, quantity=Decimal(rng.randint(1, 5)), unit_price=price[(treated, code)]
            )
            for code in picked
        )
        out.append(
            Claim(
                claim_id=f"c{n}",
                date=start + timedelta(days=n * 365 // claims),
                setting="inpatient" if inpatient else "outpatient",
                person=person,
                institution=InstitutionInfo(
                    id=f"h-{treated}", region=treated, level=rng.randint(1, 3)
                ),
                lines=lines,
                filing=filing,
                emergency=rng.random() < 0.05,
            )
        )
    return out


def reference(operations: int) -> float:
    """Seconds for ``operations`` Decimal multiply + half-up round steps (same run)."""
    fen = Decimal("0.01")
    a, b = Decimal("12.3456"), Decimal("3.5")
    t0 = time.perf_counter()
    for _ in range(operations):
        (a * b).quantize(fen, ROUND_HALF_UP)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    policies = load_policies([], [DATA / "policies"])
    catalog = load_catalogs(sorted((DATA / "catalogs").glob("*.csv")))
    claims = generate(policies, catalog, claims=args.claims, persons=args.persons, seed=args.seed)
    lines = sum(len(c.lines) for c in claims)
    print(f"machine: {machine()}")
    print(f"workload: {len(claims)} claims, {lines} lines ({lines / len(claims):.1f} per claim)")
    best = float("inf")
    for run in range(args.repeat):
        t0 = time.perf_counter()
        with collector_paused():  # as `yibao settle` runs it
            results = settle_run(claims, policies=policies, catalog=catalog)
        elapsed = time.perf_counter() - t0
        best = min(best, elapsed)
        settled = sum(1 for r in results if r.status == "settled")
        print(
            f"run {run + 1}: {elapsed:.3f} s, {len(claims) / elapsed:,.0f} claims/s, "
            f"{lines / elapsed:,.0f} lines/s ({settled} settled)"
        )
    ref = reference(lines * 4)
    print(
        f"best: {len(claims) / best:,.0f} claims/s, {lines / best:,.0f} lines/s; "
        f"reference ({lines * 4} Decimal mul+round): {ref:.3f} s, "
        f"engine/reference time ratio {best / ref:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
