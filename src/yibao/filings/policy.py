"""Filing policy data per insured region, read from ``yibao/data/filing_rules/<region>.yaml``.

What varies between regions is data, not code: the categories a region offers and who
fits each (scheme, person type, age, sex, employment), validity and lock period per
category, the documents each category requires, whether the chosen hospitals stamp the
form (seed 000), whether a personal commitment letter may replace the residence proof,
whether hospitals are chosen (and how many), and whether the card is suspended locally
while a filing applies (seed 001) or still works (national rule). A region without its own
file gets ``default.yaml``. The vocabulary of categories (and whether each is long-term)
is the platform's (:data:`yibao.filings.rules.CATEGORIES`): the settlement engine and the
database know it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from yibao.documents.kinds import is_known_kind, unknown_kind_message
from yibao.errors import InvalidInput
from yibao.filings.rules import CATEGORIES, LONG_TERM_CATEGORIES, CategoryFit

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "filing_rules"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FitRules(_Strict):
    """Who a category is for (every key optional; an absent key does not restrict)."""

    schemes: tuple[Literal["employee", "resident"], ...] = ()
    person_types: tuple[str, ...] = ()
    min_age: int | None = Field(default=None, ge=0, le=150)
    max_age: int | None = Field(default=None, ge=0, le=150)
    sexes: tuple[Literal["M", "F"], ...] = ()
    # True: posted by an insured unit (派驻); False: no employing unit; None: either.
    employed_by_unit: bool | None = None

    @model_validator(mode="after")
    def _ages_in_order(self) -> FitRules:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(f"min_age {self.min_age} is above max_age {self.max_age}")
        return self

    def as_rule(self) -> CategoryFit:
        return CategoryFit(
            schemes=tuple(self.schemes),
            person_types=self.person_types,
            min_age=self.min_age,
            max_age=self.max_age,
            sexes=tuple(self.sexes),
            employed_by_unit=self.employed_by_unit,
        )


class CategoryRules(_Strict):
    validity_months: int | None = Field(ge=1, le=120)
    # No change (hospitals, destination, category) before; cancelling is always possible.
    lock_months: int = Field(default=0, ge=0, le=120)
    documents: tuple[str, ...]
    fits: FitRules = FitRules()
    # Seed 000: each chosen hospital's medical insurance office stamps the form (盖章)
    # before the agency reviews it. Needs hospital choice for the category.
    hospital_stamp: bool = False

    @field_validator("documents")
    @classmethod
    def _known_documents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [d for d in value if not is_known_kind(d)]
        if unknown:
            raise ValueError(unknown_kind_message(unknown[0]))
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
    def _known_categories(cls, value: dict[str, CategoryRules]) -> dict[str, CategoryRules]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown or not value:
            raise ValueError(
                f"unknown categories {unknown}; the platform knows {list(CATEGORIES)}"
                if unknown
                else "a region offers at least one category"
            )
        return value

    @model_validator(mode="after")
    def _stamps_need_a_choice(self) -> FilingPolicy:
        for name, rules in self.categories.items():
            if rules.hospital_stamp and not self.hospital_choice.applies_to(name):
                raise ValueError(
                    f"categories.{name}.hospital_stamp needs hospital_choice for {name}"
                    " (only chosen hospitals stamp the form)"
                )
        return self

    def offers(self, name: str) -> bool:
        return name in self.categories

    def category(self, name: str) -> CategoryRules:
        """The rules of a category the region offers (see :meth:`offers`)."""
        return self.categories[name]

    def needs_hospital_stamps(self, name: str) -> bool:
        return self.offers(name) and self.category(name).hospital_stamp


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
