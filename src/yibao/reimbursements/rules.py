"""Reimbursement policy data: which documents each case requires.

Read from ``yibao/data/reimbursement_rules/``: ``<region>.yaml`` when the insured region
publishes its own list, else ``default.yaml``. The data is small and read-only, so each
file is parsed once per process. Documents are named by the platform's one vocabulary
(:mod:`yibao.documents.kinds`), shared with filings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from yibao.documents.kinds import KIND_NAMES, is_known_kind, unknown_kind_message
from yibao.errors import InvalidInput, ValidationFailed

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "reimbursement_rules"
CASES = (
    "offsite_no_direct",
    "emergency_after_discharge",
    "outpatient_paid_in_full",
    "card_not_carried",
)
SETTINGS = ("inpatient", "outpatient")


@dataclass(frozen=True, slots=True)
class CaseRules:
    title: str
    by_setting: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class ReimbursementRules:
    source: str
    documents: Mapping[str, str]  # every known kind and its names
    cases: Mapping[str, CaseRules]
    by_filing_type: Mapping[str, tuple[str, ...]]

    def required_documents(self, *, case: str, setting: str, filing_type: str | None) -> list[str]:
        """The documents the case needs, in policy order, without repeats."""
        rules = self.cases.get(case)
        if rules is None:
            raise ValidationFailed(
                f"unknown reimbursement case {case!r}; known: {', '.join(self.cases)}",
                code="reimbursement.unknown_case",
            )
        if setting not in rules.by_setting:
            raise ValidationFailed(
                f"case {case!r} does not cover {setting} treatment",
                code="reimbursement.case_setting",
            )
        wanted = list(rules.by_setting[setting])
        for extra in self.by_filing_type.get(filing_type or "", ()):
            if extra not in wanted:
                wanted.append(extra)
        return wanted


def _str_list(value: Any, source: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(source, where, "expected a list of document kinds")
    for name in value:
        if not is_known_kind(name):
            raise InvalidInput(source, where, unknown_kind_message(name))
    return tuple(value)


def parse_rules_text(text: str, source: str) -> ReimbursementRules:
    """Read a rules file; any mistake is an :class:`InvalidInput` naming the place."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(source, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(source, "", "expected a mapping")
    if "documents" in data:
        raise InvalidInput(
            source,
            "documents",
            "document kinds are the platform's own (yibao.documents.kinds); remove this key",
        )
    unknown = set(data) - {"cases", "by_filing_type"}
    if unknown:
        raise InvalidInput(source, "", f"unknown keys {sorted(unknown)}")
    docs = {str(kind): f"{name.chinese} · {name.english}" for kind, name in KIND_NAMES.items()}
    cases_raw = data.get("cases")
    if not isinstance(cases_raw, dict) or not cases_raw:
        raise InvalidInput(source, "cases", "expected a mapping of cases")
    cases: dict[str, CaseRules] = {}
    for name, body in cases_raw.items():
        if not isinstance(body, dict):
            raise InvalidInput(source, f"cases.{name}", "expected a mapping")
        by_setting = {
            setting: _str_list(body[setting], source, f"cases.{name}.{setting}")
            for setting in SETTINGS
            if setting in body
        }
        extra = set(body) - {"title", *SETTINGS}
        if extra:
            raise InvalidInput(source, f"cases.{name}", f"unknown keys {sorted(extra)}")
        cases[str(name)] = CaseRules(title=str(body.get("title", name)), by_setting=by_setting)
    by_filing_raw = data.get("by_filing_type") or {}
    if not isinstance(by_filing_raw, dict):
        raise InvalidInput(source, "by_filing_type", "expected a mapping")
    by_filing = {
        str(k): _str_list(v, source, f"by_filing_type.{k}") for k, v in by_filing_raw.items()
    }
    return ReimbursementRules(
        source=source,
        documents=docs,
        cases=cases,
        by_filing_type=by_filing,
    )


@lru_cache(maxsize=64)
def rules_for(region: str) -> ReimbursementRules:
    """The insured region's own rules file, or the default."""
    path = RULES_DIR / f"{region}.yaml"
    if not path.is_file():
        path = RULES_DIR / "default.yaml"
    return parse_rules_text(path.read_text(encoding="utf-8"), path.name)
