"""Yibao's settlement under the national field names (docs/nhsa.md, field by field).

Every figure comes from the engine's result (pre-settlement) or the stored settlement, and
from :mod:`yibao.settlements.breakdown` for the parts the contract names only in total; this
module only renames and places them. Supplementary payers are placed by their kind (the
policy item's name), funds get their ``fund_pay_type`` codes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from yibao.engine import Settlement
from yibao.engine.models import LineResult
from yibao.engine.render import MONEY_FIELDS
from yibao.identity import mask_identity_number
from yibao.money import from_fen
from yibao.nhsa.envelope import money
from yibao.registry.models import Person
from yibao.settlements.breakdown import Breakdown
from yibao.settlements.models import SettlementRecord

ZERO = Decimal("0.00")

# Supplementary items of the policies by their name: the national field and fund code.
SUPPLEMENTARY_KINDS: dict[str, tuple[str, str, str]] = {
    "large_amount": ("hifob_pay", "330100", "职工大额医疗费用补助"),
    "critical_illness": ("hifmi_pay", "390200", "城乡居民大病医疗保险"),
    "civil_servant": ("cvlserv_pay", "320100", "公务员医疗补助"),
    "enterprise_supplementary": ("hifes_pay", "340100", "企业补充医疗保险"),
}
OTHER_FUND = ("oth_pay", "999900", "其他基金")
POOL_FUNDS = {
    "employee": ("310100", "职工基本医疗保险统筹基金"),
    "resident": ("390100", "城乡居民基本医疗保险基金"),
}
ASSISTANCE_FUND = ("610100", "医疗救助基金")
INSUTYPES = {"employee": "310", "resident": "390"}
PERSON_TYPES = {
    "in_service": "11",
    "retired": "12",
    "adult": "1401",
    "minor": "1402",
    "student": "1403",
}
ITEM_LEVELS = {"A": "01", "B": "02", "C": "03"}
NO_CEILING = Decimal("999999")


@dataclass(frozen=True, slots=True)
class Figures:
    """The contract's figures of one settlement (a reversal's negated), in yuan."""

    total: Decimal
    full_self_pay: Decimal
    over_limit_self_pay: Decimal
    pre_self_pay: Decimal
    in_scope: Decimal
    deductible: Decimal
    pool_fund_pay: Decimal
    supplementary_pay: Decimal
    assistance_pay: Decimal
    fund_pay_total: Decimal
    personal_burden: Decimal
    account_pay: Decimal
    cash_pay: Decimal


# The engine's money fields in the contract's order (docs/nhsa.md), less the recoverable
# advance, which the national interface does not carry.
FIGURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Figures))
assert set(FIGURE_NAMES) <= set(MONEY_FIELDS)


def figures_of_result(result: Settlement) -> Figures:
    return Figures(*(money(getattr(result, name)) for name in FIGURE_NAMES))


def figures_of_record(row: SettlementRecord) -> Figures:
    return Figures(*(from_fen(getattr(row, f"{name}_fen")) for name in FIGURE_NAMES))


def person_fields(person: Person, *, today: date) -> dict[str, Any]:
    """The person as the answers name them (``psn_no`` is Yibao's person id)."""
    born = person.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return {
        "psn_no": str(person.id),
        "psn_cert_type": "01",
        "certno": mask_identity_number(person.identity_number),
        "psn_name": person.name,
        "gend": "1" if person.sex == "M" else "2",
        "naty": None,
        "brdy": born.isoformat(),
        "age": age,
        "insutype": INSUTYPES.get(person.scheme, person.scheme),
        "psn_type": PERSON_TYPES.get(person.person_type, person.person_type),
        "cvlserv_flag": "0",
        "insuplc_admdvs": person.insured_region,
    }


def setlinfo(
    figures: Figures,
    breakdown: Breakdown,
    *,
    person: Person,
    today: date,
    setl_id: str | None,
    mdtrt_id: str,
    setl_time: str | None,
    med_type: str | None,
    clr_optins: str,
) -> dict[str, Any]:
    """The settlement information (结算信息) of 2206/2207/2208, 2303/2304/2305 and 5203."""
    payers = {field: ZERO for field, _code, _name in SUPPLEMENTARY_KINDS.values()}
    payers[OTHER_FUND[0]] = ZERO
    for name, paid in breakdown.supplementary_by_name.items():
        field = SUPPLEMENTARY_KINDS.get(name, OTHER_FUND)[0]
        payers[field] += paid
    p = person_fields(person, today=today)
    return {
        "setl_id": setl_id,
        "mdtrt_id": mdtrt_id,
        "psn_no": p["psn_no"],
        "psn_name": p["psn_name"],
        "psn_cert_type": p["psn_cert_type"],
        "certno": p["certno"],
        "gend": p["gend"],
        "brdy": p["brdy"],
        "age": p["age"],
        "insutype": p["insutype"],
        "psn_type": p["psn_type"],
        "cvlserv_flag": p["cvlserv_flag"],
        "setl_time": setl_time,
        "med_type": med_type,
        "medfee_sumamt": figures.total,
        "fulamt_ownpay_amt": figures.full_self_pay,
        "overlmt_selfpay": figures.over_limit_self_pay,
        "preselfpay_amt": figures.pre_self_pay,
        "inscp_scp_amt": figures.in_scope,
        "act_pay_dedc": figures.deductible,
        "hifp_pay": figures.pool_fund_pay,
        "pool_prop_selfpay": breakdown.pooled_personal_share,
        "cvlserv_pay": payers["cvlserv_pay"],
        "hifes_pay": payers["hifes_pay"],
        "hifmi_pay": payers["hifmi_pay"],
        "hifob_pay": payers["hifob_pay"],
        "maf_pay": figures.assistance_pay,
        "oth_pay": payers["oth_pay"],
        "fund_pay_sumamt": figures.fund_pay_total,
        "psn_part_amt": figures.personal_burden,
        "acct_pay": figures.account_pay,
        "psn_cash_pay": figures.cash_pay,
        "hosp_part_amt": breakdown.hospital_share,
        "balc": money(breakdown.balance_after) if breakdown.balance_after is not None else None,
        "acct_mulaid_pay": breakdown.family_account_pay,
        "medins_setl_id": None,
        "clr_optins": clr_optins,
        "clr_way": "1",
        "clr_type": "21" if med_type == "21" else "11",
        "insuplc_admdvs": person.insured_region,
    }


def setldetail(figures: Figures, breakdown: Breakdown, *, scheme: str) -> list[dict[str, Any]]:
    """One row per fund that paid (the pool fund always): its code, the in-scope amount
    it paid on, what it paid and how (结算过程信息)."""
    pool_code, pool_name = POOL_FUNDS.get(scheme, POOL_FUNDS["employee"])
    rows = [
        _fund_row(
            pool_code,
            pool_name,
            figures.in_scope,
            figures.pool_fund_pay,
            f"政策范围内费用{figures.in_scope}元，起付线{figures.deductible}元，"
            f"统筹基金支付{figures.pool_fund_pay}元，比例内自付"
            f"{breakdown.pooled_personal_share}元",
        )
    ]
    for name, paid in breakdown.supplementary_by_name.items():
        if not paid:
            continue
        _field, code, title = SUPPLEMENTARY_KINDS.get(name, OTHER_FUND)
        rows.append(_fund_row(code, title, figures.in_scope, paid, f"{title}({name})支付{paid}元"))
    if figures.assistance_pay:
        code, title = ASSISTANCE_FUND
        rows.append(
            _fund_row(
                code,
                title,
                figures.in_scope,
                figures.assistance_pay,
                f"{title}支付{figures.assistance_pay}元",
            )
        )
    return rows


def _fund_row(code: str, name: str, in_scope: Decimal, paid: Decimal, info: str) -> dict[str, Any]:
    return {
        "fund_pay_type": code,
        "fund_pay_type_name": name,
        "inscp_scp_amt": in_scope,
        "crt_payb_lmt_amt": None,
        "fund_payamt": paid,
        "setl_proc_info": info,
    }


def fee_line_result(line: LineResult, *, quantity: Decimal, price: Decimal) -> dict[str, Any]:
    """A fee line as the engine classified it (2204 / 2301 answers)."""
    if line.item_class == "A":
        ratio = ZERO
    elif line.item_class == "B":
        ratio = line.self_pay_ratio
    else:
        ratio = Decimal("1.00")
    return {
        "feedetl_sn": line.line_id,
        "det_item_fee_sumamt": money(line.amount),
        "cnt": quantity,
        "pric": price,
        "pric_uplmt_amt": money(line.price_ceiling)
        if line.price_ceiling is not None
        else NO_CEILING,
        "selfpay_prop": ratio,
        "fulamt_ownpay_amt": money(line.full_self_pay),
        "overlmt_amt": money(line.over_limit_self_pay),
        "preselfpay_amt": money(line.pre_self_pay),
        "inscp_scp_amt": money(line.in_scope),
        "chrgitm_lv": ITEM_LEVELS.get(line.item_class, "03"),
        "med_chrgitm_type": None,
        "bas_medn_flag": None,
        "lmt_used_flag": "0" if line.eligible else "1",
        "memo": line.not_eligible_reason,
    }
