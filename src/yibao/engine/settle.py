"""Settle one claim: the whole computation of the settlement contract.

Each step below names its place in ``contract/settlement.md``. Amounts are ``Decimal``
yuan; ``round2`` is applied only where the contract says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from yibao.money import FEN, round2

from .models import (
    EXCLUDING_LIABILITIES,
    LONG_TERM_FILINGS,
    AccountRules,
    BandPart,
    Catalog,
    CatalogItem,
    Claim,
    Explanation,
    LineResult,
    Policy,
    SettingAccumulator,
    SettingRules,
    Settlement,
    SupplementaryAccumulator,
    SupplementaryPay,
    YearAccumulators,
)

ZERO = Decimal("0.00")
_NO_SUPPLEMENTARY = SupplementaryAccumulator()
_ONE = Decimal(1)


class UnknownCatalogCode(ValueError):
    """A claim line whose code is not in the treatment region's catalog (invalid input)."""

    def __init__(self, line_index: int, code: str, region: str) -> None:
        super().__init__(f"code {code!r} is not in the catalog of region {region}")
        self.line_index = line_index
        self.code = code
        self.region = region


# --- policy choice and off-site status --------------------------------------------------


class PolicyBook:
    """Policies indexed by (region, scheme, person type), so choosing one is a dict look-up."""

    __slots__ = ("_index", "policies")

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = tuple(policies)
        self._index: dict[tuple[str, str, str], list[Policy]] = {}
        for policy in self.policies:
            for person_type in policy.person_types:
                key = (policy.region, policy.scheme, person_type)
                self._index.setdefault(key, []).append(policy)

    def candidates(self, region: str, scheme: str, person_type: str) -> Sequence[Policy]:
        return self._index.get((region, scheme, person_type), ())


def choose_policy(
    claim: Claim, policies: Iterable[Policy] | PolicyBook
) -> tuple[Policy | None, str | None]:
    """The one policy of the person's region, scheme and type in force on the claim's date."""
    person = claim.person
    book = policies if isinstance(policies, PolicyBook) else PolicyBook(policies)
    day = claim.date
    matches = [
        p
        for p in book.candidates(person.insured_region, person.scheme, person.person_type)
        if p.effective_from <= day and (p.effective_to is None or day <= p.effective_to)
    ]
    if not matches:
        return None, (
            f"no policy for region {person.insured_region}, scheme {person.scheme}, "
            f"person type {person.person_type} on {claim.date.isoformat()}"
        )
    if len(matches) > 1:
        ids = ", ".join(sorted(p.id for p in matches))
        return None, f"several policies match ({ids}); the policy data is ambiguous"
    return matches[0], None


def offsite_status(claim: Claim) -> tuple[str, str]:
    """Step 1 of the claim: local, long_term, temporary or unfiled, and why."""
    insured = claim.person.insured_region
    treated = claim.institution.region
    if treated == insured:
        return "local", f"treated in {treated}, the insured region"
    filing = claim.filing
    where = f"treated in {treated}, insured in {insured}"
    if filing is not None:
        valid = filing.valid_on(claim.date)
        matches = filing.covers_region(treated)
        period = f"{filing.valid_from.isoformat()}..{_iso(filing.valid_to)}"
        if valid and matches:
            status = "long_term" if filing.type in LONG_TERM_FILINGS else "temporary"
            return status, (
                f"{where}; {filing.type} filing to {filing.destination} valid {period} "
                f"covers the date and the region"
            )
        why = (
            f"filing to {filing.destination} does not cover region {treated}"
            if valid
            else f"filing valid {period} does not cover {claim.date.isoformat()}"
        )
        if claim.emergency:
            return "temporary", f"{where}; {why}; emergency treatment counts as temporary"
        return "unfiled", f"{where}; {why}"
    if claim.emergency:
        return "temporary", f"{where}; no filing; emergency treatment counts as temporary"
    return "unfiled", f"{where}; no filing and no emergency"


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else "open"


# --- lines ------------------------------------------------------------------------------


