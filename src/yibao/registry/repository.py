"""Registry queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from yibao.registry.models import (
    AccountMovement,
    Agency,
    FamilyLink,
    Institution,
    Person,
    Region,
    Unit,
)


def list_regions(session: Session, *, province_code: str | None = None) -> Sequence[Region]:
    stmt = select(Region).order_by(Region.code)
    if province_code is not None:
        stmt = stmt.where(Region.province_code == province_code)
    return session.scalars(stmt).all()


def list_agencies(
    session: Session, *, region_code: str | None = None, kind: str | None = None
) -> Sequence[Agency]:
    stmt = select(Agency).order_by(Agency.id)
    if region_code is not None:
        stmt = stmt.where(Agency.region_code == region_code)
    if kind is not None:
        stmt = stmt.where(Agency.kind == kind)
    return session.scalars(stmt).all()


def list_institutions(
    session: Session,
    *,
    region_code: str | None = None,
    province_code: str | None = None,
    kind: str | None = None,
    level: int | None = None,
    networked: bool | None = None,
) -> Sequence[Institution]:
    stmt = select(Institution).order_by(Institution.id)
    if region_code is not None:
        stmt = stmt.where(Institution.region_code == region_code)
    if province_code is not None:
        stmt = stmt.join(Region, Region.code == Institution.region_code).where(
            Region.province_code == province_code
        )
    if kind is not None:
        stmt = stmt.where(Institution.kind == kind)
    if level is not None:
        stmt = stmt.where(Institution.level == level)
    if networked is not None:
        stmt = stmt.where(Institution.networked == networked)
    return session.scalars(stmt).all()


def list_units(session: Session, *, where: ColumnElement[bool] | None = None) -> Sequence[Unit]:
    stmt = select(Unit).order_by(Unit.id)
    if where is not None:
        stmt = stmt.where(where)
    return session.scalars(stmt).all()


def persons_query(
    *,
    where: ColumnElement[bool] | None,
    region_code: str | None = None,
    unit_id: int | None = None,
    name: str | None = None,
) -> Select[Person]:
    stmt = select(Person).order_by(Person.id)
    if where is not None:
        stmt = stmt.where(where)
    if region_code is not None:
        stmt = stmt.where(Person.insured_region == region_code)
    if unit_id is not None:
        stmt = stmt.where(Person.unit_id == unit_id)
    if name:
        stmt = stmt.where(Person.name.contains(name))
    return stmt


def person_by_identity(session: Session, identity_number: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.identity_number == identity_number)
    ).one_or_none()


def person_by_card(session: Session, card_number: str) -> Person | None:
    return session.scalars(select(Person).where(Person.card_number == card_number)).one_or_none()


def movements(session: Session, person_id: int) -> Sequence[AccountMovement]:
    return session.scalars(
        select(AccountMovement)
        .where(AccountMovement.person_id == person_id)
        .order_by(AccountMovement.id)
    ).all()


def family_links(session: Session, person_id: int) -> Sequence[tuple[FamilyLink, Person]]:
    rows = session.execute(
        select(FamilyLink, Person)
        .join(Person, Person.id == FamilyLink.relative_id)
        .where(FamilyLink.person_id == person_id)
        .order_by(FamilyLink.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def persons_by_id(session: Session, ids: Iterable[int]) -> dict[int, Person]:
    """The persons of ``ids``, by id, in one query (none asked: no query)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}


def family_link(session: Session, person_id: int, relative_id: int) -> FamilyLink | None:
    return session.scalars(
        select(FamilyLink).where(
            FamilyLink.person_id == person_id, FamilyLink.relative_id == relative_id
        )
    ).one_or_none()


def search_institutions(
    session: Session,
    *,
    region_prefix: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    level: int | None = None,
    specialty: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Sequence[Institution]:
    """Designated institutions whose region code starts with ``region_prefix`` (a province's
    two digits, a city's four), by name part, kind, level and specialty: level 3 first."""
    stmt = select(Institution).where(Institution.designated.is_(True))
    if region_prefix:
        stmt = stmt.where(Institution.region_code.startswith(region_prefix))
    if name:
        stmt = stmt.where(Institution.name.contains(name, autoescape=True))
    if kind is not None:
        stmt = stmt.where(Institution.kind == kind)
    if level is not None:
        stmt = stmt.where(Institution.level == level)
    if specialty is not None:
        stmt = stmt.where(Institution.specialty == specialty)
    stmt = stmt.order_by(Institution.level.desc().nulls_last(), Institution.id)
    return session.scalars(stmt.limit(limit).offset(offset)).all()
