"""A fixed, seeded suite of 100,000 generated claims: the columnar engine and
``settle_run`` agree on every field of every result.

Eight generated "worlds", each with its own policies (a change of policy within the year,
every option of the contract drawn at random), catalogs of two regions and 12,500 claims
of 600 persons over 2026 and the start of 2027 (about 20 claims a person: deductibles met,
bands crossed, caps reached mid-claim), some with year-to-date starting states.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from yibao.engine import result_to_dict, settle_run
from yibao.engine.columnar import claims_to_tables, results_to_dicts
from yibao.engine.columnar_fast import settle_fast
from yibao.engine.models import (
    AccountRules,
    Assistance,
    Band,
    Catalog,
    CatalogItem,
    Claim,
    ClaimLine,
    Deductible,
    FilingInfo,
    InstitutionInfo,
    OffsiteRules,
    PersonInfo,
    Policy,
    SettingAccumulator,
    SettingRules,
    Supplementary,
    SupplementaryAccumulator,
    SupplementaryBand,
    YearAccumulators,
)

HOME, AWAY, OTHER = "110000", "460200", "130600"
WORLDS, CLAIMS_PER_WORLD, PERSONS_PER_WORLD = 8, 12_500, 600
CODES = [f"X{n:02d}" for n in range(30)]


def _money(rng: random.Random, high: int) -> Decimal:
    return Decimal(rng.randint(0, high * 100)) / 100


def _ratio(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(0, 100)) / 100


def _rules(rng: random.Random) -> SettingRules:
    if rng.random() < 0.5:
        deductible = Deductible(mode="annual", amount=_money(rng, 2000))
    else:
        deductible = Deductible(
            mode="per_admission",
            by_level={lvl: _money(rng, 1500) for lvl in (1, 2, 3)},
            later_admissions_factor=_ratio(rng),
        )
    ups = sorted({rng.randint(1, 60) * 1000 for _ in range(rng.randint(0, 3))})
    bounds: list[Decimal | None] = [Decimal(u) for u in ups]
    if rng.random() < 0.8 or not bounds:
        bounds.append(None)
    return SettingRules(
        deductible=deductible,
        bands=tuple(Band(u, {lvl: _ratio(rng) for lvl in (1, 2, 3)}) for u in bounds),
        band_basis=rng.choice(["annual", "annual", "per_claim"]),
        annual_cap=rng.choice([None, _money(rng, 80_000), _money(rng, 5_000)]),
    )


def _policy(rng: random.Random, pid: str, start: date, end: date | None) -> Policy:
    supplementary = []
    for n in range(rng.randint(0, 3)):
        threshold = Decimal(rng.randint(0, 20_000))
        bands = [SupplementaryBand(None, _ratio(rng))]
        if rng.random() < 0.5:
            bands = [
                SupplementaryBand(threshold + rng.randint(1, 40_000), _ratio(rng)),
                SupplementaryBand(None, _ratio(rng)),
            ]
        supplementary.append(
            Supplementary(
                name=rng.choice(["large", "serious", "extra"]) + str(n),
                settings=frozenset(
                    rng.choice([["inpatient"], ["outpatient"], ["inpatient", "outpatient"]])
                ),
                threshold=threshold,
                bands=tuple(bands),
                annual_cap=rng.choice([None, _money(rng, 50_000), _money(rng, 3_000)]),
            )
        )
    parts = ["in_scope_personal", "pre_self_pay", "over_limit_self_pay", "full_self_pay"]
    return Policy(
        id=pid,
        region=HOME,
        scheme=rng.choice(["employee", "employee", "resident"]),
        person_types=frozenset({"t", "u"}),
        effective_from=start,
        effective_to=end,
        inpatient=_rules(rng),
        outpatient=_rules(rng) if rng.random() < 0.9 else None,
        offsite=OffsiteRules(
            ratio_reduction={
                s: _ratio(rng) / 2
                for s in ("long_term", "temporary", "unfiled")
                if rng.random() < 0.8
            },
            reduction_mode=rng.choice(["points", "relative", "pre_self_pay"]),
            home_benefits_while_filed=rng.random() < 0.7,
        ),
        supplementary=tuple(supplementary),
        assistance=(
            Assistance(_ratio(rng), rng.choice([None, _money(rng, 5_000)]))
            if rng.random() < 0.7
            else None
        ),
        account=(
            AccountRules(frozenset(rng.sample(parts, rng.randint(0, 4))))
            if rng.random() < 0.8
            else None
        ),
    )


def _catalog(rng: random.Random) -> Catalog:
    items = []
    for region in (HOME, AWAY, OTHER):
        for code in CODES:
            cls = rng.choice("AAABBC")
            items.append(
                CatalogItem(
                    region=region,
                    code=code,
                    name=code,
                    kind="drug",
                    item_class=cls,
                    self_pay_ratio=_ratio(rng) if cls == "B" else Decimal(0),
                    price_ceiling=rng.choice([None, None, _money(rng, 800)]),
                    settings=frozenset(
                        rng.choice([["inpatient", "outpatient"], ["inpatient"], ["outpatient"]])
                    ),
                    min_level=rng.choice([None, None, 2, 3]),
                )
            )
    return Catalog.of(items)


def _ytd(rng: random.Random) -> YearAccumulators:
    def part() -> SettingAccumulator:
        return SettingAccumulator(
            _money(rng, 30_000), _money(rng, 1_000), _money(rng, 20_000), rng.randint(0, 3)
        )

    return YearAccumulators(
        year=2026,
        inpatient=part(),
        outpatient=part(),
        supplementary={
            name: SupplementaryAccumulator(_money(rng, 20_000), _money(rng, 5_000))
            for name in rng.sample(["large0", "serious1", "gone"], rng.randint(0, 2))
        },
        assistance_paid_cum=_money(rng, 3_000),
    )


def _world(seed: int) -> tuple[list[Policy], Catalog, list[Claim]]:
    rng = random.Random(seed)
    change = date(2026, rng.randint(2, 11), rng.randint(1, 28))
    before = _policy(rng, f"w{seed}-a", date(2026, 1, 1), change - timedelta(days=1))
    after = _policy(rng, f"w{seed}-b", change, None)
    policies = [before, replace(after, scheme=before.scheme)]
    catalog = _catalog(rng)
    persons = []
    for k in range(PERSONS_PER_WORLD):
        filing = None
        if rng.random() < 0.4:
            filing = FilingInfo(
                type=rng.choice(["resettled_retiree", "posted_worker", "referral", "emergency"]),
                destination=rng.choice([AWAY, "460000", OTHER, HOME]),
                valid_from=date(2026, rng.randint(1, 6), 1),
                valid_to=rng.choice([None, date(2026, rng.randint(7, 12), 28)]),
            )
        person = PersonInfo(
            id=f"w{seed}p{k}",
            insured_region=HOME,
            scheme=policies[0].scheme if rng.random() < 0.9 else "resident",
            person_type=rng.choice(["t"] * 10 + ["u"] * 5 + ["x"]),
            assistance_eligible=rng.random() < 0.2,
            account_balance=_money(rng, 3_000),
            year_to_date=_ytd(rng) if rng.random() < 0.15 else None,
        )
        persons.append((person, filing))
    claims = []
    start = date(2026, 1, 1)
    days = sorted(rng.randint(0, 400) for _ in range(CLAIMS_PER_WORLD))
    for i, day in enumerate(days):
        person, filing = rng.choice(persons)
        inpatient = rng.random() < 0.3
        lines = tuple(
            ClaimLine(
                code=rng.choice(CODES),
                quantity=Decimal(rng.randint(1, 40_000)) / 10_000 * rng.choice([1, 10, 100]),
                unit_price=Decimal(rng.randint(1, 5_000_000 if inpatient else 200_000)) / 10_000,
            )
            for _ in range(rng.randint(0 if rng.random() < 0.02 else 1, 8))
        )
        claims.append(
            Claim(
                claim_id=f"w{seed}c{i}",
                date=start + timedelta(days=day),
                setting="inpatient" if inpatient else "outpatient",
                person=person,
                institution=InstitutionInfo(
                    id="h", region=rng.choice([HOME, HOME, AWAY, OTHER]), level=rng.randint(1, 3)
                ),
                lines=lines,
                filing=filing,
                emergency=rng.random() < 0.1,
                liability=rng.choice([None] * 12 + ["work_injury", "third_party_unresolved"]),
            )
        )
    return policies, catalog, claims


def test_one_hundred_thousand_generated_claims_agree_on_every_field() -> None:
    total = 0
    settled = 0
    capped = 0
    for seed in range(WORLDS):
        policies, catalog, claims = _world(seed)
        want = [result_to_dict(r) for r in settle_run(claims, policies=policies, catalog=catalog)]
        report: dict[str, int] = {}
        got = results_to_dicts(
            *settle_fast(
                *claims_to_tables(claims), catalog=catalog, policies=policies, report=report
            )
        )
        for a, b in zip(got, want, strict=True):
            assert a == b, a["claim_id"]
        assert report["scalar_claims"] == 0
        total += len(got)
        settled += sum(r["status"] == "settled" for r in want)
        capped += sum(r["pool_fund_pay"] == "0.00" and r["in_scope"] != "0.00" for r in want)
    assert total == WORLDS * CLAIMS_PER_WORLD >= 100_000
    # most claims are settled (the rest rejected for the contract's reasons)
    assert settled > total // 2 and capped > 0