def _not_eligible_reason(
    item: CatalogItem, setting: str, level: int, liability: str | None
) -> str | None:
    if liability in EXCLUDING_LIABILITIES:
        return f"liability {liability}: not paid by the fund (Social Insurance Law art. 30)"
    if item.item_class == "C":
        return "class C (self-pay)"
    if setting not in item.settings:
        return f"not covered in the {setting} setting"
    if item.min_level is not None and level < item.min_level:
        return f"needs a hospital of level {item.min_level} or above (this one is {level})"
    return None


def _settle_lines(
    claim: Claim, items: Sequence[CatalogItem], extra_ratio: Decimal
) -> tuple[tuple[LineResult, ...], Decimal, Decimal, Decimal, Decimal, Decimal]:
    """Steps 1-5 of the lines, and their sums: total, full, over-limit, pre-self-pay and
    in-scope. Written for speed: this loop is the engine's hot path."""
    level = claim.institution.level
    setting = claim.setting
    excluded = claim.liability in EXCLUDING_LIABILITIES
    quantize = Decimal.quantize
    results = []
    total = full = over_sum = pre_sum = scope = ZERO
    for line, item in zip(claim.lines, items, strict=True):
        quantity = line.quantity
        unit_price = line.unit_price
        amount = quantize(quantity * unit_price, FEN, ROUND_HALF_UP)  # step 1
        cls = item.item_class
        if (
            excluded
            or cls == "C"
            or setting not in item.settings
            or (item.min_level is not None and level < item.min_level)
        ):  # step 2
            result = LineResult(
                line.code,
                amount,
                amount,
                ZERO,
                ZERO,
                ZERO,
                item.name,
                cls,
                False,
                _not_eligible_reason(item, setting, level, claim.liability),
                item.price_ceiling,
                item.self_pay_ratio,
                ZERO,
                line.line_id,
            )
            results.append(result)
            total += amount
            full += amount
            continue
        ceiling = item.price_ceiling
        if ceiling is not None and unit_price > ceiling:  # step 3
            over = amount - quantize(quantity * ceiling, FEN, ROUND_HALF_UP)
            base = amount - over
        else:
            over = ZERO
            base = amount
        if cls == "B":  # step 4
            pre = quantize(base * item.self_pay_ratio, FEN, ROUND_HALF_UP)
            in_scope = base - pre
        else:
            pre = ZERO
            in_scope = base
        extra = ZERO
        if extra_ratio:  # step 5, pre_self_pay reduction mode only
            extra = quantize(in_scope * extra_ratio, FEN, ROUND_HALF_UP)
            pre += extra
            in_scope -= extra
        result = LineResult(
            line.code,
            amount,
            ZERO,
            over,
            pre,
            in_scope,
            item.name,
            cls,
            True,
            None,
            ceiling,
            item.self_pay_ratio,
            extra,
            line.line_id,
        )
        results.append(result)
        total += amount
        over_sum += over
        pre_sum += pre
        scope += in_scope
    return tuple(results), total, full, over_sum, pre_sum, scope


# --- bands --------------------------------------------------------------------------------


def _band_parts(
    start: Decimal, end: Decimal, ups: Sequence[Decimal | None], floor: Decimal
) -> list[tuple[Decimal, Decimal, int]]:
    """Split ``[start, end)`` over bands ending at ``ups`` (the first starts at ``floor``).

    Returns ``(low, high, band index)`` pieces; what lies past a bounded last band is in
    no band and so is not paid.
    """
    parts = []
    low = floor
    for index, up_to in enumerate(ups):
        seg_lo = start if start > low else low
        seg_hi = end if up_to is None or end < up_to else up_to
        if seg_hi > seg_lo:
            parts.append((seg_lo, seg_hi, index))
        if up_to is None or up_to >= end:
            break
        low = up_to
    return parts


