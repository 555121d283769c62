"""Policies, catalogs and claims are read through typed models; every problem names its place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.errors import InvalidInput
from yibao.inputs import parse_catalog_text, parse_claims_text, parse_policy_text

POLICY = """\
id: bj-employee-retired-2026
region: "110000"
scheme: employee
person_types: [retired]
effective_from: 2026-01-01
effective_to: 2026-12-31
inpatient:
  deductible: {mode: per_admission, by_level: {1: 1300, 2: 1300, 3: 1300}, later_admissions_factor: 0.5}
  bands:
    - {up_to: 30000, ratio: {1: 0.91, 2: 0.89, 3: 0.88}}
    - {up_to: null,  ratio: {1: 0.95, 2: 0.95, 3: 0.95}}
  band_basis: annual
  annual_cap: 500000
outpatient:
  deductible: {mode: annual, amount: 1300}
  bands: [{up_to: null, ratio: {1: 0.90, 2: 0.85, 3: 0.80}}]
  annual_cap: 20000
offsite:
  ratio_reduction: {long_term: 0, temporary: 0.10, unfiled: 0.20}
  reduction_mode: points
  home_benefits_while_filed: true
supplementary:
  - {name: large_amount, settings: [inpatient, outpatient], threshold: 0,
     bands: [{up_to: null, ratio: 0.85}], annual_cap: 300000}
assistance: {ratio: 0.70, annual_cap: 60000}
account: {pays: [in_scope_personal, pre_self_pay, over_limit_self_pay, full_self_pay], family_sharing: true}
"""


def test_the_contract_example_policy_loads_with_exact_decimals() -> None:
    p = parse_policy_text(POLICY, "p.yaml")
    assert p.id == "bj-employee-retired-2026" and p.person_types == {"retired"}
    assert p.inpatient is not None and p.outpatient is not None
    assert p.inpatient.bands[0].ratio[3] == Decimal("0.88")
    assert isinstance(p.inpatient.bands[0].ratio[3], Decimal)
    assert p.inpatient.deductible.later_admissions_factor == Decimal("0.5")
    assert p.offsite.ratio_reduction["temporary"] == Decimal("0.10")
    assert p.supplementary[0].settings == {"inpatient", "outpatient"}
    assert p.account is not None and p.account.family_sharing


def test_numbers_as_strings_read_the_same() -> None:
    text = POLICY.replace("ratio: 0.85}", 'ratio: "0.85"}').replace(
        "annual_cap: 20000", 'annual_cap: "20000"'
    )
    p = parse_policy_text(text, "p.yaml")
    assert p.supplementary[0].bands[0].ratio == Decimal("0.85")
    assert p.outpatient is not None and p.outpatient.annual_cap == Decimal(20000)


def test_defaults_when_keys_are_absent() -> None:
    text = """\
id: x
region: "460200"
scheme: resident
person_types: [adult]
effective_from: 2026-01-01
outpatient:
  deductible: {mode: annual, amount: 200}
  bands: [{up_to: null, ratio: {1: 0.5, 2: 0.5, 3: 0.5}}]
