"""Letters a filing's applicant signs on the pages, as PDFs stored with the filing's
documents: the personal commitment letter (个人承诺书) that stands in for the residence
proof where the insured region allows it, and the application form (备案申请表) with the
contact details given on the form.

Rendered with fpdf2 and the CJK font of :func:`yibao.filings.certificate.find_cjk_font`
(English with the codes when the machine has none)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from yibao.filings.certificate import find_cjk_font


@dataclass(frozen=True, slots=True)
class Contact:
    """How the agency reaches the applicant during the review (联系方式)."""

    phone: str
    address: str


def _pdf(
    title: tuple[str, str], rows: Sequence[tuple[str, str, str]], body: tuple[str, str]
) -> bytes:
    """A one-page A4 letter: a title, labelled rows, a paragraph; Chinese when a CJK font
    is installed, English otherwise (each text is given as ``(中文, English)``)."""
    font = find_cjk_font()
    cjk = font is not None
    pdf = FPDF(format="A4")
    pdf.set_author("Yibao")
    pdf.set_title(title[1])
    pdf.add_page()
    if font is not None:
        pdf.add_font("cjk", "", str(font))
        family = "cjk"
    else:
        family = "helvetica"

    def say(zh: str, en: str) -> str:
        if cjk:
            return zh
        try:
            en.encode("latin-1")
        except UnicodeEncodeError:
            return en.encode("latin-1", "replace").decode("latin-1")
        return en

    pdf.set_font(family, size=16)
    pdf.multi_cell(0, 10, say(*title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, size=11)
    for zh, en, value in rows:
        pdf.set_x(pdf.l_margin)
        pdf.cell(50, 8, say(zh, en), border=1)
        pdf.multi_cell(0, 8, say(value, value), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.multi_cell(0, 6, say(*body), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def commitment_letter_pdf(
    *,
    person_name: str,
    identity_masked: str,
    destination_name: str,
    category_name: str,
    signer: str,
    contact: Contact,
    signed_on: date,
) -> bytes:
    """个人承诺书: the person promises that they live at the destination (in place of the
    residence proof), signed by typing their name."""
    rows = [
        ("参保人", "Insured person", person_name),
        ("身份证号", "Identity number", identity_masked),
        ("备案类别", "Category", category_name),
        ("就医地", "Destination", destination_name),
        ("联系电话", "Phone", contact.phone),
        ("居住地址", "Address", contact.address),
        ("承诺人签名", "Signed by", signer),
        ("承诺日期", "Signed on", signed_on.isoformat()),
    ]
    body = (
        "本人承诺在上述就医地长期居住，所填信息真实、准确、完整。如有虚假，本人愿意承担相应"
        "责任，由此发生的医疗费用由本人承担，并退还已由医保基金支付的费用。",
        "I declare that I live at the destination above for the long term and that the"
        " information given is true, accurate and complete. If it is not, I bear the"
        " consequences, pay my medical costs myself and repay what the fund paid.",
    )
    return _pdf(("个人承诺书", "Personal commitment letter"), rows, body)


def application_form_pdf(
    *,
    person_name: str,
    identity_masked: str,
    insured_region_name: str,
    destination_name: str,
    category_name: str,
    hospitals: Sequence[str],
    contact: Contact,
    applied_on: date,
) -> bytes:
    """备案申请表: what was applied for, with the applicant's contact details."""
    rows = [
        ("参保人", "Insured person", person_name),
        ("身份证号", "Identity number", identity_masked),
        ("参保地", "Insured region", insured_region_name),
        ("就医地", "Destination", destination_name),
        ("备案类别", "Category", category_name),
        ("定点医院", "Hospitals", "、".join(hospitals) or "就医地联网定点医疗机构"),
        ("联系电话", "Phone", contact.phone),
        ("居住地址", "Address", contact.address),
        ("申请日期", "Applied on", applied_on.isoformat()),
    ]
    body = (
        "本表由异地就医备案申请时生成，随申请材料一并提交参保地医保经办机构审核。",
        "Generated with the off-site filing application; reviewed with its documents by the"
        " insured region's centre.",
    )
    return _pdf(("异地就医备案申请表", "Off-site filing application form"), rows, body)
