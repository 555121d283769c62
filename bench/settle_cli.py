"""Whole-process ``yibao settle`` against a plain Decimal implementation of the contract.

Run: ``make bench-settle`` or ``.venv/bin/python bench/settle_cli.py [--claims 20000]``.

Generates a year of claims on the demo policies and catalogs (``bench/engine.py``'s
generator), writes them as the contract's JSON, and times, in one run, alternating:

- ``yibao settle CLAIMS --catalog ... --policies ...`` (a new process each time: start-up,
  reading and validating, settling, writing the JSON);
- ``python bench/plain_settle.py`` on the same files: the contract written plainly with
  ``Decimal``, ``json`` and PyYAML (the same-run reference).

Before timing, the two outputs are compared figure by figure (every money field, the off-site
status, the policy, the lines and the accumulators of every settled claim), so the reference
computes the same thing. Also times ``yibao --help``. Prints the medians and the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine import generate
from machine import one_line
from yibao.cli.settle import load_catalogs, load_policies
from yibao.engine import Claim
from yibao.engine.render import MONEY_FIELDS

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "yibao" / "data"
YIBAO = Path(sys.executable).with_name("yibao")
COMPARED = ("status", "offsite_status", "policy_id", *MONEY_FIELDS, "lines", "accumulators")


def claim_json(claim: Claim) -> dict[str, Any]:
    person = claim.person
    filing = claim.filing
    return {
        "claim_id": claim.claim_id,
        "date": claim.date.isoformat(),
        "setting": claim.setting,
        "person": {
            "id": person.id,
            "insured_region": person.insured_region,
            "scheme": person.scheme,
            "person_type": person.person_type,
            "assistance_eligible": person.assistance_eligible,
            "account_balance": str(person.account_balance),
        },
        "institution": {
            "id": claim.institution.id,
            "region": claim.institution.region,
            "level": claim.institution.level,
        },
        "filing": None
        if filing is None
        else {
            "type": filing.type,
            "destination": filing.destination,
            "valid_from": filing.valid_from.isoformat(),
            "valid_to": filing.valid_to.isoformat() if filing.valid_to else None,
        },
        "emergency": claim.emergency,
        "liability": claim.liability,
        "lines": [
            {"code": ln.code, "quantity": str(ln.quantity), "unit_price": str(ln.unit_price)}
            for ln in claim.lines
        ],
    }


def run(command: list[str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - start, done.stdout


def compare(ours: list[dict[str, Any]], plain: list[dict[str, Any]]) -> int:
    """The number of claims compared; raises on the first difference."""
    assert len(ours) == len(plain)
    for a, b in zip(ours, plain, strict=True):
        if a["status"] == "rejected":
            assert b["status"] == "rejected", (a["claim_id"], b)
            continue
        for key in COMPARED:
            assert a[key] == b[key], (a["claim_id"], key, a[key], b[key])
    return len(ours)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    catalogs = sorted((DATA / "catalogs").glob("*.csv"))
    policies = load_policies([], [DATA / "policies"])
    catalog = load_catalogs(catalogs)
    claims = generate(policies, catalog, claims=args.claims, persons=args.persons, seed=7)
    lines = sum(len(c.lines) for c in claims)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.json"
        path.write_text(json.dumps([claim_json(c) for c in claims]), encoding="utf-8")
        files = [str(path)]
        for catalog_path in catalogs:
            files += ["--catalog", str(catalog_path)]
        files += ["--policies", str(DATA / "policies")]
        ours_cmd = [str(YIBAO), "settle", *files]
        plain_cmd = [sys.executable, str(ROOT / "bench" / "plain_settle.py"), *files]
        help_cmd = [str(YIBAO), "--help"]

        _, ours_out = run(ours_cmd)
        _, plain_out = run(plain_cmd)
        checked = compare(json.loads(ours_out), json.loads(plain_out))
        times: dict[str, list[float]] = {"yibao settle": [], "plain Decimal": [], "--help": []}
        for _ in range(args.rounds):  # alternating, so both see the same noise
            times["yibao settle"].append(run(ours_cmd)[0])
            times["plain Decimal"].append(run(plain_cmd)[0])
            times["--help"].append(run(help_cmd)[0])

    print(f"machine: {one_line()}")
    print(f"claims: {len(claims):,}  lines: {lines:,}  (outputs agree on {checked:,} claims)")
    for name, values in times.items():
        median = statistics.median(values)
        rate = f"  {len(claims) / median:,.0f} claims/s" if name != "--help" else ""
        print(f"{name:14} median {median:6.3f} s  (min {min(values):.3f}){rate}")
    ratio = statistics.median(times["yibao settle"]) / statistics.median(times["plain Decimal"])
    print(f"yibao settle takes {ratio:.2f} of the plain implementation's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