def _reduced(ratio: Decimal, mode: str, reduction: Decimal) -> Decimal:
    if not reduction or mode == "pre_self_pay":
        return ratio
    if mode == "relative":
        return ratio * (_ONE - reduction)
    lowered = ratio - reduction
    return lowered if lowered > 0 else Decimal(0)


def _cap_left(cap: Decimal | None, used: Decimal) -> Decimal | None:
    if cap is None:
        return None
    left = cap - used
    return left if left > 0 else ZERO


# --- the claim ----------------------------------------------------------------------------


def _rejected(
    claim: Claim,
    accumulators: YearAccumulators,
    reason: str,
    *,
    status: str | None = None,
    policy_id: str | None = None,
    offsite_reason: str = "",
) -> Settlement:
    return Settlement(
        claim_id=claim.claim_id,
        status="rejected",
        reason=reason,
        offsite_status=status,
        policy_id=policy_id,
        setting=claim.setting,
        total=ZERO,
        full_self_pay=ZERO,
        over_limit_self_pay=ZERO,
        pre_self_pay=ZERO,
        in_scope=ZERO,
        deductible=ZERO,
        pool_fund_pay=ZERO,
        supplementary_pay=ZERO,
        assistance_pay=ZERO,
        fund_pay_total=ZERO,
        personal_burden=ZERO,
        account_pay=ZERO,
        cash_pay=ZERO,
        recoverable=ZERO,
        lines=(),
        accumulators=accumulators,
        explanation=Explanation(offsite_reason=offsite_reason, notes=(reason,)),
    )


def check_codes(claim: Claim, catalog: Catalog) -> list[CatalogItem]:
    """The catalog row of every line; :class:`UnknownCatalogCode` for the first unknown one."""
    region = claim.institution.region
    lookup = catalog.items.get
    items = []
    for index, line in enumerate(claim.lines):
        item = lookup((region, line.code))
        if item is None:
            raise UnknownCatalogCode(index, line.code, region)
        items.append(item)
    return items


def settle(
    claim: Claim,
    *,
    policies: Sequence[Policy] | PolicyBook,
    catalog: Catalog,
    accumulators: YearAccumulators | None = None,
) -> Settlement:
    """Settle ``claim`` against the person's year so far; pure, deterministic.

    ``accumulators`` is the person's state for the claim's calendar year (None: a fresh
    year). The result carries the state after the claim; a rejected claim leaves it as it
    was. An unknown catalog code raises :class:`UnknownCatalogCode` (invalid input).
    """
    year = claim.date.year
    if accumulators is None:
        accumulators = YearAccumulators(year=year)
    elif accumulators.year != year:
        raise ValueError(f"accumulators of {accumulators.year} given for a claim of {year}")
    items = check_codes(claim, catalog)

    policy, problem = choose_policy(claim, policies)
    status, status_reason = offsite_status(claim)
    if policy is None:
        assert problem is not None
        return _rejected(claim, accumulators, problem, status=status, offsite_reason=status_reason)
    rules = policy.rules(claim.setting)
    if rules is None:
        return _rejected(
            claim,
            accumulators,
            f"policy {policy.id} has no {claim.setting} rules",
            status=status,
            policy_id=policy.id,
            offsite_reason=status_reason,
        )
    filing = claim.filing
    if (
        status == "local"
        and filing is not None
        and filing.type in LONG_TERM_FILINGS
        and filing.valid_on(claim.date)
        and not policy.offsite.home_benefits_while_filed
    ):
        return _rejected(
            claim,
            accumulators,
            f"local treatment while a long-term {filing.type} filing to {filing.destination} "
            f"is valid; policy {policy.id} suspends home benefits while filed off-site",
            status=status,
            policy_id=policy.id,
            offsite_reason=status_reason,
        )
    return _settle_with(claim, policy, rules, items, accumulators, status, status_reason)


