"""The printable certificate: a CJK font when the machine has one, English labels otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from yibao.filings import certificate
from yibao.filings.certificate import certificate_pdf, find_cjk_font

CERT: dict[str, Any] = {
    "filing_number": "BA110000-2026-000001",
    "category": "resettled_retiree",
    "person": {"name": "王退休", "identity_number_masked": "110105********0014"},
    "insured_region": {"code": "110000", "name": "北京市"},
    "destination": {"code": "460200", "name": "三亚市"},
    "valid_from": "2026-03-01",
    "valid_to": "2027-02-28",
    "approved_on": "2026-03-01",
    "all_networked_hospitals": False,
    "hospitals": [{"code": "H460200001", "name": "三亚市人民医院", "level": 3}],
    "hotline": {"reference": "12393-1", "called_at": "2026-03-01T08:00:00+08:00"},
}


def test_without_a_cjk_font_labels_are_transliterated_and_codes_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(certificate, "find_cjk_font", lambda: None)
    rows = dict(certificate._values(CERT, cjk=False))
    assert rows["Destination (jiuyidi)"] == "460200"
    assert rows["Insured person (canbaoren)"] == "(see JSON)"
    assert rows["Hospitals (dingdian yiyuan)"] == "H460200001 L3"
    assert rows["Hotline approval (dianhua beian)"].startswith("12393-1 @ ")
    pdf = certificate_pdf(CERT)
    assert pdf.startswith(b"%PDF") and b"BA110000-2026-000001" in pdf  # the title metadata


def test_with_a_cjk_font_names_stay_chinese() -> None:
    rows = dict(certificate._values(CERT, cjk=True))
    assert rows["就医地"] == "三亚市 (460200)"
    assert rows["参保人"] == "王退休"
    assert rows["备案类别"] == "异地安置退休人员"


def test_font_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(certificate, "CJK_FONT_CANDIDATES", ())
    monkeypatch.setenv("YIBAO_CJK_FONT", str(tmp_path / "missing.ttf"))
    assert find_cjk_font() is None
    font = tmp_path / "some.ttf"
    font.write_bytes(b"x")
    monkeypatch.setenv("YIBAO_CJK_FONT", str(font))
    assert find_cjk_font() == font
