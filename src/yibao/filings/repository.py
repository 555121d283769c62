"""Queries for filings; the service decides, this module only reads and adds rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from yibao.documents import repository as documents_repo
from yibao.documents.models import Document, DocumentOwner
from yibao.filings.models import Filing, FilingHospital
from yibao.filings.rules import LONG_TERM_CATEGORIES, HospitalFacts
from yibao.filings.states import OPEN_STATES, REVIEWABLE_STATES, FilingState
from yibao.registry.models import Institution, Person

# States whose validity dates say when the filing applied (a cancelled filing ends on the
# cancellation day, an expired one on its last valid day).
HISTORIC_STATES = (FilingState.APPROVED, FilingState.CANCELLED, FilingState.EXPIRED)


def get(session: Session, filing_id: int) -> Filing | None:
    return session.get(Filing, filing_id)


def get_by_number(session: Session, number: str) -> Filing | None:
    return session.scalars(select(Filing).where(Filing.number == number)).one_or_none()


def list_filings(
    session: Session,
    *,
    where: ColumnElement[bool],
    person_id: int | None = None,
    states: Sequence[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Filing]:
    """Newest first; ``where`` is the caller's scope (see ``filings.access``)."""
    stmt = select(Filing).where(where)
    if person_id is not None:
        stmt = stmt.where(Filing.person_id == person_id)
    if states:
        stmt = stmt.where(Filing.state.in_(list(states)))
    return list(session.scalars(stmt.order_by(Filing.id.desc()).limit(limit).offset(offset)))


def review_queue(session: Session, *, insured_region: str | None) -> list[Filing]:
    """Submitted and resubmitted filings, oldest first (first come, first reviewed)."""
    stmt = select(Filing).where(Filing.state.in_([str(s) for s in REVIEWABLE_STATES]))
    if insured_region is not None:
        stmt = stmt.where(Filing.insured_region == insured_region)
    return list(session.scalars(stmt.order_by(Filing.submitted_on, Filing.id)))


def documents(session: Session, filing_id: int) -> list[Document]:
    """The filing's documents in upload order."""
    return documents_repo.for_owner(session, DocumentOwner.filing(filing_id))


def chosen_hospitals(session: Session, filing_id: int) -> list[Institution]:
    stmt = (
        select(Institution)
        .join(FilingHospital, FilingHospital.institution_id == Institution.id)
        .where(FilingHospital.filing_id == filing_id)
        .order_by(FilingHospital.position)
    )
    return list(session.scalars(stmt))


def chosen_rows(session: Session, filing_id: int) -> list[FilingHospital]:
    """The filing's chosen hospitals as rows (with their stamps), in the order chosen."""
    stmt = (
        select(FilingHospital)
        .where(FilingHospital.filing_id == filing_id)
        .order_by(FilingHospital.position)
    )
    return list(session.scalars(stmt))


def replace_hospitals(session: Session, filing_id: int, institution_ids: Sequence[int]) -> None:
    """Choose ``institution_ids`` in this order; a hospital chosen before keeps its stamp."""
    kept = {row.institution_id: row for row in chosen_rows(session, filing_id)}
    for institution_id, row in kept.items():
        if institution_id not in institution_ids:
            session.delete(row)
    session.flush()
    for position, institution_id in enumerate(institution_ids, start=1):
        existing = kept.get(institution_id)
        if existing is None:
            session.add(
                FilingHospital(
                    filing_id=filing_id, institution_id=institution_id, position=position
                )
            )
        else:
            existing.position = position
    session.flush()


def institutions(session: Session, ids: Sequence[int]) -> dict[int, Institution]:
    if not ids:
        return {}
    rows = session.scalars(select(Institution).where(Institution.id.in_(list(ids))))
    return {row.id: row for row in rows}


def hospitals_in(session: Session, destination: str) -> list[Institution]:
    """Hospitals whose region lies in the destination (a province or a city)."""
    prefix = destination[:2] if destination.endswith("0000") else destination[:4]
    stmt = (
        select(Institution)
        .where(Institution.kind == "hospital", Institution.region_code.startswith(prefix))
        .order_by(Institution.level.desc(), Institution.id)
    )
    return list(session.scalars(stmt))