def _settle_with(
    claim: Claim,
    policy: Policy,
    rules: SettingRules,
    items: Sequence[CatalogItem],
    acc: YearAccumulators,
    status: str,
    status_reason: str,
) -> Settlement:
    offsite = policy.offsite
    reduction = ZERO if status == "local" else offsite.ratio_reduction.get(status, ZERO)
    mode = offsite.reduction_mode
    extra_ratio = reduction if mode == "pre_self_pay" and reduction > 0 else ZERO
    lines, total, full, over, pre, scope = _settle_lines(claim, items, extra_ratio)

    level = claim.institution.level
    setting_acc = acc.setting(claim.setting)
    excluded = claim.liability in EXCLUDING_LIABILITIES
    notes: list[str] = []

    # step 2: deductible
    ded_rule = rules.deductible
    if ded_rule.mode == "annual":
        due = ded_rule.amount - setting_acc.deductible_met
        if due < 0:
            due = ZERO
    else:
        due = ded_rule.by_level[level]
        if claim.setting == "inpatient" and setting_acc.admissions >= 1:
            due = round2(due * ded_rule.later_admissions_factor)
    deductible = scope if scope < due else due

    # step 3: bands and the pool fund
    position = setting_acc.in_scope_cum if rules.band_basis == "annual" else ZERO
    pieces = _band_parts(
        position + deductible, position + scope, [b.up_to for b in rules.bands], Decimal(0)
    )
    parts = tuple(
        BandPart(
            start=lo,
            end=hi,
            base_ratio=rules.bands[i].ratio[level],
            rate=_reduced(rules.bands[i].ratio[level], mode, reduction),
        )
        for lo, hi, i in pieces
    )
    pool_computed = round2(sum(((p.end - p.start) * p.rate for p in parts), ZERO))
    pool_left = _cap_left(rules.annual_cap, setting_acc.pool_paid_cum)
    pool = pool_computed if pool_left is None or pool_computed <= pool_left else pool_left
    pool_cap_reached = pool < pool_computed

    # step 4: supplementary, in order
    supp_paid = ZERO
    supp_details = []
    supp_acc = dict(acc.supplementary)
    supp_by_name: dict[str, Decimal] = {}
    for item in policy.supplementary:
        item_acc = supp_acc.get(item.name, _NO_SUPPLEMENTARY)
        if claim.setting not in item.settings:
            supp_acc[item.name] = item_acc
            continue
        base = scope - pool - supp_paid
        start = item_acc.base_cum
        supp_parts = tuple(
            BandPart(start=lo, end=hi, base_ratio=item.bands[i].ratio, rate=item.bands[i].ratio)
            for lo, hi, i in _band_parts(
                start, start + base, [b.up_to for b in item.bands], item.threshold
            )
        )
        computed = round2(sum(((p.end - p.start) * p.rate for p in supp_parts), ZERO))
        left = _cap_left(item.annual_cap, item_acc.paid_cum)
        pay = computed if left is None or computed <= left else left
        supp_paid += pay
        supp_by_name[item.name] = pay
        supp_acc[item.name] = SupplementaryAccumulator(
            base_cum=item_acc.base_cum + base, paid_cum=item_acc.paid_cum + pay
        )
        supp_details.append(
            SupplementaryPay(
                name=item.name,
                base=base,
                start=start,
                parts=supp_parts,
                computed=computed,
                paid=pay,
                cap_reached=pay < computed,
            )
        )

    # step 5: assistance
    assistance = ZERO
    assistance_computed = ZERO
    assistance_rule = policy.assistance
    if claim.person.assistance_eligible and assistance_rule is not None:
        left_share = scope - pool - supp_paid
        assistance_computed = round2(left_share * assistance_rule.ratio)
        a_left = _cap_left(assistance_rule.annual_cap, acc.assistance_paid_cum)
        assistance = (
            assistance_computed if a_left is None or assistance_computed <= a_left else a_left
        )
    elif claim.person.assistance_eligible:
        notes.append(f"policy {policy.id} has no medical assistance")

    # steps 6-7: funds, the person, the account
    fund_total = pool + supp_paid + assistance
    burden = total - fund_total
    account_eligible = _account_eligible(
        policy.account, claim.person.scheme, scope - fund_total, pre, over, full
    )
    balance = claim.person.account_balance
    if balance < 0:
        balance = ZERO
    account_pay = account_eligible if account_eligible <= balance else balance
    cash = burden - account_pay

    recoverable = fund_total if claim.liability == "third_party_unresolved" else ZERO
    if excluded:
        notes.append(f"liability {claim.liability}: every line is outside the fund")
    if recoverable:
        notes.append("third party unresolved: the fund pays in advance and may recover it")

    new_setting = SettingAccumulator(
        in_scope_cum=setting_acc.in_scope_cum + scope,
        deductible_met=setting_acc.deductible_met + deductible,
        pool_paid_cum=setting_acc.pool_paid_cum + pool,
        admissions=setting_acc.admissions
        + (1 if claim.setting == "inpatient" and not excluded else 0),
    )
    new_acc = YearAccumulators(
        year=acc.year,
        inpatient=new_setting if claim.setting == "inpatient" else acc.inpatient,
        outpatient=new_setting if claim.setting == "outpatient" else acc.outpatient,
        supplementary=supp_acc,
        assistance_paid_cum=acc.assistance_paid_cum + assistance,
    )
    explanation = Explanation(
        offsite_reason=status_reason,
        deductible_due=due,
        deductible_met_before=setting_acc.deductible_met,
        position_start=position,
        parts=parts,
        pool_computed=pool_computed,
        pool_cap_left=pool_left,
        pool_cap_reached=pool_cap_reached,
        supplementary=tuple(supp_details),
        assistance_computed=assistance_computed,
        assistance_cap_reached=assistance < assistance_computed,
        account_eligible=account_eligible,
        reduction=reduction,
        reduction_mode=mode,
        notes=tuple(notes),
    )
    return Settlement(
        claim_id=claim.claim_id,
        status="settled",
        reason=None,
        offsite_status=status,
        policy_id=policy.id,
        setting=claim.setting,
        total=total,
        full_self_pay=full,
        over_limit_self_pay=over,
        pre_self_pay=pre,
        in_scope=scope,
        deductible=deductible,
        pool_fund_pay=pool,
        supplementary_pay=supp_paid,
        assistance_pay=assistance,
        fund_pay_total=fund_total,
        personal_burden=burden,
        account_pay=account_pay,
        cash_pay=cash,
        recoverable=recoverable,
        lines=lines,
        accumulators=new_acc,
        explanation=explanation,
        supplementary_by_name=supp_by_name,
    )


