"""Property tests of the money invariants over random policies, catalogs and claim runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.engine import result_to_dict, settle, settle_run
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
    SettingRules,
    Supplementary,
    SupplementaryBand,
    YearAccumulators,
)

BJ, SANYA = "110000", "460200"
CODES = [f"I{n}" for n in range(8)]
SETTINGS_ = ("inpatient", "outpatient")
FEN = Decimal("0.01")

money = st.integers(min_value=0, max_value=5_000_000).map(lambda f: Decimal(f) / 100)
small_money = st.integers(min_value=0, max_value=300_000).map(lambda f: Decimal(f) / 100)
ratio = st.integers(min_value=0, max_value=100).map(lambda n: Decimal(n) / 100)


@st.composite
def bands(draw: st.DrawFn) -> tuple[Band, ...]:
    count = draw(st.integers(1, 3))
    ups = sorted(
        set(draw(st.lists(st.integers(100, 100_000), min_size=count - 1, max_size=count - 1)))
    )
    bounds: list[Decimal | None] = [Decimal(u) for u in ups]
    if draw(st.booleans()) or not bounds:
        bounds.append(None)
    return tuple(Band(up_to=u, ratio={lvl: draw(ratio) for lvl in (1, 2, 3)}) for u in bounds)


@st.composite
def setting_rules(draw: st.DrawFn) -> SettingRules:
    if draw(st.booleans()):
        deductible = Deductible(mode="annual", amount=draw(small_money))
    else:
        deductible = Deductible(
            mode="per_admission",
            by_level={lvl: draw(small_money) for lvl in (1, 2, 3)},
            later_admissions_factor=draw(ratio),
        )
    return SettingRules(
        deductible=deductible,
        bands=draw(bands()),
        band_basis=draw(st.sampled_from(["annual", "per_claim"])),
        annual_cap=draw(st.none() | money),
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    supplementary = []
    for n in range(draw(st.integers(0, 2))):
        threshold = Decimal(draw(st.integers(0, 20_000)))
        up = draw(st.none() | st.integers(1, 50_000).map(lambda x, t=threshold: t + x))
        sb = [SupplementaryBand(None if up is None else Decimal(up), draw(ratio))]
        if up is not None:
            sb.append(SupplementaryBand(None, draw(ratio)))
        supplementary.append(
            Supplementary(
                name=f"s{n}",
                settings=frozenset(draw(st.sets(st.sampled_from(SETTINGS_), min_size=1))),
                threshold=threshold,
                bands=tuple(sb),
                annual_cap=draw(st.none() | money),
            )
        )
    return Policy(
        id="prop",
        region=BJ,
        scheme=draw(st.sampled_from(["employee", "resident"])),
        person_types=frozenset({"t"}),
        effective_from=date(2026, 1, 1),
        effective_to=None,
        inpatient=draw(setting_rules()),
        outpatient=draw(setting_rules()),
        offsite=OffsiteRules(
            ratio_reduction={"temporary": draw(ratio), "unfiled": draw(ratio)},
            reduction_mode=draw(st.sampled_from(["points", "relative", "pre_self_pay"])),
            home_benefits_while_filed=draw(st.booleans()),
        ),
        supplementary=tuple(supplementary),
        assistance=draw(st.none() | st.builds(Assistance, ratio, st.none() | money)),
        account=draw(
            st.none()
            | st.builds(
                AccountRules,
                st.frozensets(
                    st.sampled_from(
                        [
                            "in_scope_personal",
                            "pre_self_pay",
                            "over_limit_self_pay",
                            "full_self_pay",
                        ]
                    )
                ),
            )
        ),
    )


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    items = []
    for region in (BJ, SANYA):
        for code in CODES:
            cls = draw(st.sampled_from("ABC"))
            items.append(
                CatalogItem(
                    region=region,
                    code=code,
                    name=code,
                    kind="drug",
                    item_class=cls,
                    self_pay_ratio=draw(ratio) if cls == "B" else Decimal(0),
                    price_ceiling=draw(st.none() | small_money),
                    settings=frozenset(draw(st.sets(st.sampled_from(SETTINGS_), min_size=1))),
                    min_level=draw(st.none() | st.integers(1, 3)),
                )
            )
    return Catalog.of(items)


quantity = st.integers(0, 50_000).map(lambda n: Decimal(n) / 10_000 * 10)
price = st.integers(0, 5_000_000).map(lambda n: Decimal(n) / 10_000)


@st.composite
def claims(draw: st.DrawFn, n: int = 0) -> Claim:
    region = draw(st.sampled_from([BJ, SANYA]))
    filing = draw(
        st.none()
        | st.builds(
            FilingInfo,
            st.sampled_from(["resettled_retiree", "referral", "emergency"]),
            st.sampled_from([SANYA, "460000", BJ]),
            st.just(date(2026, 1, 1)),
            st.sampled_from([None, date(2026, 6, 30)]),
        )
    )
    person_n = draw(st.integers(0, 1))
    return Claim(
        claim_id=f"c{n}",
        date=date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 400))),
        setting=draw(st.sampled_from(SETTINGS_)),
        person=PersonInfo(
            id=f"p{person_n}",
            insured_region=BJ,
            scheme=draw(st.sampled_from(["employee", "resident"])),
            person_type=draw(st.sampled_from(["t", "t", "t", "other"])),
            assistance_eligible=draw(st.booleans()),
            account_balance=draw(money),
        ),
        institution=InstitutionInfo(id="h", region=region, level=draw(st.integers(1, 3))),
        lines=tuple(
            ClaimLine(
                code=draw(st.sampled_from(CODES)), quantity=draw(quantity), unit_price=draw(price)
            )
            for _ in range(draw(st.integers(0, 6)))
        ),
        filing=filing,
        emergency=draw(st.booleans()),
        liability=draw(
            st.sampled_from([None, None, None, "work_injury", "third_party_unresolved", "abroad"])
        ),
    )


claim_runs = st.integers(1, 8).flatmap(lambda k: st.tuples(*[claims(i) for i in range(k)]))
PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MONEY = [
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
]


def _flat(acc: YearAccumulators) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for setting in SETTINGS_:
        s = acc.setting(setting)
        out[f"{setting}.in_scope_cum"] = s.in_scope_cum
        out[f"{setting}.deductible_met"] = s.deductible_met
        out[f"{setting}.pool_paid_cum"] = s.pool_paid_cum
        out[f"{setting}.admissions"] = Decimal(s.admissions)
    for name, supp in acc.supplementary.items():
        out[f"{name}.base_cum"] = supp.base_cum
        out[f"{name}.paid_cum"] = supp.paid_cum
    out["assistance"] = acc.assistance_paid_cum
    return out


@PROPS
@given(policy=policies(), catalog=catalogs(), run=claim_runs)
def test_identities_caps_and_monotone_accumulators(
    policy: Policy, catalog: Catalog, run: tuple[Claim, ...]
) -> None:
    results = settle_run(run, policies=[policy], catalog=catalog)
    before: dict[tuple[str, int], YearAccumulators] = {}
    for claim, r in zip(run, results, strict=True):
        # the three identities
        assert r.total == r.full_self_pay + r.over_limit_self_pay + r.pre_self_pay + r.in_scope
        assert r.total == r.fund_pay_total + r.personal_burden
        assert r.personal_burden == r.account_pay + r.cash_pay
        assert r.fund_pay_total == r.pool_fund_pay + r.supplementary_pay + r.assistance_pay
        for name in MONEY:
            value = getattr(r, name)
            assert value >= 0, name
            assert value == value.quantize(FEN), name
        assert r.account_pay <= max(claim.person.account_balance, Decimal(0))
        key = (claim.person.id, claim.date.year)
        prev = before.get(key, YearAccumulators(claim.date.year))
        if r.status == "rejected":
            # a rejected claim changes nothing
            assert r.accumulators == prev
            assert all(getattr(r, name) == 0 for name in MONEY) and r.lines == ()
        # accumulators never decrease
        old, new = _flat(prev), _flat(r.accumulators)
        for field, value in old.items():
            assert new[field] >= value, field
        # caps never exceeded
        acc = r.accumulators
        for setting in SETTINGS_:
            cap = policy.rules(setting).annual_cap  # type: ignore[union-attr]
            if cap is not None:
                assert acc.setting(setting).pool_paid_cum <= cap
        for item in policy.supplementary:
            if item.annual_cap is not None and item.name in acc.supplementary:
                assert acc.supplementary[item.name].paid_cum <= item.annual_cap
        if policy.assistance is not None and policy.assistance.annual_cap is not None:
            assert acc.assistance_paid_cum <= policy.assistance.annual_cap
        before[key] = r.accumulators


@PROPS
@given(policy=policies(), catalog=catalogs(), run=claim_runs, data=st.data())
def test_line_order_does_not_change_a_result(
    policy: Policy, catalog: Catalog, run: tuple[Claim, ...], data: st.DataObject
) -> None:
    shuffled = tuple(replace(c, lines=tuple(data.draw(st.permutations(c.lines)))) for c in run)
    a = settle_run(run, policies=[policy], catalog=catalog)
    b = settle_run(shuffled, policies=[policy], catalog=catalog)
    for x, y in zip(a, b, strict=True):
        assert [getattr(x, n) for n in MONEY] == [getattr(y, n) for n in MONEY]
        assert x.accumulators == y.accumulators
        assert sorted((ln.code, ln.amount, ln.in_scope) for ln in x.lines) == sorted(
            (ln.code, ln.amount, ln.in_scope) for ln in y.lines
        )


@PROPS
@given(policy=policies(), catalog=catalogs(), claim=claims(), r1=ratio, r2=ratio)
def test_a_smaller_reduction_never_pays_less(
    policy: Policy, catalog: Catalog, claim: Claim, r1: Decimal, r2: Decimal
) -> None:
    small, large = sorted((r1, r2))
    status_free = replace(
        claim, institution=replace(claim.institution, region=SANYA), filing=None, emergency=False
    )

    def pool(r: Decimal) -> Decimal:
        pol = replace(policy, offsite=replace(policy.offsite, ratio_reduction={"unfiled": r}))
        result = settle(status_free, policies=[pol], catalog=catalog)
        assert result.status == "rejected" or result.offsite_status == "unfiled"
        return result.pool_fund_pay

    assert pool(small) >= pool(large)


@PROPS
@given(policy=policies(), catalog=catalogs(), run=claim_runs)
def test_a_run_equals_claims_settled_one_by_one(
    policy: Policy, catalog: Catalog, run: tuple[Claim, ...]
) -> None:
    """settle_run's policy index changes no figure."""
    together = settle_run(run, policies=[policy], catalog=catalog)
    state: dict[tuple[str, int], YearAccumulators] = {}
    for claim, expected in zip(run, together, strict=True):
        key = (claim.person.id, claim.date.year)
        alone = settle(claim, policies=[policy], catalog=catalog, accumulators=state.get(key))
        state[key] = alone.accumulators
        assert result_to_dict(alone, explain=True) == result_to_dict(expected, explain=True)
