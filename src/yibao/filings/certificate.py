"""The filing certificate (备案凭证): a JSON document and a printable A4 PDF (fpdf2).

The JSON keeps every name in Chinese. The PDF embeds a CJK font when the machine has one
from a Debian package (``fonts-wqy-microhei``, ``fonts-wqy-zenhei``, ``fonts-noto-cjk``,
``fonts-arphic-uming``, ``fonts-droid-fallback``) or ``YIBAO_CJK_FONT`` names a font file;
otherwise labels are English with pinyin, and a Chinese value is shown by its code
(region code, hospital code, masked identity number) beside a pointer to the JSON.

Each certificate carries a verification code (验证码): a keyed digest of its filing
number under the platform's ``YIBAO_SECRET_KEY``, so a hospital shown a printed
certificate can check it (``GET /filings/verify``) without trusting the paper.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fpdf import FPDF

from yibao.filings.rules import CATEGORY_NAMES

__all__ = [
    "CATEGORY_NAMES",
    "certificate_pdf",
    "find_cjk_font",
    "verification_code",
    "verification_code_matches",
]

VERIFICATION_CODE_LENGTH = 8


def verification_code(number: str, secret: str) -> str:
    """The certificate's verification code: 8 characters of base32 (A-Z, 2-7), e.g.
    ``K3F92QXA``; the same number and secret always give the same code."""
    digest = hmac.new(
        secret.encode("utf-8"), f"filing-certificate:{number}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode("ascii")[:VERIFICATION_CODE_LENGTH]


def verification_code_matches(number: str, code: str, secret: str) -> bool:
    """Whether ``code`` is the certificate's; spaces, hyphens and case do not matter."""
    given = code.replace(" ", "").replace("-", "").upper()
    return hmac.compare_digest(given, verification_code(number, secret))


CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

# (key, Chinese label, transliterated label)
_FIELDS = (
    ("filing_number", "备案号", "Filing number (beian hao)"),
    ("category", "备案类别", "Category (beian leibie)"),
    ("person", "参保人", "Insured person (canbaoren)"),
    ("identity", "身份证号", "Identity number (shenfenzheng hao)"),
    ("insured_region", "参保地", "Insured region (canbaodi)"),
    ("destination", "就医地", "Destination (jiuyidi)"),
    ("validity", "有效期", "Valid (youxiaoqi)"),
    ("hospitals", "定点医院", "Hospitals (dingdian yiyuan)"),
    ("approved", "审批", "Approved (shenpi)"),
    ("cancelled", "注销", "Cancelled (zhuxiao)"),
    ("hotline", "电话备案", "Hotline approval (dianhua beian)"),
    ("verification", "验证码", "Verification code (yanzhengma)"),
)


def find_cjk_font() -> Path | None:
    """A CJK font file on this machine, or None."""
    override = os.environ.get("YIBAO_CJK_FONT")
    candidates = ([override] if override else []) + list(CJK_FONT_CANDIDATES)
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def _latin(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _values(cert: Mapping[str, Any], *, cjk: bool) -> list[tuple[str, str]]:
    """The printed value of each field, Chinese when the font allows, codes otherwise."""
    person = cert["person"]
    insured, dest = cert["insured_region"], cert["destination"]

    def named(name: str, code: str) -> str:
        return f"{name} ({code})" if cjk or _latin(name) else code

    zh, en = CATEGORY_NAMES[cert["category"]]
    hospitals = cert["hospitals"]
    if cert.get("all_networked_hospitals"):
        hospital_text = (
            "就医地全部联网定点医院"
            if cjk
            else "every networked designated hospital of the destination"
        )
    else:
        hospital_text = "; ".join(
            named(h["name"], h["code"]) + f" L{h['level']}" for h in hospitals
        )
    valid_to = cert["valid_to"] or ("长期" if cjk else "open-ended")
    rows = {
        "filing_number": cert["filing_number"],
        "category": zh if cjk else en,
        "person": person["name"] if cjk or _latin(person["name"]) else "(see JSON)",
        "identity": person["identity_number_masked"],
        "insured_region": named(insured["name"], insured["code"]),
        "destination": named(dest["name"], dest["code"]),
        "validity": f"{cert['valid_from']} - {valid_to}",
        "hospitals": hospital_text,
        "approved": f"{cert['approved_on']}",
    }
    if cert.get("cancelled_on"):
        back = cert.get("local_use_from")
        rows["cancelled"] = (
            f"{cert['cancelled_on']}，次日（{back}）起恢复参保地就医"
            if cjk
            else f"{cert['cancelled_on']}; the card works at home again from {back}"
        )
    if cert.get("hotline"):
        call = cert["hotline"]
        rows["hotline"] = f"{call['reference']} @ {call['called_at']}"
    if cert.get("verification_code"):
        rows["verification"] = cert["verification_code"]
    labels = [(key, z if cjk else e) for key, z, e in _FIELDS if key in rows]
    return [(label, rows[key]) for key, label in labels]


def certificate_pdf(cert: Mapping[str, Any]) -> bytes:
    """Render the certificate JSON as a one-page A4 PDF."""
    font = find_cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_title(f"Filing certificate {cert['filing_number']}")
    pdf.set_author("Yibao")
    pdf.add_page()
    if font is not None:
        pdf.add_font("cjk", "", str(font))
        family = "cjk"
    else:
        family = "helvetica"
    cjk = font is not None
    pdf.set_font(family, size=16)
    title = (
        "异地就医备案凭证"
        if cjk
        else "Off-site Medical Treatment Filing Certificate (Yidi Jiuyi Beian Pingzheng)"
    )
    pdf.multi_cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, size=11)
    for label, value in _values(cert, cjk=cjk):
        pdf.set_x(pdf.l_margin)
        pdf.cell(62 if cjk else 76, 8, label, border=1)
        pdf.multi_cell(0, 8, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, size=9)
    note = (
        "凭本凭证及社会保障卡在备案有效期内于就医地联网定点医疗机构直接结算。"
        if cjk
        else "Show this certificate with the social security card at a networked designated "
        "institution of the destination during the validity. Names in Chinese: see the JSON "
        f"certificate of {cert['filing_number']}."
    )
    pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
