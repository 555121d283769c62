"""Seeded claims of the contract (JSON dicts) on the demo policies and catalogs, for the batch
tests: many persons with several claims each (so accumulators carry), off-site care with and
without filings, emergencies, liabilities, a year boundary, year_to_date starting states and
claims that are rejected (no policy)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from yibao.cli.settle import load_catalogs, load_policies
from yibao.data import demo_path
from yibao.engine import Catalog, Policy

REGIONS = ("110000", "130600", "460200")
CATALOGS = [demo_path("catalogs", f"{region}.csv") for region in REGIONS]
POLICIES = demo_path("policies")

KINDS = (
    ("employee", "in_service"),
    ("employee", "retired"),
    ("resident", "adult"),
    ("resident", "minor"),
    ("resident", "student"),  # no policy: every claim rejected
)


def demo_rules() -> tuple[Catalog, list[Policy]]:
    return load_catalogs(CATALOGS), load_policies([], [POLICIES])


def _codes() -> dict[str, list[str]]:
    codes: dict[str, list[str]] = {}
    for path in CATALOGS:
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                codes.setdefault(row["region"], []).append(row["code"])
    return codes


def generate_claims(persons: int, claims: int, seed: int) -> list[dict[str, Any]]:
    """``claims`` contract claims of ``persons`` persons, in a shuffled-but-seeded run order."""
    rng = random.Random(seed)
    codes = _codes()
    people = []
    for index in range(persons):
        scheme, person_type = KINDS[rng.randrange(len(KINDS))]
        home = rng.choice(REGIONS)
        people.append(
            {
                "id": f"p{index:05d}",
                "insured_region": home,
                "scheme": scheme,
                "person_type": person_type,
                "assistance_eligible": rng.random() < 0.2,
                "account_balance": f"{rng.randrange(0, 500_000) / 100:.2f}",
            }
        )
    out = []
    for number in range(claims):
        person = dict(people[rng.randrange(persons)])
        treated = person["insured_region"] if rng.random() < 0.4 else rng.choice(REGIONS)
        setting = "inpatient" if rng.random() < 0.3 else "outpatient"
        year = 2026 if rng.random() < 0.9 else 2027
        day = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        filing = None
        if treated != person["insured_region"] and rng.random() < 0.5:
            filing = {
                "type": rng.choice(["resettled_retiree", "referral", "posted_worker", "emergency"]),
                "destination": rng.choice([treated, treated[:2] + "0000"]),
                "valid_from": "2026-01-01",
                "valid_to": rng.choice([None, "2026-12-31"]),
            }
        if rng.random() < 0.02:
            person["year_to_date"] = {
                "inpatient": {
                    "in_scope_cum": "12000.00",
                    "deductible_met": "1300.00",
                    "pool_paid_cum": "9000.00",
                    "admissions": 1,
                },
                "outpatient": {"in_scope_cum": "800.50"},
                "assistance_paid_cum": "100.00",
            }
        lines = []
        for _ in range(rng.randrange(1, 6)):
            quantity = rng.choice(["1", "2", "3", "0.5", "10", "1.2345"])
            price_fen = rng.randrange(100, 300_000 if setting == "inpatient" else 40_000)
            lines.append(
                {
                    "code": rng.choice(codes[treated]),
                    "quantity": quantity,
                    "unit_price": f"{price_fen / 100:.2f}",
                }
            )
        out.append(
            {
                "claim_id": f"c{number:06d}",
                "date": day,
                "setting": setting,
                "person": person,
                "institution": {
                    "id": f"h-{treated}-{rng.randrange(3)}",
                    "region": treated,
                    "level": rng.randrange(1, 4),
                },
                "filing": filing,
                "emergency": rng.random() < 0.05,
                "liability": rng.choice([None] * 30 + ["third_party", "third_party_unresolved"]),
                "lines": lines,
            }
        )
    return out


def write_json(claims: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(json.dumps(claims, ensure_ascii=False), encoding="utf-8")
    return path


def write_json_lines(claims: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(
        "".join(json.dumps(claim, ensure_ascii=False) + "\n" for claim in claims), encoding="utf-8"
    )
    return path
