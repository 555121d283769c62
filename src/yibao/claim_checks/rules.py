"""The audit checks' data: item restrictions by sex, age and daily frequency.

The engine's catalog CSV format is fixed, so what the catalog says about who may receive
an item lives beside it in ``data/claim_check_rules/item_restrictions.csv``
(``region,code,sex,min_age,max_age,max_per_day``, every column after ``code`` optional);
the default daily limit comes from ``data/claim_check_rules/<region>.yaml`` (or
``default.yaml``).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from typing import Any

import yaml

from yibao.claim_checks.checks import AuditRules, ItemRestriction
from yibao.data import demo_path
from yibao.errors import InvalidInput

COLUMNS = ("region", "code", "sex", "min_age", "max_age", "max_per_day")
RULES_DIR = demo_path("claim_check_rules")


def _optional_int(value: str | None, source: str, where: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(source, where, f"expected a whole number, got {text!r}")
    return int(text)


def parse_restrictions_text(text: str, source: str) -> list[ItemRestriction]:
    """Read the restrictions CSV; any mistake is an :class:`InvalidInput` naming the row."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"region", "code"} <= set(reader.fieldnames):
        raise InvalidInput(source, "header", f"expected columns {', '.join(COLUMNS)}")
    unknown = set(reader.fieldnames) - set(COLUMNS)
    if unknown:
        raise InvalidInput(source, "header", f"unknown columns {sorted(unknown)}")
    items: list[ItemRestriction] = []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(reader, start=2):
        where = f"line {number}"
        region = (row.get("region") or "").strip()
        code = (row.get("code") or "").strip()
        if not region or not code:
            raise InvalidInput(source, where, "region and code are required")
        if (region, code) in seen:
            raise InvalidInput(source, where, f"({region}, {code}) appears twice")
        seen.add((region, code))
        sex = (row.get("sex") or "").strip() or None
        if sex not in (None, "M", "F"):
            raise InvalidInput(source, where, f"sex must be M or F, got {sex!r}")
        min_age = _optional_int(row.get("min_age"), source, f"{where}, min_age")
        max_age = _optional_int(row.get("max_age"), source, f"{where}, max_age")
        if min_age is not None and max_age is not None and min_age > max_age:
            raise InvalidInput(source, where, "min_age is above max_age")
        max_per_day = _optional_int(row.get("max_per_day"), source, f"{where}, max_per_day")
        if max_per_day == 0:
            raise InvalidInput(source, f"{where}, max_per_day", "must be at least 1")
        items.append(ItemRestriction(region, code, sex, min_age, max_age, max_per_day))
    return items


def build_rules(items: list[ItemRestriction], *, default_max_per_day: int | None) -> AuditRules:
    return AuditRules(
        restrictions={(item.region, item.code): item for item in items},
        default_max_per_day=default_max_per_day,
    )


@lru_cache(maxsize=64)
def audit_rules_for(insured_region: str) -> AuditRules:
    """The restrictions table with the insured region's default daily limit."""
    path = RULES_DIR / "item_restrictions.csv"
    items = parse_restrictions_text(path.read_text(encoding="utf-8"), path.name)
    policy_path = RULES_DIR / f"{insured_region}.yaml"
    if not policy_path.is_file():
        policy_path = RULES_DIR / "default.yaml"
    limit = parse_limits_text(policy_path.read_text(encoding="utf-8"), policy_path.name)
    return build_rules(items, default_max_per_day=limit)


def parse_limits_text(text: str, source: str) -> int | None:
    """A region's claim-check settings: ``default_max_per_day`` (a positive whole number,
    or absent for no default limit)."""
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(source, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(source, "", "expected a mapping")
    unknown = set(data) - {"default_max_per_day"}
    if unknown:
        raise InvalidInput(source, "", f"unknown keys {sorted(unknown)}")
    limit = data.get("default_max_per_day")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidInput(source, "default_max_per_day", "expected a positive integer")
    return limit
