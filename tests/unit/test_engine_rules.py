"""One test per rule of contract/settlement.md, with figures computed by hand.

The same figures appear as worked examples in docs/settlement.md.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.unit.enginekit import (
    BAODING,
    BJ,
    SANYA,
    AccountRules,
    Assistance,
    D,
    Deductible,
    OffsiteRules,
    Supplementary,
    SupplementaryBand,
    catalog,
    claim,
    filing,
    hospital,
    item,
    line,
    person,
    policy,
    rules,
)
from yibao.engine import UnknownCatalogCode, settle, settle_run
from yibao.engine.models import SettingAccumulator, YearAccumulators

FLAT = rules(bands=[(None, "1")])  # no deductible, pays all in scope: isolates line rules


def one_line(it, ln, **kw):
    pol = policy(inpatient=FLAT, outpatient=FLAT, **kw.pop("policy_kw", {}))
    return settle(claim(ln, **kw), policies=[pol], catalog=catalog(it))


# --- lines ----------------------------------------------------------------------------------


def test_line_amount_rounds_half_up_to_a_fen() -> None:
    # 3 × 0.335 = 1.005 → 1.01 (half up, not banker's 1.00)
    r = one_line(item("A1"), line("A1", "3", "0.335"))
    assert r.lines[0].amount == D("1.01")
    # 1.5 × 2.333 = 3.4995 → 3.50
    r = one_line(item("A1"), line("A1", "1.5", "2.333"))
    assert r.lines[0].amount == D("3.50")


@pytest.mark.parametrize(
    ("it", "setting", "level"),
    [
        (item("C1", "C"), "inpatient", 3),  # class C is self-pay
        (item("O1", settings=frozenset({"outpatient"})), "inpatient", 3),  # wrong setting
        (item("L3", min_level=3), "inpatient", 2),  # below the minimum level
    ],
)
def test_not_eligible_line_is_full_self_pay(it, setting, level) -> None:
    r = one_line(it, line(it.code, 2, "50"), setting=setting, institution=hospital(BJ, level))
    ln = r.lines[0]
    assert (ln.amount, ln.full_self_pay, ln.in_scope, ln.pre_self_pay) == (
        D("100.00"),
        D("100.00"),
        D(0),
        D(0),
    )
    assert r.pool_fund_pay == D(0)
    assert ln.not_eligible_reason


def test_min_level_met_is_eligible() -> None:
    r = one_line(item("L3", min_level=3), line("L3", 1, "80"), institution=hospital(BJ, 3))
    assert r.lines[0].in_scope == D("80.00")


def test_price_ceiling_moves_the_excess_to_over_limit() -> None:
    # 2 × 120 = 240; ceiling 100 → 2 × 100 = 200 in base, 40 over the limit
    r = one_line(item("M1", price_ceiling=D(100)), line("M1", 2, "120"))
    ln = r.lines[0]
    assert (ln.amount, ln.over_limit_self_pay, ln.in_scope) == (
        D("240.00"),
        D("40.00"),
        D("200.00"),
    )


def test_price_below_ceiling_has_no_over_limit() -> None:
    r = one_line(item("M1", price_ceiling=D(100)), line("M1", 2, "80"))
    assert r.lines[0].over_limit_self_pay == D(0)


def test_class_b_pre_self_pay_after_the_ceiling() -> None:
    # 2 × 120 = 240, ceiling 100 → base 200; B 15% → 30.00 pre-self-pay, 170.00 in scope
    it = item("B1", "B", self_pay_ratio=D("0.15"), price_ceiling=D(100))
    ln = one_line(it, line("B1", 2, "120")).lines[0]
    assert (ln.over_limit_self_pay, ln.pre_self_pay, ln.in_scope) == (D(40), D(30), D(170))


def test_class_b_pre_self_pay_rounds() -> None:
    # base 33.33 × 10% = 3.333 → 3.33; in scope 30.00
    ln = one_line(item("B1", "B", self_pay_ratio=D("0.10")), line("B1", 1, "33.33")).lines[0]
    assert (ln.pre_self_pay, ln.in_scope) == (D("3.33"), D("30.00"))


def test_pre_self_pay_reduction_mode_moves_a_share_of_in_scope() -> None:
    # unfiled (r = 0.20) in pre_self_pay mode: in scope 170 → extra 34.00 → 136.00
    it = item("B1", "B", self_pay_ratio=D("0.15"), price_ceiling=D(100), region=SANYA)
    off = OffsiteRules(ratio_reduction={"unfiled": D("0.20")}, reduction_mode="pre_self_pay")
    r = one_line(it, line("B1", 2, "120"), institution=hospital(SANYA), policy_kw={"offsite": off})
    ln = r.lines[0]
    assert r.offsite_status == "unfiled"
    assert (ln.pre_self_pay, ln.in_scope) == (D("64.00"), D("136.00"))
    assert r.pool_fund_pay == D("136.00")  # ratios untouched in this mode


def test_unknown_code_is_invalid_input() -> None:
    with pytest.raises(UnknownCatalogCode) as err:
        settle(claim(line("NOPE", 1, 1)), policies=[policy()], catalog=catalog(item("A1")))
    assert err.value.code == "NOPE" and err.value.line_index == 0


def test_treatment_region_catalog_decides_the_class() -> None:
    # the same code is A in Sanya and C in Beijing: the treatment place's catalog decides
    cat = catalog(item("X", "C", region=BJ), item("X", "A", region=SANYA))
    pol = policy(inpatient=FLAT)
    c = claim(line("X", 1, 100), institution=hospital(SANYA), filing=filing())
    r = settle(c, policies=[pol], catalog=cat)
    assert r.in_scope == D(100)


# --- off-site status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"institution": hospital(BJ)}, "local"),
        (
            {"institution": hospital(SANYA), "filing": filing("resettled_retiree", SANYA)},
            "long_term",
        ),
        (
            {"institution": hospital(SANYA), "filing": filing("posted_worker", "460000")},
            "long_term",
        ),
        ({"institution": hospital(SANYA), "filing": filing("referral", SANYA)}, "temporary"),
        ({"institution": hospital(SANYA), "emergency": True}, "temporary"),
        ({"institution": hospital(SANYA)}, "unfiled"),
        # filing for another region, or expired: unfiled
        ({"institution": hospital(SANYA), "filing": filing("referral", BAODING)}, "unfiled"),
        (
            {
                "institution": hospital(SANYA),
                "filing": filing(valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31)),
            },
            "unfiled",
        ),
        # province code 130000 does not match Hainan's 460200
        ({"institution": hospital(SANYA), "filing": filing("referral", "130000")}, "unfiled"),
    ],
)
def test_offsite_status(kw, status) -> None:
    cat = catalog(item("A1"), item("A1", region=SANYA))
    r = settle(claim(line("A1", 1, 10), **kw), policies=[policy()], catalog=cat)
    assert r.offsite_status == status


def test_local_claim_while_long_term_filed_is_rejected_when_home_benefits_are_off() -> None:
    pol = policy(offsite=OffsiteRules(home_benefits_while_filed=False))
    before = YearAccumulators(2026)
    r = settle(
        claim(line("A1", 1, 10), filing=filing()),
        policies=[pol],
        catalog=catalog(item("A1")),
        accumulators=before,
    )
    assert r.status == "rejected" and "suspends home benefits" in (r.reason or "")
    assert r.accumulators == before and r.total == D(0) and r.lines == ()


def test_local_claim_while_filed_is_allowed_by_default() -> None:
    r = settle(
        claim(line("A1", 1, 10), filing=filing()), policies=[policy()], catalog=catalog(item("A1"))
    )
    assert r.status == "settled" and r.offsite_status == "local"


def test_local_claim_with_temporary_filing_is_never_rejected() -> None:
    pol = policy(offsite=OffsiteRules(home_benefits_while_filed=False))
    c = claim(line("A1", 1, 10), filing=filing("referral"))
    assert settle(c, policies=[pol], catalog=catalog(item("A1"))).status == "settled"


# --- policy choice --------------------------------------------------------------------------


def test_no_matching_policy_rejects() -> None:
    r = settle(
        claim(line("A1", 1, 10), person=person(person_type="retired")),
        policies=[policy()],
        catalog=catalog(item("A1")),
    )
    assert r.status == "rejected" and "no policy" in (r.reason or "")


def test_several_matching_policies_reject() -> None:
    r = settle(
        claim(line("A1", 1, 10)),
        policies=[policy(id="a"), policy(id="b")],
        catalog=catalog(item("A1")),
    )
    assert r.status == "rejected" and "a, b" in (r.reason or "")


def test_policy_period_decides() -> None:
    old = policy(id="2025", effective_from=date(2025, 1, 1), effective_to=date(2025, 12, 31))
    r = settle(
        claim(line("A1", 1, 10)), policies=[old, policy(id="2026")], catalog=catalog(item("A1"))
    )
    assert r.policy_id == "2026"


# --- deductible, bands, cap -----------------------------------------------------------------


def _beijing_case() -> tuple:
    cat = catalog(item("A", "A"), item("B", "B", self_pay_ratio=D("0.10")), item("C", "C"))
    c = claim(line("A", 1, "35000"), line("B", 1, "10000"), line("C", 1, "5000"))
    return cat, c


def test_beijing_first_admission_level_3() -> None:
    # in scope 35,000 + 9,000 = 44,000; deductible 1,300;
    # (30,000 − 1,300) × 85% + 10,000 × 90% + 4,000 × 95% = 24,395 + 9,000 + 3,800 = 37,195
    cat, c = _beijing_case()
    r = settle(c, policies=[policy()], catalog=cat)
    assert (r.total, r.full_self_pay, r.pre_self_pay, r.in_scope) == (
        D("50000.00"),
        D("5000.00"),
        D("1000.00"),
        D("44000.00"),
    )
    assert (r.deductible, r.pool_fund_pay, r.personal_burden) == (
        D("1300.00"),
        D("37195.00"),
        D("12805.00"),
    )
    assert r.accumulators.inpatient == SettingAccumulator(D(44000), D(1300), D(37195), 1)


def test_second_admission_pays_the_reduced_deductible_and_continues_on_the_axis() -> None:
    # 2nd admission: 650 deductible; axis from 44,000: 10,000 in scope → [44,650, 54,000) at 95%
    cat, c = _beijing_case()
    second = claim(line("A", 1, "10000"), claim_id="c2", date=date(2026, 8, 1))
    _first, r = settle_run([c, second], policies=[policy()], catalog=cat)
    assert r.deductible == D("650.00")
    assert r.pool_fund_pay == D("8882.50")  # 9,350 × 95%
    assert r.accumulators.inpatient.admissions == 2


def test_later_admission_factor_is_rounded() -> None:
    ded = Deductible(
        mode="per_admission",
        by_level={1: D(1000), 2: D(1000), 3: D(1000)},
        later_admissions_factor=D("0.3333"),
    )
    pol = policy(inpatient=rules(deductible=ded, bands=[(None, "0.5")]))
    acc = YearAccumulators(2026, inpatient=SettingAccumulator(admissions=1))
    r = settle(
        claim(line("A1", 1, 5000)), policies=[pol], catalog=catalog(item("A1")), accumulators=acc
    )
    assert r.deductible == D("333.30")


def test_annual_deductible_counts_what_was_met_before() -> None:
    pol = policy(
        outpatient=rules(
            deductible=Deductible(mode="annual", amount=D(1800)), bands=[(None, "0.7")]
        )
    )
    acc = YearAccumulators(2026, outpatient=SettingAccumulator(D(1500), D(1500), D(0), 0))
    r = settle(
        claim(line("A1", 1, 1000), setting="outpatient"),
        policies=[pol],
        catalog=catalog(item("A1")),
        accumulators=acc,
    )
    # due 300; 700 × 70% = 490
    assert (r.deductible, r.pool_fund_pay) == (D("300.00"), D("490.00"))
    assert r.accumulators.outpatient.deductible_met == D(1800)


def test_deductible_never_exceeds_the_claim() -> None:
    r = settle(claim(line("A1", 1, 200)), policies=[policy()], catalog=catalog(item("A1")))
    assert (r.deductible, r.pool_fund_pay) == (D("200.00"), D(0))


def test_points_reduction_lowers_ratios_by_percentage_points() -> None:
    # temporary −10 points: 10,000 in scope at level 3, deductible 1,300 → 8,700 × 75% = 6,525
    off = OffsiteRules(ratio_reduction={"temporary": D("0.10")}, reduction_mode="points")
    cat = catalog(item("A1", region=SANYA))
    c = claim(line("A1", 1, 10000), institution=hospital(SANYA), filing=filing("referral"))
    r = settle(c, policies=[policy(offsite=off)], catalog=cat)
    assert r.pool_fund_pay == D("6525.00")


def test_points_reduction_never_goes_below_zero() -> None:
    off = OffsiteRules(ratio_reduction={"unfiled": D("0.9")})
    pol = policy(offsite=off, inpatient=rules(bands=[(None, "0.5")]))
    c = claim(line("A1", 1, 100), institution=hospital(SANYA))
    r = settle(c, policies=[pol], catalog=catalog(item("A1", region=SANYA)))
    assert r.pool_fund_pay == D(0)


def test_relative_reduction_multiplies_ratios() -> None:
    # unfiled 20% relative: 85% × 0.8 = 68% → 8,700 × 68% = 5,916
    off = OffsiteRules(ratio_reduction={"unfiled": D("0.20")}, reduction_mode="relative")
    c = claim(line("A1", 1, 10000), institution=hospital(SANYA))
    r = settle(c, policies=[policy(offsite=off)], catalog=catalog(item("A1", region=SANYA)))
    assert r.pool_fund_pay == D("5916.00")


def test_no_reduction_when_local_or_long_term_by_default() -> None:
    off = OffsiteRules(ratio_reduction={"temporary": D("0.10"), "unfiled": D("0.2")})
    c = claim(line("A1", 1, 10000), institution=hospital(SANYA), filing=filing())
    r = settle(c, policies=[policy(offsite=off)], catalog=catalog(item("A1", region=SANYA)))
    assert r.offsite_status == "long_term" and r.pool_fund_pay == D("7395.00")  # 8,700 × 85%


def test_pool_fund_rounds_the_sum_of_parts_once() -> None:
    # three parts of 0.01 at 50% = 0.015 → 0.02 (rounding each part would give 0.03)
    pol = policy(inpatient=rules(bands=[("0.01", "0.5"), ("0.02", "0.5"), (None, "0.5")]))
    r = settle(claim(line("A1", 1, "0.03")), policies=[pol], catalog=catalog(item("A1")))
    assert r.pool_fund_pay == D("0.02")


def test_annual_cap_limits_the_pool_fund() -> None:
    pol = policy(inpatient=rules(bands=[(None, "0.9")], cap="500000"))
    acc = YearAccumulators(2026, inpatient=SettingAccumulator(D(600000), D(0), D("499000"), 1))
    r = settle(
        claim(line("A1", 1, 10000)), policies=[pol], catalog=catalog(item("A1")), accumulators=acc
    )
    assert r.pool_fund_pay == D("1000.00")  # computed 9,000 but only 1,000 left under the cap
    assert r.explanation and r.explanation.pool_cap_reached
    assert r.accumulators.inpatient.pool_paid_cum == D(500000)


def test_per_claim_band_basis_starts_each_claim_at_zero() -> None:
    pol = policy(inpatient=rules(bands=[("1000", "0.5"), (None, "0.8")], basis="per_claim"))
    acc = YearAccumulators(2026, inpatient=SettingAccumulator(D(50000), D(0), D(0), 1))
    r = settle(
        claim(line("A1", 1, 2000)), policies=[pol], catalog=catalog(item("A1")), accumulators=acc
    )
    assert r.pool_fund_pay == D("1300.00")  # 1,000 × 50% + 1,000 × 80%
    assert r.accumulators.inpatient.in_scope_cum == D(52000)  # the year still accumulates


def test_annual_band_basis_uses_the_year_position() -> None:
    pol = policy(inpatient=rules(bands=[("1000", "0.5"), (None, "0.8")]))
    acc = YearAccumulators(2026, inpatient=SettingAccumulator(D(500), D(0), D(0), 1))
    r = settle(
        claim(line("A1", 1, 1000)), policies=[pol], catalog=catalog(item("A1")), accumulators=acc
    )
    assert r.pool_fund_pay == D("650.00")  # 500 × 50% + 500 × 80%


def test_bounded_last_band_pays_nothing_beyond_it() -> None:
    pol = policy(inpatient=rules(bands=[("1000", "0.5")]))
    r = settle(claim(line("A1", 1, 3000)), policies=[pol], catalog=catalog(item("A1")))
    assert r.pool_fund_pay == D("500.00")


# --- supplementary, assistance, account -----------------------------------------------------


def _large_amount(**kw) -> Supplementary:
    base = dict(
        name="large_amount",
        settings=frozenset({"inpatient", "outpatient"}),
        threshold=D(0),
        bands=(SupplementaryBand(None, D("0.85")),),
        annual_cap=None,
    )
    base.update(kw)
    return Supplementary(**base)


def test_supplementary_pays_on_the_personal_in_scope_share() -> None:
    # Beijing case: personal in-scope share 44,000 − 37,195 = 6,805 → 85% = 5,784.25
    cat, c = _beijing_case()
    r = settle(c, policies=[policy(supplementary=(_large_amount(),))], catalog=cat)
    assert r.supplementary_pay == D("5784.25")
    assert r.fund_pay_total == D("42979.25")
    assert r.accumulators.supplementary["large_amount"].base_cum == D(6805)


def test_supplementary_threshold_and_bands_on_its_own_axis() -> None:
    # base 6,805 on an axis already at 10,000; threshold 15,000; bands 50% to 20,000, 60% above
    # [10,000, 16,805): only [15,000, 16,805) is paid: 1,805 × 50% = 902.50
    supp = _large_amount(
        threshold=D(15000),
        bands=(SupplementaryBand(D(20000), D("0.5")), SupplementaryBand(None, D("0.6"))),
    )
    cat, c = _beijing_case()
    from yibao.engine.models import SupplementaryAccumulator

    acc = YearAccumulators(
        2026, supplementary={"large_amount": SupplementaryAccumulator(D(10000), D(0))}
    )
    r = settle(c, policies=[policy(supplementary=(supp,))], catalog=cat, accumulators=acc)
    assert r.supplementary_pay == D("902.50")


def test_supplementary_cap_and_order() -> None:
    first = _large_amount(name="first", annual_cap=D(100))
    second = _large_amount(name="second", bands=(SupplementaryBand(None, D("0.5")),))
    cat, c = _beijing_case()
    r = settle(c, policies=[policy(supplementary=(first, second))], catalog=cat)
    # first capped at 100; second on 6,805 − 100 = 6,705 × 50% = 3,352.50
    assert r.supplementary_by_name == {"first": D(100), "second": D("3352.50")}
    assert r.supplementary_pay == D("3452.50")


def test_supplementary_only_for_its_settings() -> None:
    supp = _large_amount(settings=frozenset({"outpatient"}))
    cat, c = _beijing_case()
    r = settle(c, policies=[policy(supplementary=(supp,))], catalog=cat)
    assert r.supplementary_pay == D(0)


def test_supplementary_ignores_offsite_reduction() -> None:
    off = OffsiteRules(ratio_reduction={"unfiled": D("0.20")})
    pol = policy(
        offsite=off, inpatient=rules(bands=[(None, "0.5")]), supplementary=(_large_amount(),)
    )
    c = claim(line("A1", 1, 1000), institution=hospital(SANYA))
    r = settle(c, policies=[pol], catalog=catalog(item("A1", region=SANYA)))
    # pool 1,000 × 30% = 300; supplementary (1,000 − 300) × 85% = 595
    assert (r.pool_fund_pay, r.supplementary_pay) == (D(300), D(595))


def test_assistance_for_eligible_persons_only() -> None:
    pol = policy(inpatient=rules(bands=[(None, "0.5")]), assistance=Assistance(D("0.7"), D(60000)))
    c = claim(line("A1", 1, 1000), person=person(assistance_eligible=True))
    r = settle(c, policies=[pol], catalog=catalog(item("A1")))
    assert r.assistance_pay == D("350.00")  # (1,000 − 500) × 70%
    r2 = settle(replace(c, person=person()), policies=[pol], catalog=catalog(item("A1")))
    assert r2.assistance_pay == D(0)


def test_assistance_cap() -> None:
    pol = policy(inpatient=rules(bands=[(None, "0.5")]), assistance=Assistance(D("0.7"), D(60000)))
    acc = YearAccumulators(2026, assistance_paid_cum=D("59900"))
    c = claim(line("A1", 1, 1000), person=person(assistance_eligible=True))
    r = settle(c, policies=[pol], catalog=catalog(item("A1")), accumulators=acc)
    assert r.assistance_pay == D(100) and r.accumulators.assistance_paid_cum == D(60000)


def test_account_pays_the_listed_parts_up_to_the_balance() -> None:
    # Beijing case: personal burden 12,805 = in-scope personal 6,805 + pre 1,000 + full 5,000
    cat, c = _beijing_case()
    acct = AccountRules(pays=frozenset({"in_scope_personal", "pre_self_pay"}))
    rich = replace(c, person=person(account_balance=D(100000)))
    r = settle(rich, policies=[policy(account=acct)], catalog=cat)
    assert (r.account_pay, r.cash_pay) == (D("7805.00"), D("5000.00"))
    poor = replace(c, person=person(account_balance=D("3000.50")))
    r = settle(poor, policies=[policy(account=acct)], catalog=cat)
    assert (r.account_pay, r.cash_pay) == (D("3000.50"), D("9804.50"))


def test_no_account_key_or_resident_scheme_means_no_account() -> None:
    cat, c = _beijing_case()
    rich = replace(c, person=person(account_balance=D(100000)))
    assert settle(rich, policies=[policy()], catalog=cat).account_pay == D(0)
    acct = AccountRules(pays=frozenset({"full_self_pay"}))
    resident = replace(c, person=person(scheme="resident", account_balance=D(100000)))
    r = settle(resident, policies=[policy(scheme="resident", account=acct)], catalog=cat)
    assert r.account_pay == D(0)


# --- liability ------------------------------------------------------------------------------


@pytest.mark.parametrize("liability", ["work_injury", "third_party", "public_health", "abroad"])
def test_excluding_liability_makes_every_line_self_pay(liability) -> None:
    cat, c = _beijing_case()
    r = settle(replace(c, liability=liability), policies=[policy()], catalog=cat)
    assert r.status == "settled"
    assert (r.full_self_pay, r.in_scope, r.fund_pay_total) == (D(50000), D(0), D(0))
    assert r.accumulators.inpatient.admissions == 0  # excluded admissions are not counted


def test_third_party_unresolved_is_paid_in_advance_and_recoverable() -> None:
    cat, c = _beijing_case()
    r = settle(replace(c, liability="third_party_unresolved"), policies=[policy()], catalog=cat)
    assert r.pool_fund_pay == D("37195.00") and r.recoverable == D("37195.00")


# --- accumulators across a run --------------------------------------------------------------


def test_accumulators_reset_at_the_year_boundary() -> None:
    cat, c = _beijing_case()
    pol27 = policy(id="2027", effective_from=date(2027, 1, 1), effective_to=date(2027, 12, 31))
    late = replace(c, date=date(2026, 12, 30))
    early = replace(c, claim_id="c2", date=date(2027, 1, 3))
    a, b = settle_run([late, early], policies=[policy(), pol27], catalog=cat)
    assert (a.accumulators.year, b.accumulators.year) == (2026, 2027)
    assert b.deductible == D(1300) and b.pool_fund_pay == a.pool_fund_pay
    assert b.accumulators.inpatient.admissions == 1


def test_year_to_date_is_the_starting_state_once() -> None:
    cat, c = _beijing_case()
    ytd = YearAccumulators(0, inpatient=SettingAccumulator(D(44000), D(1300), D(37195), 1))
    p = person(year_to_date=ytd)
    first = replace(c, person=p, lines=(line("A", 1, "10000"),))
    second = replace(first, claim_id="c2")
    a, b = settle_run([first, second], policies=[policy()], catalog=cat)
    assert a.deductible == D(650) and a.pool_fund_pay == D("8882.50")
    assert b.accumulators.inpatient.admissions == 3  # year_to_date not applied twice
    assert b.accumulators.inpatient.in_scope_cum == D(64000)


def test_rejected_claim_changes_no_accumulator() -> None:
    cat, c = _beijing_case()
    other = replace(c, claim_id="x", person=replace(c.person, person_type="retired"))
    a, rejected, b = settle_run(
        [c, other, replace(c, claim_id="c3")], policies=[policy()], catalog=cat
    )
    assert rejected.status == "rejected"
    assert b.accumulators.inpatient.admissions == 2
    assert rejected.accumulators == a.accumulators  # the year as the first claim left it
