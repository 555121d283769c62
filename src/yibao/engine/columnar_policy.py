"""Policies and catalog rows as arrays for the compiled claim and line loops.

Each figure is converted exactly: money to whole fen, a ratio to an integer numerator over
a power of ten shared by all ratios of its kind. A policy that cannot be written so (an
amount finer than a fen, a ratio outside [0, 1], a repeated supplementary name, a
deductible missing a hospital level) is marked ``exact=False``: claims under it are
settled by the scalar engine, which gives the contract's answer (or its error) as always.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from yibao.money import round2

from .models import LONG_TERM_FILINGS, Policy, SettingRules
from .settle import _reduced

I64 = npt.NDArray[np.int64]
NONE = -1
STATUSES = ("local", "long_term", "temporary", "unfiled")
# Amounts above this (10^13 yuan) are not taken by the fast path.
MONEY_LIMIT = 10**15
# The largest power of ten a ratio may need (more digits: scalar engine).
MAX_PLACES = 12


def places(value: Decimal) -> int:
    """Digits after the point that ``value`` needs (0 for integers)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def fen_of(value: Decimal | None) -> int | None:
    """Whole fen of ``value`` when it is a non-negative whole number of fen within range;
    None otherwise. (A None input is not asked here.)"""
    if value is None:
        return None
    scaled = value * 100
    if scaled != scaled.to_integral_value() or scaled < 0 or scaled > MONEY_LIMIT:
        return None
    return int(scaled)


def numerator(value: Decimal, den_places: int) -> int:
    return int(value.scaleb(den_places))


def _ratio_ok(value: Decimal) -> bool:
    return Decimal(0) <= value <= Decimal(1) and places(value) <= MAX_PLACES


@dataclass
class PolicyArrays:
    """Every policy's rules as arrays indexed ``[policy, setting, ...]`` (setting 0 is
    inpatient, 1 outpatient; level index 0..2; status index as :data:`STATUSES`)."""

    names: list[str]
    exact: npt.NDArray[np.bool_]
    has_rules: npt.NDArray[np.bool_]
    ded_per_admission: npt.NDArray[np.bool_]
    ded_amount: I64
    ded_level: I64
    ded_later: I64
    per_claim_basis: npt.NDArray[np.bool_]
    cap: I64
    band_count: I64
    band_up: I64
    band_rate: I64
    rate_den: int
    extra: I64
    extra_den: int
    home_benefits: npt.NDArray[np.bool_]
    supp_count: I64
    supp_name: I64
    supp_settings: npt.NDArray[np.int8]
    supp_threshold: I64
    supp_band_count: I64
    supp_up: I64
    supp_rate: I64
    supp_cap: I64
    has_assistance: npt.NDArray[np.bool_]
    assistance_rate: I64
    assistance_cap: I64
    account_pays: I64
    # per policy: the names of its supplementary items for each setting, in order
    by_name_order: list[tuple[list[int], list[int]]] = field(default_factory=list)


_ACCOUNT_BITS = {"in_scope_personal": 1, "pre_self_pay": 2, "over_limit_self_pay": 4}
_ACCOUNT_BITS["full_self_pay"] = 8


def _rates_of(policy: Policy, rules: SettingRules, level: int, band: int) -> list[Decimal]:
    ratio = rules.bands[band].ratio[level]
    offsite = policy.offsite
    out = [ratio]
    for status in STATUSES[1:]:
        reduction = offsite.ratio_reduction.get(status, Decimal("0.00"))
        out.append(_reduced(ratio, offsite.reduction_mode, reduction))
    return out


def _setting_exact(policy: Policy, rules: SettingRules) -> bool:
    ded = rules.deductible
    amounts: list[Decimal | None] = [rules.annual_cap]
    amounts += [b.up_to for b in rules.bands]
    if ded.mode == "annual":
        amounts.append(ded.amount)
    else:
        if any(level not in ded.by_level for level in (1, 2, 3)):
            return False
        amounts += [ded.by_level[level] for level in (1, 2, 3)]
        amounts += [
            round2(ded.by_level[level] * ded.later_admissions_factor) for level in (1, 2, 3)
        ]
    if any(a is not None and fen_of(a) is None for a in amounts):
        return False
    for band in range(len(rules.bands)):
        for level in (1, 2, 3):
            if level not in rules.bands[band].ratio:
                return False
            if not all(_ratio_ok(r) for r in _rates_of(policy, rules, level, band)):
                return False
    return True


