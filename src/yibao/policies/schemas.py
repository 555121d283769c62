"""Policy and catalog responses."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from yibao.money import fmt, from_fen
from yibao.policies.models import CatalogItemRow, PolicyVersion


class PolicyVersionRead(BaseModel):
    id: str
    region: str
    scheme: str
    person_types: list[str]
    effective_from: date
    effective_to: date | None
    source: str
    sha256: str
    loaded_at: datetime

    @classmethod
    def of(cls, row: PolicyVersion) -> PolicyVersionRead:
        return cls(
            id=row.id,
            region=row.region,
            scheme=row.scheme,
            person_types=[p for p in row.person_types.split(",") if p],
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            source=row.source,
            sha256=row.sha256,
            loaded_at=row.loaded_at,
        )


class PolicyVersionText(PolicyVersionRead):
    yaml: str


class CatalogVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    region: str
    effective_from: date
    source: str
    sha256: str
    loaded_at: datetime


class CatalogItemRead(BaseModel):
    code: str
    name: str
    kind: str
    item_class: str
    self_pay_ratio: str
    price_ceiling: str | None
    settings: list[str]
    min_level: int | None

    @classmethod
    def of(cls, row: CatalogItemRow) -> CatalogItemRead:
        return cls(
            code=row.code,
            name=row.name,
            kind=row.kind,
            item_class=row.item_class,
            self_pay_ratio=row.self_pay_ratio,
            price_ceiling=(
                fmt(from_fen(row.price_ceiling_fen)) if row.price_ceiling_fen is not None else None
            ),
            settings=row.settings.split(","),
            min_level=row.min_level,
        )


class CatalogItemsRead(BaseModel):
    version: CatalogVersionRead
    items: list[CatalogItemRead]
