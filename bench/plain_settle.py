"""A plain implementation of the settlement contract, for the benchmark of ``yibao settle``.

Run: ``python bench/plain_settle.py CLAIMS.json --catalog C.csv ... --policies DIR``.

What a competent programmer would write from ``docs/settlement.md`` in an afternoon: the
standard library's ``json`` and ``csv``, PyYAML, ``Decimal`` everywhere, dictionaries instead
of classes, one loop, no validation beyond what the computation needs and no explanations.
It prints the same JSON results (without ``--explain``), so ``bench/settle_cli.py`` checks
the two agree before it times them: the reference is an implementation, not a strawman.
It is not part of the product.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
LONG_TERM = {
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
    "minor_with_parents",
    "resident_mother_postnatal",
}
EXCLUDING = {"work_injury", "third_party", "public_health", "abroad"}
MONEY = (
    "total",
    "full_self_pay",
    "over_limit_self_pay",
    "pre_self_pay",
    "in_scope",
    "deductible",
    "pool_fund_pay",
    "supplementary_pay",
    "assistance_pay",
    "fund_pay_total",
    "personal_burden",
    "account_pay",
    "cash_pay",
    "recoverable",
)


def r2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(x: Any) -> Decimal:
    return Decimal(str(x))


def day(x: Any) -> date:
    return x if isinstance(x, date) else date.fromisoformat(str(x))


def load_policies(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.yaml")):
        p = yaml.safe_load(path.read_text(encoding="utf-8"))
        p["effective_from"] = day(p["effective_from"])
        p["effective_to"] = day(p["effective_to"]) if p.get("effective_to") else None
        out.append(p)
    return out


def load_catalog(paths: list[Path]) -> dict[tuple[str, str], dict[str, str]]:
    items = {}
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                items[(row["region"], row["code"])] = row
    return items


def new_year(year: int) -> dict[str, Any]:
    def setting() -> dict[str, Any]:
        return {
            "in_scope_cum": ZERO,
            "deductible_met": ZERO,
            "pool_paid_cum": ZERO,
            "admissions": 0,
        }

    return {
        "year": year,
        "inpatient": setting(),
        "outpatient": setting(),
        "supplementary": {},
        "assistance_paid_cum": ZERO,
    }


def start_year(person: dict[str, Any], year: int) -> dict[str, Any]:
    acc = new_year(year)
    ytd = person.get("year_to_date")
    if ytd:
        for s in ("inpatient", "outpatient"):
            for k, v in (ytd.get(s) or {}).items():
                acc[s][k] = int(v) if k == "admissions" else dec(v)
        for name, v in (ytd.get("supplementary") or {}).items():
            acc["supplementary"][name] = {k: dec(x) for k, x in v.items()}
        acc["assistance_paid_cum"] = dec(ytd.get("assistance_paid_cum", "0"))
    return acc


def copy_year(acc: dict[str, Any]) -> dict[str, Any]:
    return {
        "year": acc["year"],
        "inpatient": dict(acc["inpatient"]),
        "outpatient": dict(acc["outpatient"]),
        "supplementary": {k: dict(v) for k, v in acc["supplementary"].items()},
        "assistance_paid_cum": acc["assistance_paid_cum"],
    }


def show_year(acc: dict[str, Any]) -> dict[str, Any]:
    def setting(s: dict[str, Any]) -> dict[str, Any]:
        return {
            "in_scope_cum": str(r2(s["in_scope_cum"])),
            "deductible_met": str(r2(s["deductible_met"])),
            "pool_paid_cum": str(r2(s["pool_paid_cum"])),
            "admissions": s["admissions"],
        }

    return {
        "year": acc["year"],
        "inpatient": setting(acc["inpatient"]),
        "outpatient": setting(acc["outpatient"]),
        "supplementary": {
            k: {"base_cum": str(r2(v["base_cum"])), "paid_cum": str(r2(v["paid_cum"]))}
            for k, v in sorted(acc["supplementary"].items())
        },
        "assistance_paid_cum": str(r2(acc["assistance_paid_cum"])),
    }


def status_of(claim: dict[str, Any], when: date) -> str:
    insured = claim["person"]["insured_region"]
    region = claim["institution"]["region"]
    if region == insured:
        return "local"
    f = claim.get("filing")
    if f:
        valid = day(f["valid_from"]) <= when and (
            not f.get("valid_to") or when <= day(f["valid_to"])
        )
        dest = f["destination"]
        matches = dest == region or (dest.endswith("0000") and dest[:2] == region[:2])
        if valid and matches:
            return "long_term" if f["type"] in LONG_TERM else "temporary"
    return "temporary" if claim.get("emergency") else "unfiled"


def rejected(claim: dict[str, Any], reason: str, acc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"claim_id": claim["claim_id"], "status": "rejected", "reason": reason}
    out["offsite_status"] = None
    out["policy_id"] = None
    out.update({k: "0.00" for k in MONEY})
    out["lines"] = []
    out["accumulators"] = show_year(acc)
    return out


def band_pay(start: Decimal, amount: Decimal, bands: list[dict[str, Any]], rate: Any) -> Decimal:
    """Σ part × rate over the bands the interval [start, start + amount) crosses."""
    total = ZERO
    lower = ZERO
    end = start + amount
    for band in bands:
        upper = dec(band["up_to"]) if band.get("up_to") is not None else None
        lo = max(start, lower)
        hi = end if upper is None else min(end, upper)
        if hi > lo:
            total += (hi - lo) * rate(band)
        if upper is None or upper >= end:
            break
        lower = upper
    return total


def settle_one(
    claim: dict[str, Any],
    policies: list[dict[str, Any]],
    catalog: dict[tuple[str, str], dict[str, str]],
    years: dict[tuple[str, int], dict[str, Any]],
) -> dict[str, Any]:
    person = claim["person"]
    when = day(claim["date"])
    key = (person["id"], when.year)
    if key not in years:
        years[key] = start_year(person, when.year)
    acc = years[key]
    found = [
        p
        for p in policies
        if str(p["region"]) == person["insured_region"]
        and p["scheme"] == person["scheme"]
        and person["person_type"] in p["person_types"]
        and p["effective_from"] <= when
        and (p["effective_to"] is None or when <= p["effective_to"])
    ]
    if len(found) != 1:
        return rejected(claim, "no policy" if not found else "several policies", acc)
    pol = found[0]
    setting = claim["setting"]
    rules = pol.get(setting)
    if not rules:
        return rejected(claim, f"the policy does not cover {setting}", acc)
    status = status_of(claim, when)
    offsite = pol.get("offsite") or {}
    if status == "local" and not offsite.get("home_benefits_while_filed", True):
        f = claim.get("filing")
        if f and f["type"] in LONG_TERM and day(f["valid_from"]) <= when:
            return rejected(claim, "local use suspended while filed", acc)
    mode = offsite.get("reduction_mode", "points")
    reduction = (
        ZERO if status == "local" else dec(offsite.get("ratio_reduction", {}).get(status, 0))
    )
    level = int(claim["institution"]["level"])
    region = claim["institution"]["region"]
    liability = claim.get("liability")
    excluded = liability in EXCLUDING
    lines = []
    t = {"full_self_pay": ZERO, "over_limit_self_pay": ZERO, "pre_self_pay": ZERO, "in_scope": ZERO}
    for ln in claim["lines"]:
        item = catalog[(region, ln["code"])]
        q, price = dec(ln["quantity"]), dec(ln["unit_price"])
        amount = r2(q * price)
        settings = item.get("settings") or "both"
        eligible = (
            item["class"] in ("A", "B")
            and (settings == "both" or settings == setting)
            and (not item.get("min_level") or level >= int(item["min_level"]))
            and not excluded
        )
        full = over = pre = scope = ZERO
        if not eligible:
            full = amount
        else:
            ceiling = item.get("price_ceiling")
            base = amount
            if ceiling:
                over = amount - r2(q * min(price, dec(ceiling)))
                base = amount - over
            if item["class"] == "B" and item.get("self_pay_ratio"):
                pre = r2(base * dec(item["self_pay_ratio"]))
            scope = base - pre
            if mode == "pre_self_pay" and reduction > 0:
                extra = r2(scope * reduction)
                pre += extra
                scope -= extra
        lines.append(
            {
                "code": ln["code"],
                "amount": str(amount),
                "full_self_pay": str(full),
                "over_limit_self_pay": str(over),
                "pre_self_pay": str(pre),
                "in_scope": str(scope),
            }
        )
        t["full_self_pay"] += full
        t["over_limit_self_pay"] += over
        t["pre_self_pay"] += pre
        t["in_scope"] += scope
    new = copy_year(acc)
    cum = new[setting]
    s_total = t["in_scope"]
    ded_rule = rules["deductible"]
    if ded_rule["mode"] == "annual":
        due = max(ZERO, dec(ded_rule["amount"]) - cum["deductible_met"])
    else:
        due = dec(ded_rule["by_level"][level])
        if cum["admissions"] >= 1:
            due = r2(due * dec(ded_rule.get("later_admissions_factor", 1)))
    deductible = min(s_total, due)
    per_claim = rules.get("band_basis", "annual") == "per_claim"
    position = ZERO if per_claim else cum["in_scope_cum"]

    def pool_rate(band: dict[str, Any]) -> Decimal:
        ratio = dec(band["ratio"][level])
        if status == "local" or reduction == 0 or mode == "pre_self_pay":
            return ratio
        if mode == "points":
            return max(ZERO, ratio - reduction)
        return ratio * (1 - reduction)

    computed = r2(band_pay(position + deductible, s_total - deductible, rules["bands"], pool_rate))
    cap = rules.get("annual_cap")
    pool = computed if cap is None else min(computed, max(ZERO, dec(cap) - cum["pool_paid_cum"]))
    supplementary = ZERO
    for item in pol.get("supplementary") or []:
        sup = new["supplementary"].setdefault(item["name"], {"base_cum": ZERO, "paid_cum": ZERO})
        if setting not in item.get("settings", ["inpatient", "outpatient"]):
            continue
        base = s_total - pool - supplementary
        threshold = dec(item.get("threshold", 0))
        start = sup["base_cum"]
        lo = max(start, threshold)
        hi = start + base
        paid = ZERO
        if hi > lo:  # the bands' positions are on this item's axis, from its threshold
            paid = r2(band_pay(lo, hi - lo, item["bands"], lambda band: dec(band["ratio"])))
        if item.get("annual_cap") is not None:
            paid = min(paid, max(ZERO, dec(item["annual_cap"]) - sup["paid_cum"]))
        sup["base_cum"] += base
        sup["paid_cum"] += paid
        supplementary += paid
    assistance = ZERO
    rule = pol.get("assistance")
    if rule and person.get("assistance_eligible"):
        left = s_total - pool - supplementary
        assistance = r2(left * dec(rule["ratio"]))
        if rule.get("annual_cap") is not None:
            assistance = min(
                assistance, max(ZERO, dec(rule["annual_cap"]) - new["assistance_paid_cum"])
            )
        new["assistance_paid_cum"] += assistance
    total = sum(t.values(), ZERO)
    fund = pool + supplementary + assistance
    burden = total - fund
    account = ZERO
    account_rule = pol.get("account")
    if account_rule and person["scheme"] != "resident":
        parts = {
            "in_scope_personal": s_total - fund,
            "pre_self_pay": t["pre_self_pay"],
            "over_limit_self_pay": t["over_limit_self_pay"],
            "full_self_pay": t["full_self_pay"],
        }
        payable = sum((parts[p] for p in account_rule.get("pays", [])), ZERO)
        account = max(ZERO, min(dec(person.get("account_balance", "0")), payable))
    cum["in_scope_cum"] += s_total
    cum["deductible_met"] += deductible
    cum["pool_paid_cum"] += pool
    if setting == "inpatient" and not excluded:
        cum["admissions"] += 1
    years[key] = new
    money = {
        "total": total,
        **t,
        "deductible": deductible,
        "pool_fund_pay": pool,
        "supplementary_pay": supplementary,
        "assistance_pay": assistance,
        "fund_pay_total": fund,
        "personal_burden": burden,
        "account_pay": account,
        "cash_pay": burden - account,
        "recoverable": fund if liability == "third_party_unresolved" else ZERO,
    }
    out: dict[str, Any] = {
        "claim_id": claim["claim_id"],
        "status": "settled",
        "reason": None,
        "offsite_status": status,
        "policy_id": pol["id"],
    }
    out.update({k: str(r2(money[k])) for k in MONEY})
    out["lines"] = lines
    out["accumulators"] = show_year(new)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", type=Path)
    parser.add_argument("--catalog", type=Path, action="append", required=True)
    parser.add_argument("--policies", type=Path, required=True)
    args = parser.parse_args(argv)
    policies = load_policies(args.policies)
    catalog = load_catalog(args.catalog)
    claims = json.loads(args.claims.read_text(encoding="utf-8"))
    years: dict[tuple[str, int], dict[str, Any]] = {}
    results = [settle_one(c, policies, catalog, years) for c in claims]
    sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
