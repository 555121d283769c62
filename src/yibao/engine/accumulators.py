"""A person's year (累计) in whole fen, and one claim's contribution to it.

The engine measures a claim against :class:`~yibao.engine.models.YearAccumulators` in
``Decimal`` yuan; a year is kept as flat whole-fen values (one per setting and counter, the
supplementary items as JSON text, a version). This module converts between the two and
does the arithmetic a settlement and its reversal need:

- :func:`accumulators_of`: the engine's year from the flat values (a fresh year for none);
- :func:`accumulator_delta`: what one claim added (after − before), nested whole fen;
- :func:`apply_delta`: the flat values after adding (``sign=1``) or taking away
  (``sign=-1``) one claim's contribution, so a reversal undoes exactly that claim and the
  claims settled after it stay counted.

Pure: standard library and :mod:`yibao.money` only; the values come from any object with
the flat names as attributes (a database row, a stored model), never from a query here.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from yibao.money import from_fen, to_fen

from .models import SETTINGS, SettingAccumulator, SupplementaryAccumulator, YearAccumulators

# Per setting, the whole-fen counters kept as ``{setting}_{counter}_fen``; admissions are a
# count kept as ``{setting}_admissions``.
SETTING_COUNTERS = ("in_scope_cum", "deductible_met", "pool_paid_cum")
_SUPPLEMENTARY_ZERO = {"base_cum": 0, "paid_cum": 0}


class StoredYear(Protocol):
    """The flat whole-fen values of a stored year. Besides these, the object has
    ``{setting}_{counter}_fen`` and ``{setting}_admissions`` for every setting and counter
    (read by name)."""

    @property
    def year(self) -> int: ...

    @property
    def supplementary(self) -> str: ...

    @property
    def assistance_paid_cum_fen(self) -> int: ...

    @property
    def version(self) -> int: ...


def _setting_of(row: StoredYear, setting: str) -> SettingAccumulator:
    return SettingAccumulator(
        in_scope_cum=from_fen(getattr(row, f"{setting}_in_scope_cum_fen")),
        deductible_met=from_fen(getattr(row, f"{setting}_deductible_met_fen")),
        pool_paid_cum=from_fen(getattr(row, f"{setting}_pool_paid_cum_fen")),
        admissions=getattr(row, f"{setting}_admissions"),
    )


def accumulators_of(row: StoredYear | None, *, year: int) -> YearAccumulators:
    """The engine's view of a stored year (a fresh year when there is none)."""
    if row is None:
        return YearAccumulators(year=year)
    supplementary = {
        name: SupplementaryAccumulator(
            base_cum=from_fen(values["base_cum"]), paid_cum=from_fen(values["paid_cum"])
        )
        for name, values in json.loads(row.supplementary or "{}").items()
    }
    return YearAccumulators(
        year=row.year,
        inpatient=_setting_of(row, "inpatient"),
        outpatient=_setting_of(row, "outpatient"),
        supplementary=supplementary,
        assistance_paid_cum=from_fen(row.assistance_paid_cum_fen),
    )


def accumulators_fen(acc: YearAccumulators) -> dict[str, Any]:
    """A year's accumulators as nested whole fen (admissions stay a count)."""
    return {
        setting: {
            "in_scope_cum": to_fen(acc.setting(setting).in_scope_cum),
            "deductible_met": to_fen(acc.setting(setting).deductible_met),
            "pool_paid_cum": to_fen(acc.setting(setting).pool_paid_cum),
            "admissions": acc.setting(setting).admissions,
        }
        for setting in SETTINGS
    } | {
        "supplementary": {
            name: {"base_cum": to_fen(s.base_cum), "paid_cum": to_fen(s.paid_cum)}
            for name, s in sorted(acc.supplementary.items())
        },
        "assistance_paid_cum": to_fen(acc.assistance_paid_cum),
    }


def accumulator_delta(before: YearAccumulators, after: YearAccumulators) -> dict[str, Any]:
    """One claim's own contribution to the year (after − before), in fen."""
    b, a = accumulators_fen(before), accumulators_fen(after)
    delta: dict[str, Any] = {
        setting: {k: a[setting][k] - b[setting][k] for k in a[setting]} for setting in SETTINGS
    }
    names = set(a["supplementary"]) | set(b["supplementary"])
    delta["supplementary"] = {
        name: {
            k: a["supplementary"].get(name, _SUPPLEMENTARY_ZERO)[k]
            - b["supplementary"].get(name, _SUPPLEMENTARY_ZERO)[k]
            for k in _SUPPLEMENTARY_ZERO
        }
        for name in sorted(names)
    }
    delta["assistance_paid_cum"] = a["assistance_paid_cum"] - b["assistance_paid_cum"]
    return delta


def apply_delta(row: StoredYear, delta: dict[str, Any], *, sign: int) -> dict[str, Any]:
    """A stored year's new flat values after adding (sign=1) or taking away (sign=-1)
    one claim's contribution; ``version`` goes up by one."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        part = delta[setting]
        for key in SETTING_COUNTERS:
            column = f"{setting}_{key}_fen"
            values[column] = getattr(row, column) + sign * part[key]
        column = f"{setting}_admissions"
        values[column] = getattr(row, column) + sign * part["admissions"]
    supplementary = json.loads(row.supplementary or "{}")
    for name, part in delta["supplementary"].items():
        current = supplementary.setdefault(name, dict(_SUPPLEMENTARY_ZERO))
        for key in _SUPPLEMENTARY_ZERO:
            current[key] += sign * part[key]
    values["supplementary"] = json.dumps(supplementary, sort_keys=True)
    values["assistance_paid_cum_fen"] = (
        row.assistance_paid_cum_fen + sign * delta["assistance_paid_cum"]
    )
    values["version"] = row.version + 1
    return values