"""
    p = parse_policy_text(text, "x.yaml")
    assert p.effective_to is None and p.inpatient is None
    assert p.offsite.reduction_mode == "points" and p.offsite.home_benefits_while_filed
    assert p.supplementary == () and p.assistance is None and p.account is None
    assert p.outpatient is not None and p.outpatient.band_basis == "annual"


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (
            ("band_basis: annual", "band_basis: annual\n  colour: red"),
            "inpatient",
            "unknown key 'colour'",
        ),
        (("annual_cap: 500000", "annual_cap: [1]"), "inpatient.annual_cap", "number"),
        (("3: 0.88}", "3: 1.88}"), "inpatient.bands[0].ratio[3]", "outside [0, 1]"),
        (
            ("{up_to: null,  ratio: {1: 0.95", "{up_to: 20000, ratio: {1: 0.95"),
            "inpatient",
            "bands do not increase",
        ),
        (
            ("{1: 0.91, 2: 0.89, 3: 0.88}", "{1: 0.91, 2: 0.89}"),
            "inpatient.bands[0].ratio",
            "level 3",
        ),
        (("scheme: employee", "scheme: private"), "scheme", "'employee' or 'resident'"),
        (('region: "110000"', 'region: "11000"'), "region", "six-digit"),
        (("effective_from: 2026-01-01", "effective_from: soon"), "effective_from", "date"),
        (("temporary: 0.10", "abroad: 0.10"), "offsite.ratio_reduction", ""),
        (("mode: annual, amount: 1300", "mode: annual"), "outpatient.deductible", "needs amount"),
    ],
)
def test_policy_errors_name_the_key(change, where, reason) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_policy_text(POLICY.replace(*change, 1), "bad.yaml")
    message = str(err.value)
    assert message.startswith("bad.yaml: ")
    assert where in message and reason in message


def test_unbounded_band_must_be_last() -> None:
    text = POLICY.replace("{up_to: 30000,", "{up_to: null,", 1)
    with pytest.raises(InvalidInput, match="unbounded"):
        parse_policy_text(text, "bad.yaml")


def test_bad_yaml_names_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"bad.yaml: line \d+, column \d+: invalid YAML"):
        parse_policy_text("id: [unclosed\nregion: x\n", "bad.yaml")


CATALOG = """\
region,code,name,kind,class,self_pay_ratio,price_ceiling,settings,min_level
110000,A1,阿莫西林胶囊,drug,A,,,both,
110000,B1,头孢呋辛酯片,drug,B,0.10,,outpatient,
110000,M1,心脏支架,material,B,0.30,7000,inpatient,3
"""


def test_catalog_rows_are_typed() -> None:
    items = parse_catalog_text(CATALOG, "c.csv")
    assert [i.code for i in items] == ["A1", "B1", "M1"]
    m1 = items[2]
    assert m1.self_pay_ratio == Decimal("0.30") and m1.price_ceiling == Decimal(7000)
    assert m1.settings == {"inpatient"} and m1.min_level == 3
    assert items[0].settings == {"inpatient", "outpatient"}


def test_catalog_ignores_unknown_columns_and_a_bom() -> None:
    text = "\ufeff" + CATALOG.replace("min_level\n", "min_level,note\n", 1).replace(
        ",both,\n", ",both,,x\n"
    )
    assert len(parse_catalog_text(text, "c.csv")) == 3


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("110000,B2,x,drug,B,,,both,", "class B needs a self_pay_ratio"),
        ("110000,A2,x,drug,A,0.2,,both,", "class B only"),
        ("110000,A2,x,drug,D,,,both,", "'A', 'B' or 'C'"),
        ("110000,A2,x,food,A,,,both,", "kind"),
        ("110000,A2,x,drug,B,1.5,,both,", "outside [0, 1]"),
        ("110000,A2,x,drug,A,,-3,both,", "negative"),
        ("110000,A2,x,drug,A,,,both,4", "hospital level"),
        ("110000,A1,x,drug,A,,,both,", "duplicate code A1 for region 110000 (first on line 2)"),
    ],
)
def test_catalog_errors_name_the_line(row, reason) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_catalog_text(CATALOG + row + "\n", "c.csv")
    assert str(err.value).startswith("c.csv: line 5")
    assert reason in str(err.value)


def test_catalog_missing_column() -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        parse_catalog_text("region,code,name\n", "c.csv")


CLAIM = """\
{"claim_id": "c1", "date": "2026-05-10", "setting": "inpatient", "extra": {"ignored": true},
 "person": {"id": "p1", "insured_region": "110000", "scheme": "employee",
            "person_type": "retired", "assistance_eligible": false, "account_balance": "3000.00"},
 "institution": {"id": "h1", "region": "460200", "level": 3},
 "filing": {"type": "resettled_retiree", "destination": "460000",
            "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
 "emergency": false, "liability": null,
 "lines": [{"code": "XB01", "quantity": "2", "unit_price": 35.50}]}
"""


def test_contract_example_claim_reads_decimals_without_floats() -> None:
    (c,) = parse_claims_text(CLAIM, "c.json")
    assert c.lines[0].unit_price == Decimal("35.50") and isinstance(c.lines[0].unit_price, Decimal)
    assert c.person.account_balance == Decimal("3000.00")
    assert c.filing is not None and c.filing.destination == "460000"
    assert c.institution.level == 3


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (('"quantity": "2"', '"quantity": "-2"'), "[0].lines[0].quantity", "negative"),
        (('"unit_price": 35.50', '"unit_price": -1'), "[0].lines[0].unit_price", "negative"),
        (('"quantity": "2"', '"quantity": [2]'), "[0].lines[0].quantity", "number"),
        (('"quantity": "2"', '"quantity": "1.23456"'), "[0].lines[0].quantity", "4 decimals"),
        (('"level": 3', '"level": 7'), "[0].institution.level", "hospital level"),
        (('"setting": "inpatient"', '"setting": "daycare"'), "[0].setting", "inpatient"),
        (('"date": "2026-05-10"', '"date": "2026-13-10"'), "[0].date", "date"),
        (('"claim_id": "c1", ', ""), "[0]", "missing key 'claim_id'"),
    ],
)
def test_claim_errors_name_the_place(change, where, reason) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_claims_text("[" + CLAIM.replace(*change) + "]", "c.json")
    message = str(err.value)
    assert message.startswith(f"c.json: {where}")
    assert reason in message


def test_bad_json_names_line_and_column() -> None:
    with pytest.raises(InvalidInput, match=r"c.json: line 1, column \d+: invalid JSON"):
        parse_claims_text('[{"claim_id": }]', "c.json")


def test_nan_is_not_a_number() -> None:
    with pytest.raises(InvalidInput, match="NaN"):
        parse_claims_text(CLAIM.replace('"2"', "NaN"), "c.json")