def facts(institution: Institution) -> HospitalFacts:
    return HospitalFacts(
        id=institution.id,
        name=institution.name,
        region=institution.region_code,
        kind=institution.kind,
        level=institution.level,
        specialty=institution.specialty,
        designated=institution.designated,
        networked=institution.networked,
    )


def applying(session: Session, *, person_id: int, on: date) -> list[Filing]:
    """Filings whose validity covers ``on`` (approved, or cancelled/expired afterwards).

    Long-term first, then the most recent start.
    """
    stmt = select(Filing).where(
        Filing.person_id == person_id,
        Filing.state.in_([str(s) for s in HISTORIC_STATES]),
        Filing.valid_from.is_not(None),
        Filing.valid_from <= on,
        or_(Filing.valid_to.is_(None), Filing.valid_to >= on),
    )
    rows = list(session.scalars(stmt.order_by(Filing.valid_from.desc(), Filing.id.desc())))
    return sorted(rows, key=lambda f: f.category not in LONG_TERM_CATEGORIES)


def competing(
    session: Session, *, person_id: int, long_term: bool, on: date, exclude_id: int | None = None
) -> list[Filing]:
    """Open or still-valid filings of the same kind (long-term or temporary) for the person."""
    kind = Filing.category.in_(LONG_TERM_CATEGORIES)
    stmt = select(Filing).where(
        Filing.person_id == person_id,
        kind if long_term else ~kind,
        or_(
            Filing.state.in_([str(s) for s in OPEN_STATES]),
            and_(
                Filing.state == str(FilingState.APPROVED),
                or_(Filing.valid_to.is_(None), Filing.valid_to >= on),
            ),
        ),
    )
    if exclude_id is not None:
        stmt = stmt.where(Filing.id != exclude_id)
    return list(session.scalars(stmt))


def expiring(session: Session, *, today: date) -> list[Filing]:
    """Approved filings whose last valid day is before ``today``."""
    stmt = select(Filing).where(
        Filing.state == str(FilingState.APPROVED),
        Filing.valid_to.is_not(None),
        Filing.valid_to < today,
    )
    return list(session.scalars(stmt.order_by(Filing.id)))


def last_sequence(session: Session, *, region: str, year: int) -> int:
    """The highest filing-number sequence given in the region and year, 0 when none."""
    prefix = f"BA{region}-{year}-"
    top = session.scalar(select(func.max(Filing.number)).where(Filing.number.startswith(prefix)))
    return int(top[len(prefix) :]) if top else 0


def review_queue_page(
    session: Session,
    *,
    insured_region: str | None,
    categories: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    oldest_first: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Filing, Person]]:
    """A page of the review queue (submitted and resubmitted filings), each with its person
    in the same query: by the day submitted, oldest first unless asked otherwise."""
    reviewable = [str(s) for s in REVIEWABLE_STATES]
    wanted = [s for s in states if s in reviewable] if states else reviewable
    stmt = (
        select(Filing, Person)
        .join(Person, Person.id == Filing.person_id)
        .where(Filing.state.in_(wanted))
    )
    if insured_region is not None:
        stmt = stmt.where(Filing.insured_region == insured_region)
    if categories:
        stmt = stmt.where(Filing.category.in_(list(categories)))
    order = (
        (Filing.submitted_on.asc(), Filing.id.asc())
        if oldest_first
        else (Filing.submitted_on.desc(), Filing.id.desc())
    )
    rows = session.execute(stmt.order_by(*order).limit(limit).offset(offset))
    return [(filing, person) for filing, person in rows]


def list_filings_with_persons(
    session: Session,
    *,
    where: ColumnElement[bool],
    states: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[tuple[Filing, Person]]:
    """A page of filings in ``where`` (the caller's scope), newest first, each with its
    person read in the same query."""
    stmt = select(Filing, Person).join(Person, Person.id == Filing.person_id).where(where)
    if states:
        stmt = stmt.where(Filing.state.in_(list(states)))
    rows = session.execute(stmt.order_by(Filing.id.desc()).limit(limit).offset(offset))
    return [(filing, person) for filing, person in rows]
