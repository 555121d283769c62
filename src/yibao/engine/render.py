"""The contract's JSON shapes of results and accumulators, and the plain-text explanation."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .models import (
    Explanation,
    SettingAccumulator,
    Settlement,
    SupplementaryAccumulator,
    YearAccumulators,
)

_FEN = Decimal("0.01")

MONEY_FIELDS = (
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
LINE_FIELDS = ("amount", "full_self_pay", "over_limit_self_pay", "pre_self_pay", "in_scope")


def money(value: Decimal) -> str:
    return str(value.quantize(_FEN))


def _ratio(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _setting_to_dict(acc: SettingAccumulator) -> dict[str, Any]:
    return {
        "in_scope_cum": money(acc.in_scope_cum),
        "deductible_met": money(acc.deductible_met),
        "pool_paid_cum": money(acc.pool_paid_cum),
        "admissions": acc.admissions,
    }


def accumulators_to_dict(acc: YearAccumulators) -> dict[str, Any]:
    return {
        "year": acc.year,
        "inpatient": _setting_to_dict(acc.inpatient),
        "outpatient": _setting_to_dict(acc.outpatient),
        "supplementary": {
            name: {"base_cum": money(s.base_cum), "paid_cum": money(s.paid_cum)}
            for name, s in sorted(acc.supplementary.items())
        },
        "assistance_paid_cum": money(acc.assistance_paid_cum),
    }


def accumulators_from_dict(data: Mapping[str, Any], *, year: int) -> YearAccumulators:
    """Inverse of :func:`accumulators_to_dict` (values already validated as decimals)."""

    def setting(part: Any) -> SettingAccumulator:
        part = part or {}
        return SettingAccumulator(
            in_scope_cum=Decimal(part.get("in_scope_cum", 0)),
            deductible_met=Decimal(part.get("deductible_met", 0)),
            pool_paid_cum=Decimal(part.get("pool_paid_cum", 0)),
            admissions=int(part.get("admissions", 0)),
        )

    return YearAccumulators(
        year=int(data.get("year", year)),
        inpatient=setting(data.get("inpatient")),
        outpatient=setting(data.get("outpatient")),
        supplementary={
            str(name): SupplementaryAccumulator(
                base_cum=Decimal(v.get("base_cum", 0)), paid_cum=Decimal(v.get("paid_cum", 0))
            )
            for name, v in (data.get("supplementary") or {}).items()
        },
        assistance_paid_cum=Decimal(data.get("assistance_paid_cum", 0)),
    )


def result_to_dict(result: Settlement, *, explain: bool = False) -> dict[str, Any]:
    """The contract's result object (keys in the contract's order, then extras)."""
    out: dict[str, Any] = {
        "claim_id": result.claim_id,
        "status": result.status,
        "reason": result.reason,
        "offsite_status": result.offsite_status,
        "policy_id": result.policy_id,
    }
    for name in MONEY_FIELDS:
        out[name] = money(getattr(result, name))
    out["lines"] = [
        {"code": line.code, **{name: money(getattr(line, name)) for name in LINE_FIELDS}}
        for line in result.lines
    ]
    out["accumulators"] = accumulators_to_dict(result.accumulators)
    out["setting"] = result.setting
    out["supplementary_by_name"] = {k: money(v) for k, v in result.supplementary_by_name.items()}
    if explain:
        out["explanation"] = explanation_lines(result)
    return out


def explanation_lines(result: Settlement) -> list[str]:
    """The reasoning behind a result, one sentence a line, for people."""
    exp = result.explanation or Explanation(offsite_reason="")
    out: list[str] = []
    if result.offsite_status is not None:
        out.append(f"off-site status {result.offsite_status}: {exp.offsite_reason}")
    if result.status == "rejected":
        out.append(f"rejected: {result.reason}")
        return out
    out.append(f"policy {result.policy_id} ({result.setting})")
    for line in result.lines:
        head = f"line {line.code} {line.name} class {line.item_class or '?'}"
        head += f": amount {money(line.amount)}"
        if not line.eligible:
            out.append(f"{head}; not eligible ({line.not_eligible_reason}) → self-pay")
            continue
        bits = []
        if line.price_ceiling is not None:
            bits.append(
                f"ceiling {money(line.price_ceiling)}, over limit {money(line.over_limit_self_pay)}"
            )
        else:
            bits.append("no price ceiling")
        if line.item_class == "B":
            bits.append(f"self-pay ratio {_ratio(line.self_pay_ratio)}")
        if line.offsite_extra:
            bits.append(f"off-site pre-self-pay {money(line.offsite_extra)}")
        bits.append(f"pre-self-pay {money(line.pre_self_pay)}, in scope {money(line.in_scope)}")
        out.append(f"{head}; " + "; ".join(bits))
    out.append(
        f"deductible due {money(exp.deductible_due)}"
        f" (met before {money(exp.deductible_met_before)}),"
        f" met on this claim {money(result.deductible)}"
    )
    if exp.reduction:
        out.append(f"off-site reduction {_ratio(exp.reduction)} ({exp.reduction_mode})")
    for part in exp.parts:
        rate = _ratio(part.rate)
        if part.rate != part.base_ratio:
            rate += f" (band {_ratio(part.base_ratio)} lowered)"
        out.append(
            f"band part {money(part.start)}–{money(part.end)}: {money(part.amount)} at {rate}"
        )
    cap = "" if exp.pool_cap_left is None else f"; cap left {money(exp.pool_cap_left)}"
    out.append(
        f"pool fund computed {money(exp.pool_computed)}{cap}; pays {money(result.pool_fund_pay)}"
    )
    if exp.pool_cap_reached:
        out.append("annual cap of the pool fund reached")
    for supp in exp.supplementary:
        pieces = ", ".join(f"{money(p.amount)} at {_ratio(p.rate)}" for p in supp.parts) or "none"
        out.append(
            f"supplementary {supp.name}: base {money(supp.base)} from {money(supp.start)}; "
            f"paid parts {pieces}; pays {money(supp.paid)}"
            + ("; annual cap reached" if supp.cap_reached else "")
        )
    if result.assistance_pay or exp.assistance_computed:
        out.append(
            f"medical assistance pays {money(result.assistance_pay)}"
            + ("; annual cap reached" if exp.assistance_cap_reached else "")
        )
    out.append(
        f"personal burden {money(result.personal_burden)}: account {money(result.account_pay)}"
        f" (may pay {money(exp.account_eligible)}), cash {money(result.cash_pay)}"
    )
    out.extend(exp.notes)
    return out
