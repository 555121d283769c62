"""Policies and catalogs as loaded (read-only over the API; ``yibao policy/catalog load``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from yibao.auth.deps import CurrentUser, SessionDep
from yibao.clock import china_today
from yibao.errors import NotFound
from yibao.policies import repository as repo
from yibao.policies import service
from yibao.policies.schemas import (
    CatalogItemRead,
    CatalogItemsRead,
    CatalogVersionRead,
    PolicyVersionRead,
    PolicyVersionText,
)

router = APIRouter(tags=["policies"])


@router.get("/policies", response_model=list[PolicyVersionRead])
def list_policies(
    session: SessionDep,
    _user: CurrentUser,
    region: str | None = None,
    on: date | None = None,
) -> list[PolicyVersionRead]:
    """Policy versions; with ``region`` and ``on``, those in force that day."""
    if region is not None and on is not None:
        rows = repo.policies_in_force(session, region, on)
    else:
        rows = repo.list_policies(session, region=region)
    return [PolicyVersionRead.of(row) for row in rows]


@router.get("/policies/{policy_id}", response_model=PolicyVersionText)
def get_policy(policy_id: str, session: SessionDep, _user: CurrentUser) -> PolicyVersionText:
    """One policy version with its YAML text as loaded."""
    row = service.policy_text(session, policy_id=policy_id)
    if row is None:
        raise NotFound(f"policy {policy_id} not found", code="policy.not_found")
    return PolicyVersionText(**PolicyVersionRead.of(row).model_dump(), yaml=row.yaml)


@router.get("/catalogs", response_model=list[CatalogVersionRead])
def list_catalogs(
    session: SessionDep, _user: CurrentUser, region: str | None = None
) -> list[CatalogVersionRead]:
    return [
        CatalogVersionRead.model_validate(v) for v in repo.list_catalogs(session, region=region)
    ]


@router.get("/catalogs/{region}/items", response_model=CatalogItemsRead)
def catalog_items(
    region: str,
    session: SessionDep,
    _user: CurrentUser,
    on: date | None = None,
    code: str | None = None,
    name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CatalogItemsRead:
    """Items of the region's catalog in force ``on`` (default today)."""
    version = service.catalog_version_for(session, region=region, on=on or china_today())
    rows = repo.catalog_items(session, version.id, code=code, name=name, limit=limit, offset=offset)
    return CatalogItemsRead(
        version=CatalogVersionRead.model_validate(version),
        items=[CatalogItemRead.of(r) for r in rows],
    )
