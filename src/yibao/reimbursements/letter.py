"""The decision letter (报销决定书): a printable A4 PDF of an approved, paid or rejected claim.

Rendered from :func:`yibao.reimbursements.service.decision` data with fpdf2. With a CJK
font on the machine (see :func:`yibao.filings.certificate.find_cjk_font`) names print in
Chinese; otherwise labels are English and a Chinese value is shown by its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fpdf import FPDF

from yibao.filings.certificate import find_cjk_font

CASE_LABELS = {
    "offsite_no_direct": "Off-site treatment not settled directly",
    "emergency_after_discharge": "Emergency, filed after discharge",
    "outpatient_paid_in_full": "Outpatient costs paid in full",
    "card_not_carried": "Insurance card not carried",
}
METHOD_LABELS = {
    "bank_account": "Bank account",
    "passbook": "Passbook (cunzhe)",
    "family_cash": "Cash collected by a family member",
}
_MONEY_ROWS = (
    ("total", "Total medical costs"),
    ("full_self_pay", "Self-paid: not covered (class C)"),
    ("over_limit_self_pay", "Self-paid: above price ceilings"),
    ("pre_self_pay", "Self-paid first (class B share)"),
    ("in_scope", "Covered amount"),
    ("deductible", "Deductible"),
    ("pool_fund_pay", "Pool fund pays"),
    ("supplementary_pay", "Supplementary insurance pays"),
    ("assistance_pay", "Medical assistance pays"),
    ("account_pay", "Personal account pays"),
    ("cash_pay", "Personal cash share"),
)


def _printable(text: str, *, cjk: bool) -> str:
    if cjk:
        return text
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return "(see the JSON decision)"
    return text


def letter_pdf(decision: Mapping[str, Any]) -> bytes:
    """One A4 page: who, what, the decision and the money, line by line."""
    font = find_cjk_font()
    cjk = font is not None
    pdf = FPDF(format="A4")
    pdf.set_title(f"Reimbursement decision {decision['claim_id']}")
    pdf.set_author("Yibao")
    pdf.add_page()
    family = "helvetica"
    if font is not None:
        pdf.add_font("cjk", "", str(font))
        family = "cjk"
    pdf.set_font(family, size=15)
    title = "零星报销审核决定书" if cjk else "Manual Reimbursement Decision (Lingxing Baoxiao)"
    pdf.multi_cell(0, 9, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(family, size=10)
    person = decision["person"]
    institution = decision["institution"]
    approved = decision["state"] in ("approved", "paid")
    rows: list[tuple[str, str]] = [
        ("Claim", f"R{decision['claim_id']}  ({decision['state']})"),
        ("Decided", str(decision["decided_at"] or "")),
        ("Insured person", _printable(person["name"], cjk=cjk)),
        ("Identity number", person["identity_number_masked"]),
        ("Insured region", decision["insured_region"]),
        (
            "Hospital",
            f"{_printable(institution['name'] or '', cjk=cjk)} [{institution['code']}],"
            f" region {institution['region']}, level {institution['level']}",
        ),
        ("Case", CASE_LABELS.get(decision["case_type"], decision["case_type"])),
        (
            "Treatment",
            f"{decision['setting']} "
            + (
                f"{decision['admitted_on']} to {decision['treatment_date']}"
                if decision["admitted_on"]
                else str(decision["treatment_date"])
            ),
        ),
        ("Diagnoses (ICD-10)", ", ".join(decision["diagnoses"])),
        (
            "Invoices",
            "; ".join(f"{i['number']}: {i['amount']}" for i in decision["invoices"]),
        ),
        ("Filing on that date", decision["filing_type"] or "none"),
    ]
    settlement = decision.get("settlement")
    if approved and settlement:
        rows.append(("Off-site status", str(settlement.get("offsite_status"))))
        rows.append(("Policy", str(settlement.get("policy_id"))))
        rows.extend((label, str(settlement.get(key, ""))) for key, label in _MONEY_ROWS)
        rows.append(("Reimbursed to you", str(decision["payout"])))
        method = METHOD_LABELS.get(decision["payout_method"] or "", "")
        if decision.get("payout_account_masked"):
            method += f" {decision['payout_account_masked']}"
        rows.append(("Paid by", method))
        collector = decision.get("collector")
        if collector:
            rows.append(
                (
                    "Collected by",
                    f"{_printable(collector['name'], cjk=cjk)} ({collector['relation']}),"
                    f" {collector['identity_number_masked']}",
                )
            )
        if decision.get("paid_at"):
            rows.append(("Paid on", f"{decision['paid_at']} ref {decision['payout_reference']}"))
    else:
        rows.append(("Decision", "Rejected"))
        rows.append(("Reason", _printable(decision.get("rejection_reason") or "", cjk=cjk)))
    for label, value in rows:
        pdf.set_x(pdf.l_margin)
        pdf.cell(55, 7, label, border=1)
        pdf.multi_cell(0, 7, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(family, size=8)
    pdf.multi_cell(
        0,
        4,
        "Computed with the insured region's policy and the treatment region's catalog, as for"
        " a direct settlement. You may ask the insured region's medical insurance center to"
        " review this decision.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