def _account_eligible(
    rules: AccountRules | None,
    scheme: str,
    in_scope_personal: Decimal,
    pre: Decimal,
    over: Decimal,
    full: Decimal,
) -> Decimal:
    """Step 7: the personal parts the policy lets the personal account (个人账户) pay."""
    if rules is None or scheme == "resident":
        return ZERO
    pays = rules.pays
    eligible = ZERO
    if "in_scope_personal" in pays:
        eligible += in_scope_personal
    if "pre_self_pay" in pays:
        eligible += pre
    if "over_limit_self_pay" in pays:
        eligible += over
    if "full_self_pay" in pays:
        eligible += full
    return eligible


def settle_run(
    claims: Iterable[Claim], *, policies: Sequence[Policy] | PolicyBook, catalog: Catalog
) -> list[Settlement]:
    """Settle claims in order, carrying each person's accumulators per calendar year.

    A person's ``year_to_date`` is the starting state the first time the run meets that
    person in that year.
    """
    state: dict[tuple[str, int], YearAccumulators] = {}
    book = policies if isinstance(policies, PolicyBook) else PolicyBook(policies)
    results = []
    for claim in claims:
        year = claim.date.year
        key = (claim.person.id, year)
        acc = state.get(key)
        if acc is None:
            ytd = claim.person.year_to_date
            acc = replace(ytd, year=year) if ytd is not None else YearAccumulators(year=year)
        result = settle(claim, policies=book, catalog=catalog, accumulators=acc)
        state[key] = result.accumulators
        results.append(result)
    return results
