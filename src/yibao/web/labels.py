"""Words the pages show for the platform's codes: roles, states, settings, amounts.

Each label is an English message id, marked with ``N_`` for the catalog and translated when
the page is rendered (``{{ _(label) }}``). A code without a label is shown as it is.
Category names and reimbursement case titles are the domain's own data (filings.rules,
the reimbursement rules), in both languages already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from yibao.engine.phrases import Lang
from yibao.filings.rules import CATEGORY_NAMES
from yibao.reimbursements.rules import rules_for
from yibao.web.i18n import N_

ROLES: Final = {
    "insured": N_("Insured person"),
    "unit": N_("Insured unit"),
    "street_office": N_("Street social security office"),
    "agency": N_("Medical insurance agency"),
    "hospital": N_("Designated hospital or pharmacy"),
    "admin": N_("Platform administrator"),
}

FILING_STATES: Final = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "returned": N_("Returned for completion"),
    "resubmitted": N_("Resubmitted"),
    "approved": N_("Filed"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Filing cancelled"),
    "expired": N_("Expired"),
    "withdrawn": N_("Withdrawn"),
}

CLAIM_STATES: Final = {
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "returned": N_("Returned for completion"),
    "resubmitted": N_("Resubmitted"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "paid": N_("Paid"),
}

SETTLEMENT_STATES: Final = {
    "settled": N_("Settled"),
    "reversed": N_("Reversed"),
    "reversal": N_("Reversal"),
}

SOURCES: Final = {
    "direct": N_("Direct settlement"),
    "pharmacy": N_("Pharmacy purchase"),
    "reimbursement": N_("Manual reimbursement"),
}

SCHEMES: Final = {"employee": N_("Employee scheme"), "resident": N_("Resident scheme")}

ENCOUNTER_STATES: Final = {
    "open": N_("Open"),
    "settled": N_("Settled"),
    "cancelled": N_("Cancelled"),
}

FEE_STATES: Final = {"active": N_("Active"), "withdrawn": N_("Withdrawn")}

SETTINGS: Final = {"inpatient": N_("Inpatient"), "outpatient": N_("Outpatient")}

OFFSITE_STATUSES: Final = {
    "local": N_("Treated at home"),
    "long_term": N_("Off-site, long-term filing"),
    "temporary": N_("Off-site, temporary filing"),
    "unfiled": N_("Off-site, not filed"),
}

ITEM_CLASSES: Final = {"A": N_("Class A"), "B": N_("Class B"), "C": N_("Class C")}

# The settlement's amounts in the contract's order (yibao.engine.render.MONEY_FIELDS).
AMOUNTS: Final = {
    "total": N_("Total bill"),
    "full_self_pay": N_("Fully self-paid (outside the fund)"),
    "over_limit_self_pay": N_("Self-paid above price ceilings"),
    "pre_self_pay": N_("Self-paid first (class B share)"),
    "in_scope": N_("Within the fund's scope"),
    "deductible": N_("Deductible"),
    "pool_fund_pay": N_("Pool fund pays"),
    "supplementary_pay": N_("Supplementary insurance pays"),
    "assistance_pay": N_("Medical assistance pays"),
    "fund_pay_total": N_("Funds pay in total"),
    "personal_burden": N_("Personal share"),
    "account_pay": N_("Paid from the personal account"),
    "cash_pay": N_("Paid in cash"),
    "recoverable": N_("Advanced by the fund, to recover from a third party"),
}


RELATIONS: Final = {
    "spouse": N_("Spouse"),
    "parent": N_("Parent"),
    "child": N_("Child"),
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The message id for ``code`` (the code itself when it has none)."""
    if code is None:
        return ""
    return table.get(code, code)


def category_name(category: str, lang: Lang) -> str:
    names = CATEGORY_NAMES.get(category)
    if names is None:
        return category
    # the English name without its pinyin in parentheses (the API's label keeps it)
    return names[0] if lang == "zh" else names[1].split(" (", 1)[0]


def case_title(region: str, case: str, lang: Lang) -> str:
    """A reimbursement case's title from its region's rules (``中文 · English``)."""
    rules = rules_for(region).cases.get(case)
    if rules is None:
        return case
    zh, _, en = rules.title.partition(" · ")
    return zh if lang == "zh" or not en else en


# --- clearing and the fund dashboard (yibao.web.clearing, yibao.web.dashboard) -------------

CLEARING_STATES: Final = {"draft": N_("Draft"), "confirmed": N_("Confirmed")}

# The waterfall of a settlement (templates/_waterfall.html): what each step is.
WATERFALL_STEPS: Final = {
    "total": N_("Total bill"),
    "full_self_pay": N_("Class C and outside the fund (paid by the person)"),
    "over_limit_self_pay": N_("Above price ceilings (paid by the person)"),
    "pre_self_pay": N_("Class B share paid first by the person"),
    "in_scope": N_("Within the fund's scope"),
    "deductible": N_("Deductible (paid by the person)"),
    "band": N_("Band"),
    "pool_fund_pay": N_("Pool fund pays"),
    "supplementary_pay": N_("Supplementary insurance pays"),
    "assistance_pay": N_("Medical assistance pays"),
    "personal_burden": N_("Personal share"),
    "account_pay": N_("Paid from the personal account"),
    "cash_pay": N_("Paid in cash"),
}

PRINTED_DOCUMENTS: Final = {
    "filing_certificate": N_("Off-site medical treatment filing certificate"),
    "settlement_slip": N_("Settlement slip"),
    "claim_decision": N_("Reimbursement decision letter"),
    "claim_return": N_("Notice to complete a reimbursement claim"),
    "clearing_statement": N_("Off-site medical treatment clearing statement"),
}
