"""The one vocabulary of document kinds: pure, complete, and used by every policy file."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from yibao.documents.kinds import (
    FORMER_NAMES,
    KIND_NAMES,
    KNOWN_KINDS,
    DocumentKind,
    parse_kind,
)
from yibao.errors import ValidationFailed
from yibao.filings.policy import filing_policy_for, known_regions
from yibao.reimbursements.rules import rules_for

KINDS_PY = Path(__file__).resolve().parents[2] / "src" / "yibao" / "documents" / "kinds.py"


def test_kinds_import_only_the_standard_library_and_the_error_tree() -> None:
    # filings/rules.py (pure rules) reads the vocabulary
    tree = ast.parse(KINDS_PY.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            assert top in sys.stdlib_module_names or node.module == "yibao.errors", node.module
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)


def test_every_kind_has_its_names_and_former_names_are_not_kinds() -> None:
    assert set(KIND_NAMES) == set(DocumentKind) and len(set(KNOWN_KINDS)) == len(KNOWN_KINDS)
    assert DocumentKind.IDENTITY_COPY.chinese == "身份证复印件"
    assert DocumentKind.RECEIPT.chinese == "收据、发票"
    assert not set(FORMER_NAMES) & set(KNOWN_KINDS)


def test_unknown_and_former_names_are_refused_with_the_known_ones() -> None:
    assert parse_kind("receipt") is DocumentKind.RECEIPT
    with pytest.raises(ValidationFailed) as unknown:
        parse_kind("selfie")
    assert unknown.value.code == "upload.document_type_unknown"
    assert "'selfie'" in unknown.value.message and "identity_copy" in unknown.value.message
    assert unknown.value.extra["known"] == list(KNOWN_KINDS)
    with pytest.raises(ValidationFailed) as former:
        parse_kind("prescriptions")
    assert "'prescriptions' is now called 'prescription'" in former.value.message
    assert former.value.extra["renamed_to"] == "prescription"


def test_policy_files_name_only_known_kinds() -> None:
    for region in [*known_regions(), "000000"]:
        policy = filing_policy_for(region)
        for rules in policy.categories.values():
            assert set(rules.documents) <= set(KNOWN_KINDS)
    claims = rules_for("000000")
    for case in claims.cases.values():
        for listed in case.by_setting.values():
            assert set(listed) <= set(KNOWN_KINDS)
