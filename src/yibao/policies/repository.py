"""Policy and catalog version queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yibao.policies.models import CatalogItemRow, CatalogVersion, PolicyVersion


def policies_in_force(session: Session, region: str, on: date) -> Sequence[PolicyVersion]:
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.region == region,
            PolicyVersion.effective_from <= on,
            or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to >= on),
        )
        .order_by(PolicyVersion.id)
    ).all()


def list_policies(session: Session, *, region: str | None = None) -> Sequence[PolicyVersion]:
    stmt = select(PolicyVersion).order_by(
        PolicyVersion.region, PolicyVersion.effective_from, PolicyVersion.id
    )
    if region is not None:
        stmt = stmt.where(PolicyVersion.region == region)
    return session.scalars(stmt).all()


def catalog_in_force(session: Session, region: str, on: date) -> CatalogVersion | None:
    return session.scalars(
        select(CatalogVersion)
        .where(CatalogVersion.region == region, CatalogVersion.effective_from <= on)
        .order_by(CatalogVersion.effective_from.desc())
        .limit(1)
    ).first()


def catalog_version(session: Session, region: str, effective_from: date) -> CatalogVersion | None:
    return session.scalars(
        select(CatalogVersion).where(
            CatalogVersion.region == region, CatalogVersion.effective_from == effective_from
        )
    ).one_or_none()


def list_catalogs(session: Session, *, region: str | None = None) -> Sequence[CatalogVersion]:
    stmt = select(CatalogVersion).order_by(CatalogVersion.region, CatalogVersion.effective_from)
    if region is not None:
        stmt = stmt.where(CatalogVersion.region == region)
    return session.scalars(stmt).all()


def catalog_items(
    session: Session,
    version_id: int,
    *,
    code: str | None = None,
    name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[CatalogItemRow]:
    stmt = select(CatalogItemRow).where(CatalogItemRow.version_id == version_id)
    if code is not None:
        stmt = stmt.where(CatalogItemRow.code == code)
    if name:
        stmt = stmt.where(CatalogItemRow.name.contains(name))
    return session.scalars(stmt.order_by(CatalogItemRow.code).limit(limit).offset(offset)).all()