def _policy_exact(policy: Policy) -> bool:
    try:
        for rules in (policy.inpatient, policy.outpatient):
            if rules is not None and not _setting_exact(policy, rules):
                return False
        names = [item.name for item in policy.supplementary]
        if len(set(names)) != len(names):
            return False
        for item in policy.supplementary:
            amounts = [item.threshold, item.annual_cap, *(b.up_to for b in item.bands)]
            if any(a is not None and fen_of(a) is None for a in amounts):
                return False
            if not all(_ratio_ok(b.ratio) for b in item.bands):
                return False
        if policy.assistance is not None:
            if not _ratio_ok(policy.assistance.ratio):
                return False
            cap = policy.assistance.annual_cap
            if cap is not None and fen_of(cap) is None:
                return False
        reductions = policy.offsite.ratio_reduction.values()
        return all(_ratio_ok(r) for r in reductions)
    except (ArithmeticError, TypeError, KeyError):
        return False


def encode_policies(policies: Sequence[Policy], names: list[str]) -> PolicyArrays:
    """The policies as arrays; ``names`` (the supplementary names met so far, e.g. in
    year-to-date states) is extended with every item's name."""
    count = max(1, len(policies))
    exact = np.array([_policy_exact(p) for p in policies] or [False], dtype=np.bool_)
    usable = [p for p, ok in zip(policies, exact, strict=False) if ok]
    max_bands = max(
        [len(r.bands) for p in usable for r in (p.inpatient, p.outpatient) if r is not None] or [1]
    )
    max_items = max([len(p.supplementary) for p in usable] or [1])
    max_supp_bands = max([len(i.bands) for p in usable for i in p.supplementary] or [1])

    # the shared denominators: enough places for every ratio in use
    rate_places = 0
    extra_places = 0
    for policy in usable:
        for rules in (policy.inpatient, policy.outpatient):
            if rules is None:
                continue
            for bi in range(len(rules.bands)):
                for level in (1, 2, 3):
                    for rate in _rates_of(policy, rules, level, bi):
                        rate_places = max(rate_places, places(rate))
        for entry in policy.supplementary:
            for sb in entry.bands:
                rate_places = max(rate_places, places(sb.ratio))
        if policy.assistance is not None:
            rate_places = max(rate_places, places(policy.assistance.ratio))
        for r in policy.offsite.ratio_reduction.values():
            extra_places = max(extra_places, places(r))

    has_rules = np.zeros((count, 2), np.bool_)
    ded_per_admission = np.zeros((count, 2), np.bool_)
    ded_amount = np.zeros((count, 2), np.int64)
    ded_level = np.zeros((count, 2, 3), np.int64)
    ded_later = np.zeros((count, 2, 3), np.int64)
    per_claim_basis = np.zeros((count, 2), np.bool_)
    cap = np.full((count, 2), NONE, np.int64)
    band_count = np.zeros((count, 2), np.int64)
    band_up = np.full((count, 2, max_bands), NONE, np.int64)
    band_rate = np.zeros((count, 2, max_bands, 3, 4), np.int64)
    extra = np.zeros((count, 4), np.int64)
    home_benefits = np.ones(count, np.bool_)
    supp_count = np.zeros(count, np.int64)
    supp_name = np.zeros((count, max_items), np.int64)
    supp_settings = np.zeros((count, max_items), np.int8)
    supp_threshold = np.zeros((count, max_items), np.int64)
    supp_band_count = np.zeros((count, max_items), np.int64)
    supp_up = np.full((count, max_items, max_supp_bands), NONE, np.int64)
    supp_rate = np.zeros((count, max_items, max_supp_bands), np.int64)
    supp_cap = np.full((count, max_items), NONE, np.int64)
    has_assistance = np.zeros(count, np.bool_)
    assistance_rate = np.zeros(count, np.int64)
    assistance_cap = np.full(count, NONE, np.int64)
    account_pays = np.full(count, NONE, np.int64)
    by_name_order: list[tuple[list[int], list[int]]] = []
    name_index = {name: k for k, name in enumerate(names)}

    def fen(value: Decimal | None) -> int:
        got = fen_of(value)
        return NONE if got is None else got

    for p, policy in enumerate(policies):
        order: tuple[list[int], list[int]] = ([], [])
        by_name_order.append(order)
        if not exact[p]:
            continue
        offsite = policy.offsite
        home_benefits[p] = offsite.home_benefits_while_filed
        for st, status in enumerate(STATUSES):
            reduction = Decimal(0) if st == 0 else offsite.ratio_reduction.get(status, Decimal(0))
            if offsite.reduction_mode == "pre_self_pay" and reduction > 0:
                extra[p, st] = numerator(reduction, extra_places)
        for s, rules in enumerate((policy.inpatient, policy.outpatient)):
            if rules is None:
                continue
            has_rules[p, s] = True
            ded = rules.deductible
            if ded.mode == "annual":
                ded_amount[p, s] = fen(ded.amount)
            else:
                ded_per_admission[p, s] = True
                for lvl in (1, 2, 3):
                    ded_level[p, s, lvl - 1] = fen(ded.by_level[lvl])
                    ded_later[p, s, lvl - 1] = fen(
                        round2(ded.by_level[lvl] * ded.later_admissions_factor)
                    )
            per_claim_basis[p, s] = rules.band_basis != "annual"
            if rules.annual_cap is not None:
                cap[p, s] = fen(rules.annual_cap)
            band_count[p, s] = len(rules.bands)
            for b, band in enumerate(rules.bands):
                if band.up_to is not None:
                    band_up[p, s, b] = fen(band.up_to)
                for lvl in (1, 2, 3):
                    for st, rate in enumerate(_rates_of(policy, rules, lvl, b)):
                        band_rate[p, s, b, lvl - 1, st] = numerator(rate, rate_places)
        supp_count[p] = len(policy.supplementary)
        for j, item in enumerate(policy.supplementary):
            if item.name not in name_index:
                name_index[item.name] = len(names)
                names.append(item.name)
            k = name_index[item.name]
            supp_name[p, j] = k
            mask = 0
            for s, setting in enumerate(("inpatient", "outpatient")):
                if setting in item.settings:
                    mask |= 1 << s
                    order[s].append(k)
            supp_settings[p, j] = mask
            supp_threshold[p, j] = fen(item.threshold)
            supp_band_count[p, j] = len(item.bands)
            for b, sband in enumerate(item.bands):
                if sband.up_to is not None:
                    supp_up[p, j, b] = fen(sband.up_to)
                supp_rate[p, j, b] = numerator(sband.ratio, rate_places)
            if item.annual_cap is not None:
                supp_cap[p, j] = fen(item.annual_cap)
        if policy.assistance is not None:
            has_assistance[p] = True
            assistance_rate[p] = numerator(policy.assistance.ratio, rate_places)
            if policy.assistance.annual_cap is not None:
                assistance_cap[p] = fen(policy.assistance.annual_cap)
        if policy.account is not None:
            account_pays[p] = sum(_ACCOUNT_BITS.get(part, 0) for part in policy.account.pays)

    return PolicyArrays(
        names=names,
        exact=exact,
        has_rules=has_rules,
        ded_per_admission=ded_per_admission,
        ded_amount=ded_amount,
        ded_level=ded_level,
        ded_later=ded_later,
        per_claim_basis=per_claim_basis,
        cap=cap,
        band_count=band_count,
        band_up=band_up,
        band_rate=band_rate,
        rate_den=10**rate_places,
        extra=extra,
        extra_den=10**extra_places,
        home_benefits=home_benefits,
        supp_count=supp_count,
        supp_name=supp_name,
        supp_settings=supp_settings,
        supp_threshold=supp_threshold,
        supp_band_count=supp_band_count,
        supp_up=supp_up,
        supp_rate=supp_rate,
        supp_cap=supp_cap,
        has_assistance=has_assistance,
        assistance_rate=assistance_rate,
        assistance_cap=assistance_cap,
        account_pays=account_pays,
        by_name_order=by_name_order,
    )


def long_term_types() -> frozenset[str]:
    return LONG_TERM_FILINGS
