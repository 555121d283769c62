"""Builders for engine tests: small policies, catalogs and claims with readable defaults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from yibao.engine.models import (
    AccountRules,
    Assistance,
    Band,
    Catalog,
    CatalogItem,
    Claim,
    ClaimLine,
    Deductible,
    FilingInfo,
    InstitutionInfo,
    OffsiteRules,
    PersonInfo,
    Policy,
    SettingRules,
    Supplementary,
    SupplementaryBand,
)

D = Decimal
BJ, SANYA, BAODING = "110000", "460200", "130600"


def lv(ratio: str) -> dict[int, Decimal]:
    return {1: D(ratio), 2: D(ratio), 3: D(ratio)}


def rules(
    *,
    deductible: Deductible | None = None,
    bands: list[tuple[str | None, str]] | None = None,
    cap: str | None = None,
    basis: str = "annual",
) -> SettingRules:
    return SettingRules(
        deductible=deductible or Deductible(mode="annual", amount=D(0)),
        bands=tuple(
            Band(up_to=None if up is None else D(up), ratio=lv(r))
            for up, r in (bands or [(None, "1")])
        ),
        band_basis=basis,  # type: ignore[arg-type]
        annual_cap=None if cap is None else D(cap),
    )


BEIJING_INPATIENT = rules(
    deductible=Deductible(
        mode="per_admission",
        by_level={1: D(1300), 2: D(1300), 3: D(1300)},
        later_admissions_factor=D("0.5"),
    ),
    bands=[("30000", "0.85"), ("40000", "0.90"), (None, "0.95")],
)


def policy(**kw: Any) -> Policy:
    base: dict[str, Any] = dict(
        id="pol",
        region=BJ,
        scheme="employee",
        person_types=frozenset({"in_service"}),
        effective_from=date(2026, 1, 1),
        effective_to=date(2026, 12, 31),
        inpatient=BEIJING_INPATIENT,
        outpatient=rules(
            deductible=Deductible(mode="annual", amount=D(1800)), bands=[(None, "0.7")]
        ),
        offsite=OffsiteRules(),
    )
    base.update(kw)
    return Policy(**base)


def item(code: str, cls: str = "A", **kw: Any) -> CatalogItem:
    base: dict[str, Any] = dict(
        region=BJ, code=code, name=f"item {code}", kind="drug", item_class=cls
    )
    base.update(kw)
    return CatalogItem(**base)


def catalog(*items: CatalogItem) -> Catalog:
    return Catalog.of(list(items))


def person(**kw: Any) -> PersonInfo:
    base: dict[str, Any] = dict(
        id="p1", insured_region=BJ, scheme="employee", person_type="in_service"
    )
    base.update(kw)
    return PersonInfo(**base)


def line(code: str, quantity: str | int, unit_price: str | int) -> ClaimLine:
    return ClaimLine(code=code, quantity=D(quantity), unit_price=D(unit_price))


def claim(*lines: ClaimLine, **kw: Any) -> Claim:
    base: dict[str, Any] = dict(
        claim_id="c1",
        date=date(2026, 5, 10),
        setting="inpatient",
        person=person(),
        institution=InstitutionInfo(id="h1", region=BJ, level=3),
        lines=tuple(lines),
    )
    base.update(kw)
    return Claim(**base)


def filing(kind: str = "resettled_retiree", dest: str = SANYA, **kw: Any) -> FilingInfo:
    base: dict[str, Any] = dict(
        type=kind, destination=dest, valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31)
    )
    base.update(kw)
    return FilingInfo(**base)


def hospital(region: str = BJ, level: int = 3) -> InstitutionInfo:
    return InstitutionInfo(id=f"h-{region}-{level}", region=region, level=level)


__all__ = [
    "BAODING",
    "BEIJING_INPATIENT",
    "BJ",
    "SANYA",
    "AccountRules",
    "Assistance",
    "D",
    "Deductible",
    "OffsiteRules",
    "Supplementary",
    "SupplementaryBand",
    "catalog",
    "claim",
    "filing",
    "hospital",
    "item",
    "line",
    "lv",
    "person",
    "policy",
    "rules",
]
