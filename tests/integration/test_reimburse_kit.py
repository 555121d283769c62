"""Rules and a stay shared by the reimbursement, clearing and reconciliation tests.

Policy (Beijing employees, 2026): inpatient deductible 1,000 per admission (500 from the
second), one band at 80%, pool cap 10,000; outpatient deductible 100 a year at 50%, cap
2,000; off-site reductions −10 / −20 points; supplementary "big" pays 50% of the personal
in-scope share of inpatient care, cap 1,000; the account pays every personal part.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from yibao.policies.service import load_catalog_text, load_policy_text

POLICY = """
id: rb-bj-employee-2026
region: "110000"
scheme: employee
person_types: [in_service, retired]
effective_from: 2026-01-01
effective_to: 2026-12-31
inpatient:
  deductible: {mode: per_admission, by_level: {1: 1000, 2: 1000, 3: 1000},
               later_admissions_factor: 0.5}
  bands: [{up_to: null, ratio: {1: 0.80, 2: 0.80, 3: 0.80}}]
  annual_cap: 10000
outpatient:
  deductible: {mode: annual, amount: 100}
  bands: [{up_to: null, ratio: {1: 0.50, 2: 0.50, 3: 0.50}}]
  annual_cap: 2000
offsite:
  ratio_reduction: {long_term: 0, temporary: 0.10, unfiled: 0.20}
  reduction_mode: points
supplementary:
  - {name: big, settings: [inpatient], threshold: 0, bands: [{up_to: null, ratio: 0.5}],
     annual_cap: 1000}
account: {pays: [in_scope_personal, pre_self_pay, over_limit_self_pay, full_self_pay]}
"""

CATALOG = """region,code,name,kind,class,self_pay_ratio,price_ceiling,settings,min_level
{r},X001,甲类药,drug,A,,,both,
{r},X002,乙类药,drug,B,0.10,,both,
{r},X003,丙类药,drug,C,,,both,
{r},M001,限价耗材,material,A,,50.00,both,
{r},S001,诊查费,service,A,,,both,
"""

# An inpatient stay: total 2,360.00; in scope 1000 + 900 + 100 = 2000; X003 200 self-paid;
# X002's 10% (100) paid first; M001 60 above its ceiling.
STAY = [
    {"code": "X001", "quantity": "10", "unit_price": "100.00"},
    {"code": "X002", "quantity": "1", "unit_price": "1000.00"},
    {"code": "X003", "quantity": "1", "unit_price": "200.00"},
    {"code": "M001", "quantity": "2", "unit_price": "80.00"},
]


def load_rules(session: Session, *, regions: tuple[str, ...] = ("460200", "110000")) -> None:
    load_policy_text(session, text=POLICY, source="rb-policy.yaml", actor=None)
    for region in regions:
        load_catalog_text(
            session,
            text=CATALOG.format(r=region),
            source=f"rb-catalog-{region}.csv",
            effective_from=date(2026, 1, 1),
            actor=None,
        )


def test_the_stay_adds_up_to_its_stated_total() -> None:
    from decimal import Decimal

    total = sum(Decimal(line["quantity"]) * Decimal(line["unit_price"]) for line in STAY)
    assert total == Decimal("2360.00")
