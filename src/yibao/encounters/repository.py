"""Queries and row locks of encounters and their fee lines.

Lock order: settling an encounter locks the encounter first (with its patient and hospital
read in the same statement), then :func:`yibao.settlements.service.record_settlement` locks
the person's year and the paying account. A reversal locks the settlement, the year and the
account, and the encounter last (:mod:`yibao.encounters.handlers` explains why the two
orders cannot deadlock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yibao.encounters.models import Encounter, FeeLine
from yibao.errors import NotFound
from yibao.filings.models import Filing
from yibao.registry.models import Institution, Person
from yibao.settlements.models import SettlementRecord


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _core(session: Session) -> Connection:
    """The session's connection, for statements on tables: executing them there skips the
    ORM's per-statement work (they load no instances and need no autoflush)."""
    return session.connection()


def get_encounter(session: Session, encounter_id: int, *, lock: bool = False) -> Encounter:
    stmt = select(Encounter).where(Encounter.id == encounter_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    encounter = session.execute(stmt).scalar_one_or_none()
    if encounter is None:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    return encounter


@dataclass(frozen=True, slots=True)
class EncounterParties:
    encounter: Encounter
    person: Person
    institution: Institution
    has_filings: bool  # whether the patient has any filing at all, in any state


def _encounter_with_parties_statement() -> Any:
    has_filings = (
        select(Filing.id).where(Filing.person_id == Encounter.person_id).exists().label("filed")
    )
    return (
        select(Encounter, Person, Institution, has_filings)
        .join(Person, Person.id == Encounter.person_id)
        .join(Institution, Institution.id == Encounter.institution_id)
        .where(Encounter.id == bindparam("encounter_id"))
        .with_for_update(of=Encounter)
        .execution_options(populate_existing=True)
    )


_ENCOUNTER_WITH_PARTIES = _encounter_with_parties_statement()


def encounter_with_parties(session: Session, encounter_id: int) -> EncounterParties:
    """The encounter, locked, with its patient, its hospital and whether the patient has
    any filing, in one round trip."""
    row = session.execute(_ENCOUNTER_WITH_PARTIES, {"encounter_id": encounter_id}).one_or_none()
    if row is None:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    return EncounterParties(row[0], row[1], row[2], bool(row[3]))


def fee_lines(session: Session, encounter_id: int, *, active_only: bool = True) -> list[FeeLine]:
    stmt = select(FeeLine).where(FeeLine.encounter_id == encounter_id)
    if active_only:
        stmt = stmt.where(FeeLine.state == "active")
    return list(session.scalars(stmt.order_by(FeeLine.id)))


_FEE = _table(FeeLine).c
_ACTIVE_LINES = (
    select(_FEE.line_id, _FEE.code, _FEE.quantity_e4, _FEE.unit_price_e4)
    .where(_FEE.encounter_id == bindparam("encounter_id"), _FEE.state == "active")
    .order_by(_FEE.id)
)


def active_line_values(session: Session, encounter_id: int) -> list[tuple[str, str, int, int]]:
    """(line id, code, quantity e4, unit price e4) of the active lines, in upload order."""
    rows = _core(session).execute(_ACTIVE_LINES, {"encounter_id": encounter_id})
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def active_line_count(session: Session, encounter_id: int) -> int:
    stmt = select(func.count(FeeLine.id)).where(
        FeeLine.encounter_id == encounter_id, FeeLine.state == "active"
    )
    return int(session.scalar(stmt) or 0)


def existing_line_ids(session: Session, encounter_id: int, line_ids: Sequence[str]) -> set[str]:
    if not line_ids:
        return set()
    rows = session.scalars(
        select(FeeLine.line_id).where(
            FeeLine.encounter_id == encounter_id, FeeLine.line_id.in_(list(line_ids))
        )
    )
    return set(rows)


_ENCOUNTERS = _table(Encounter)
_SET_ENCOUNTER_STATE = (
    update(_ENCOUNTERS)
    .where(_ENCOUNTERS.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"))
)


def set_encounter_state(session: Session, encounter: Encounter, state: str) -> None:
    """Change a locked encounter's state with one UPDATE; the loaded instance agrees."""
    _core(session).execute(_SET_ENCOUNTER_STATE, {"b_id": encounter.id, "b_state": state})
    set_committed_value(encounter, "state", state)


def current_settlement_id(session: Session, encounter_id: int) -> int | None:
    """The encounter's settlement that stands (not reversed), if any."""
    return session.execute(
        select(SettlementRecord.id).where(
            SettlementRecord.encounter_id == encounter_id, SettlementRecord.state == "settled"
        )
    ).scalar_one_or_none()


def hospital_ref_taken(session: Session, *, institution_id: int, hospital_ref: str) -> bool:
    """Whether the hospital already registered a visit under this number."""
    taken = session.execute(
        select(Encounter.id).where(
            Encounter.institution_id == institution_id, Encounter.hospital_ref == hospital_ref
        )
    ).first()
    return taken is not None


def fee_line(session: Session, *, encounter_id: int, line_id: str) -> FeeLine | None:
    return session.execute(
        select(FeeLine).where(FeeLine.encounter_id == encounter_id, FeeLine.line_id == line_id)
    ).scalar_one_or_none()


def person_by_identity(session: Session, identity_number: str) -> Person | None:
    return session.execute(
        select(Person).where(Person.identity_number == identity_number)
    ).scalar_one_or_none()


def person_by_card(session: Session, card_number: str) -> Person | None:
    return session.execute(
        select(Person).where(Person.card_number == card_number)
    ).scalar_one_or_none()


def open_admission(session: Session, *, person_id: int) -> Encounter | None:
    """The person's inpatient admission that is neither settled nor cancelled, if any."""
    return session.scalars(
        select(Encounter)
        .where(
            Encounter.person_id == person_id,
            Encounter.setting == "inpatient",
            Encounter.state == "open",
        )
        .limit(1)
    ).first()


def list_encounters(
    session: Session,
    *,
    institution_id: int | None,
    started_from: date | None = None,
    started_to: date | None = None,
    state: str | None = None,
    setting: str | None = None,
    person_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Encounter]:
    """Newest first; ``institution_id`` None means every institution (an admin)."""
    stmt = select(Encounter)
    if institution_id is not None:
        stmt = stmt.where(Encounter.institution_id == institution_id)
    if started_from is not None:
        stmt = stmt.where(Encounter.started_on >= started_from)
    if started_to is not None:
        stmt = stmt.where(Encounter.started_on <= started_to)
    if state is not None:
        stmt = stmt.where(Encounter.state == state)
    if setting is not None:
        stmt = stmt.where(Encounter.setting == setting)
    if person_id is not None:
        stmt = stmt.where(Encounter.person_id == person_id)
    stmt = stmt.order_by(Encounter.started_on.desc(), Encounter.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))
