"""The explanation in Chinese and in English: the same sentences, the same figures.

English is what ``yibao settle --explain`` prints (the contract's output) and what a stored
settlement keeps; Chinese is said from it at render time by the phrase book
(:mod:`yibao.engine.phrases`). Every sentence the engine can say must be in the book.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from tests.unit.enginekit import (
    BAODING,
    BJ,
    SANYA,
    AccountRules,
    Assistance,
    D,
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
from tests.unit.test_engine_properties import catalogs, claim_runs, policies
from yibao.engine import Settlement, settle, settle_run
from yibao.engine.models import Catalog, Claim, Policy, YearAccumulators
from yibao.engine.phrases import choose_language, untranslated
from yibao.engine.render import explanation_lines, localise_explanation, money, plain

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(lines: list[str]) -> list[str]:
    """Every figure of the sentences, thousands separators dropped, in sorted order."""
    return sorted(n.replace(",", "") for text in lines for n in NUMBER.findall(text))


def assert_same_figures(result: Settlement) -> None:
    english = explanation_lines(result)
    chinese = explanation_lines(result, lang="zh")
    assert untranslated(english) == []
    assert len(chinese) == len(english)
    assert numbers(chinese) == numbers(english)
    assert chinese != english


CATALOG_BJ = [
    item("A1", "A", price_ceiling=D(80)),
    item("B1", "B", self_pay_ratio=D("0.15")),
    item("C1", "C"),
    item("O1", "A", settings=frozenset({"outpatient"})),
    item("L3", "A", min_level=3),
]


def _catalog(region: str = BJ) -> Catalog:
    return catalog(*(replace(i, region=region) for i in CATALOG_BJ))


LINES = (line("A1", 40, "100.00"), line("B1", "0.5", "200"), line("C1", "1E+2", "1.5"))


def _rich_policy(**kw: object) -> Policy:
    """Every payer: pool, a capped supplementary item, assistance, the account."""
    base: dict[str, object] = dict(
        person_types=frozenset({"in_service", "retired"}),
        supplementary=(
            Supplementary(
                name="large_amount",
                settings=frozenset({"inpatient", "outpatient"}),
                threshold=D(0),
                bands=(SupplementaryBand(None, D("0.85")),),
                annual_cap=D(100),
            ),
        ),
        assistance=Assistance(ratio=D("0.7"), annual_cap=D(50)),
        account=AccountRules(pays=frozenset({"in_scope_personal", "pre_self_pay"})),
    )
    base.update(kw)
    return policy(**base)


SCENARIOS: dict[str, tuple[Policy | list[Policy], Catalog, Claim]] = {
    "local, every kind of line": (_rich_policy(), _catalog(), claim(*LINES)),
    "resettled in Sanya": (
        _rich_policy(),
        _catalog(SANYA),
        claim(
            *LINES,
            person=person(person_type="retired", assistance_eligible=True, account_balance=D(50)),
            institution=hospital(SANYA),
            filing=filing(valid_to=None),
        ),
    ),
    "referral outside its destination, emergency": (
        _rich_policy(offsite=OffsiteRules(ratio_reduction={"temporary": D("0.1")})),
        _catalog(BAODING),
        claim(*LINES, institution=hospital(BAODING), filing=filing("referral"), emergency=True),
    ),
    "filing expired, unfiled, pre-self-pay reduction": (
        _rich_policy(
            offsite=OffsiteRules(
                ratio_reduction={"unfiled": D("0.2")}, reduction_mode="pre_self_pay"
            )
        ),
        _catalog(SANYA),
        claim(
            *LINES,
            institution=hospital(SANYA),
            filing=filing(valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31)),
        ),
    ),
    "no filing, relative reduction, level 2": (
        _rich_policy(
            offsite=OffsiteRules(ratio_reduction={"unfiled": D("0.2")}, reduction_mode="relative")
        ),
        _catalog(SANYA),
        claim(*LINES, line("L3", 1, 10), institution=hospital(SANYA, level=2)),
    ),
    "outpatient line in an inpatient claim, capped pool": (
        _rich_policy(inpatient=rules(bands=[(None, "0.9")], cap="100")),
        _catalog(),
        claim(*LINES, line("O1", 1, 50)),
    ),
    "emergency without a filing, assistance without a cap": (
        _rich_policy(assistance=Assistance(ratio=D("0.7"))),
        _catalog(SANYA),
        claim(
            *LINES,
            person=person(assistance_eligible=True),
            institution=hospital(SANYA),
            emergency=True,
        ),
    ),
    "eligible for assistance the policy lacks": (
        _rich_policy(assistance=None),
        _catalog(),
        claim(*LINES, person=person(assistance_eligible=True)),
    ),
    "work injury": (_rich_policy(), _catalog(), claim(*LINES, liability="work_injury")),
    "third party unresolved": (
        _rich_policy(),
        _catalog(),
        claim(*LINES, liability="third_party_unresolved"),
    ),
    "no policy": (_rich_policy(), _catalog(), claim(*LINES, person=person(scheme="resident"))),
    "two policies": (
        [_rich_policy(), _rich_policy(id="pol-2")],
        _catalog(),
        claim(*LINES),
    ),
    "no outpatient rules": (
        _rich_policy(outpatient=None),
        _catalog(),
        claim(*LINES, setting="outpatient"),
    ),
    "home benefits suspended while filed": (
        _rich_policy(offsite=OffsiteRules(home_benefits_while_filed=False)),
        _catalog(),
        claim(*LINES, person=person(person_type="retired"), filing=filing()),
    ),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_chinese_and_english_carry_the_same_figures(name: str) -> None:
    policies_, catalog_, claim_ = SCENARIOS[name]
    chosen = policies_ if isinstance(policies_, list) else [policies_]
    result = settle(claim_, policies=chosen, catalog=catalog_)
    assert_same_figures(result)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy=policies(), catalog=catalogs(), run=claim_runs)
def test_every_sentence_of_random_runs_is_in_the_phrase_book(
    policy: Policy, catalog: Catalog, run: list[Claim]
) -> None:
    for result in settle_run(run, policies=[policy], catalog=catalog):
        assert_same_figures(result)


def test_the_agency_wording_money_in_yuan_with_thousands() -> None:
    result = settle(
        claim(line("A1", 40, "100.00"), line("B1", "100", "150.00")),
        policies=[_rich_policy()],
        catalog=_catalog(),
        accumulators=YearAccumulators(year=2026),
    )
    english = explanation_lines(result)
    chinese = explanation_lines(result, lang="zh")
    assert "deductible due 1300.00 (met before 0.00), met on this claim 1300.00" in english
    assert "起付线 1,300.00 元，此前已付 0.00 元，本次计入 1,300.00 元" in chinese
    assert any(s.startswith("明细 B1 item B1（乙类）：金额 15,000.00 元") for s in chinese)
    assert chinese[0] == "就医类型：本地就医（在参保地 110000 就医）"


def test_stored_english_is_said_in_chinese_once_and_kept_in_english() -> None:
    result = settle(claim(*LINES), policies=[_rich_policy()], catalog=_catalog())
    stored = explanation_lines(result)
    chinese = localise_explanation(stored, "zh")
    assert chinese == explanation_lines(result, lang="zh")
    assert localise_explanation(chinese, "zh") == chinese  # already Chinese: unchanged
    assert localise_explanation(stored, "en") == stored
    reversal = ["reversal of settlement 7: every amount negated", "something new"]
    assert localise_explanation(reversal, "zh") == ["冲正结算 7：各项金额取反", "something new"]


@pytest.mark.parametrize(
    ("lang", "accept", "expected"),
    [
        (None, None, "zh"),
        ("en", None, "en"),
        ("EN-gb", None, "en"),
        ("zh", "en", "zh"),
        ("fr", None, "zh"),
        (None, "en", "en"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "fr-FR, en;q=0.5", "en"),
        (None, "en;q=0.4, zh;q=0.6", "zh"),
        (None, "en;q=0", "zh"),
        (None, "*", "zh"),
        (None, "en;q=bad", "zh"),
    ],
)
def test_the_language_is_asked_for_or_chinese(
    lang: str | None, accept: str | None, expected: str
) -> None:
    assert choose_language(lang, accept) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("4E+1"), "40"),
        (Decimal("40.0000"), "40"),
        (Decimal("0.5000"), "0.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("35.50"), "35.5"),
        (Decimal("0.0000"), "0"),
    ],
)
def test_quantities_are_plain_decimals(value: Decimal, text: str) -> None:
    assert plain(value) == text


def test_money_is_plain_with_two_decimals() -> None:
    assert money(Decimal("1E+3")) == "1000.00"
    assert money(Decimal("1234.5")) == "1234.50"
