"""Filing policy data per insured region, read from ``yibao/data/filing_rules/<region>.yaml``.

What varies between regions is data, not code: validity and lock period per category,
the documents each category requires, whether a personal commitment letter may replace
the residence proof, whether hospitals are chosen (and how many), and whether the card
is suspended locally while a filing applies (seed 001) or still works (national rule).
A region without its own file gets ``default.yaml``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yibao.errors import InvalidInput
from yibao.filings.rules import CATEGORIES, DOCUMENT_TYPES, LONG_TERM_CATEGORIES

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "filing_rules"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRules(_Strict):
    validity_months: int | None = Field(ge=1, le=120)
    lock_months: int = Field(default=0, ge=0, le=120)
    documents: tuple[str, ...]

    @field_validator("documents")
    @classmethod
    def _known_documents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [d for d in value if d not in DOCUMENT_TYPES]
        if unknown:
            raise ValueError(f"unknown document types {unknown}; known: {list(DOCUMENT_TYPES)}")
        return value


class HospitalChoiceRules(_Strict):
    required: bool
    max_count: int = Field(ge=0, le=10)
    # Categories whose filings name hospitals; others cover every networked hospital.
    categories: tuple[str, ...] = LONG_TERM_CATEGORIES

    def applies_to(self, category: str) -> bool:
        return self.required and category in self.categories


class FilingPolicy(_Strict):
    """One insured region's filing rules."""

    region: str = Field(pattern=r"^\d{6}$")
    name: str
    # None: the platform setting ``policy_local_use_while_filed`` decides.
    local_use_while_filed: Literal["allowed", "suspended"] | None = None
    commitment_letter_replaces_residence_proof: bool
    hospital_choice: HospitalChoiceRules
    referral_min_level: int = Field(default=2, ge=1, le=3)
    emergency_max_days_after: int = Field(default=90, ge=0)
    categories: dict[str, CategoryRules]

    @field_validator("categories")
    @classmethod
    def _all_categories(cls, value: dict[str, CategoryRules]) -> dict[str, CategoryRules]:
        missing = [c for c in CATEGORIES if c not in value]
        unknown = [c for c in value if c not in CATEGORIES]
        if missing or unknown:
            raise ValueError(f"categories must be exactly {list(CATEGORIES)}")
        return value

    def category(self, name: str) -> CategoryRules:
        return self.categories[name]


def parse_filing_policy(text: str, source: str) -> FilingPolicy:
    """Read one YAML file; errors name the file, the field and the reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(source, "", f"not valid YAML: {exc}") from exc
    try:
        return FilingPolicy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(source, where, first["msg"]) from exc


@cache
def _load(path: Path) -> FilingPolicy:
    return parse_filing_policy(path.read_text(encoding="utf-8"), str(path.name))


def filing_policy_for(region: str) -> FilingPolicy:
    """The insured region's rules, or the national defaults (with the region filled in)."""
    path = RULES_DIR / f"{region}.yaml"
    if path.is_file():
        return _load(path)
    return _load(RULES_DIR / "default.yaml").model_copy(update={"region": region})


def known_regions() -> list[str]:
    return sorted(p.stem for p in RULES_DIR.glob("*.yaml") if p.stem != "default")
