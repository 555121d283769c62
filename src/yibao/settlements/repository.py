"""Queries and row locks of direct settlement.

Lock order, everywhere: the encounter or settlement being acted on, then the person's
accumulator row for the year, then the paying account. Keeping one order means concurrent
settlements wait for each other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yibao.errors import NotFound
from yibao.policies.models import CatalogVersion, PolicyVersion
from yibao.registry.models import Account, Institution, Person
from yibao.settlements.models import (
    Encounter,
    FeeLine,
    SettlementLine,
    SettlementRecord,
    YearAccumulator,
)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def get_encounter(session: Session, encounter_id: int, *, lock: bool = False) -> Encounter:
    stmt = select(Encounter).where(Encounter.id == encounter_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    encounter = session.execute(stmt).scalar_one_or_none()
    if encounter is None:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    return encounter


def encounter_with_parties(
    session: Session, encounter_id: int, *, lock: bool = False
) -> tuple[Encounter, Person, Institution]:
    """The encounter with its patient and hospital in one round trip (locks the encounter)."""
    stmt = (
        select(Encounter, Person, Institution)
        .join(Person, Person.id == Encounter.person_id)
        .join(Institution, Institution.id == Encounter.institution_id)
        .where(Encounter.id == encounter_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Encounter).execution_options(populate_existing=True)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    return row[0], row[1], row[2]


def rules_fingerprint(
    session: Session, *, insured_region: str, treatment_region: str, on: date
) -> tuple[tuple[str, str, str], ...]:
    """Which policy and catalog versions are in force (ids and digests), in one light query:
    the same choice as ``yibao.policies.repository`` makes, without the texts."""
    policies = select(
        literal("p").label("kind"), PolicyVersion.id.label("id"), PolicyVersion.sha256
    ).where(
        PolicyVersion.region == insured_region,
        PolicyVersion.effective_from <= on,
        or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to >= on),
    )
    latest = (
        select(CatalogVersion.id, CatalogVersion.sha256)
        .where(CatalogVersion.region == treatment_region, CatalogVersion.effective_from <= on)
        .order_by(CatalogVersion.effective_from.desc())
        .limit(1)
        .subquery()
    )
    catalog = select(literal("c"), cast(latest.c.id, String), latest.c.sha256)
    rows = session.execute(union_all(policies, catalog)).all()
    return tuple(sorted((str(k), str(i), str(d)) for k, i, d in rows))


def fee_lines(session: Session, encounter_id: int, *, active_only: bool = True) -> list[FeeLine]:
    stmt = select(FeeLine).where(FeeLine.encounter_id == encounter_id)
    if active_only:
        stmt = stmt.where(FeeLine.state == "active")
    return list(session.scalars(stmt.order_by(FeeLine.id)))


def active_line_values(session: Session, encounter_id: int) -> list[tuple[str, str, int, int]]:
    """(line id, code, quantity e4, unit price e4) of the active lines, in upload order."""
    rows = session.execute(
        select(FeeLine.line_id, FeeLine.code, FeeLine.quantity_e4, FeeLine.unit_price_e4)
        .where(FeeLine.encounter_id == encounter_id, FeeLine.state == "active")
        .order_by(FeeLine.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def existing_line_ids(session: Session, encounter_id: int, line_ids: Sequence[str]) -> set[str]:
    if not line_ids:
        return set()
    rows = session.scalars(
        select(FeeLine.line_id).where(
            FeeLine.encounter_id == encounter_id, FeeLine.line_id.in_(list(line_ids))
        )
    )
    return set(rows)


def lock_accumulator(session: Session, *, person_id: int, year: int) -> YearAccumulator:
    """The person's row for ``year``, created when missing, locked until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite: the insert is a write, which takes the
    database's write lock, so the read after it sees the latest committed state.
    """
    stmt = (
        select(YearAccumulator)
        .where(YearAccumulator.person_id == person_id, YearAccumulator.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        row = session.execute(stmt).scalar_one_or_none()
        if row is not None:
            return row
        insert: Any = postgresql.insert(YearAccumulator)
    else:
        insert = sqlite.insert(YearAccumulator)
    session.execute(
        insert.values(
            person_id=person_id, year=year, supplementary="{}", version=0
        ).on_conflict_do_nothing(index_elements=["person_id", "year"])
    )
    return session.execute(stmt).scalar_one()


def get_accumulator(session: Session, *, person_id: int, year: int) -> YearAccumulator | None:
    return session.get(YearAccumulator, (person_id, year))


def lock_account(session: Session, *, person_id: int) -> Account | None:
    stmt = (
        select(Account)
        .where(Account.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


def get_settlement(session: Session, settlement_id: int, *, lock: bool = False) -> SettlementRecord:
    stmt = select(SettlementRecord).where(SettlementRecord.id == settlement_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    record = session.execute(stmt).scalar_one_or_none()
    if record is None:
        raise NotFound(f"settlement {settlement_id} not found", code="settlement.not_found")
    return record


def settlement_by_msg_id(
    session: Session, *, institution_id: int, msg_id: str
) -> SettlementRecord | None:
    return session.execute(
        select(SettlementRecord).where(
            SettlementRecord.institution_id == institution_id, SettlementRecord.msg_id == msg_id
        )
    ).scalar_one_or_none()


def settlement_lines(session: Session, settlement_id: int) -> list[SettlementLine]:
    return list(
        session.scalars(
            select(SettlementLine)
            .where(SettlementLine.settlement_id == settlement_id)
            .order_by(SettlementLine.line_no)
        )
    )


def current_settlement_id(session: Session, encounter_id: int) -> int | None:
    """The encounter's settlement that stands (not reversed), if any."""
    return session.execute(
        select(SettlementRecord.id).where(
            SettlementRecord.encounter_id == encounter_id, SettlementRecord.state == "settled"
        )
    ).scalar_one_or_none()


def reversal_of(session: Session, settlement_id: int) -> SettlementRecord | None:
    return session.execute(
        select(SettlementRecord).where(SettlementRecord.reverses_id == settlement_id)
    ).scalar_one_or_none()


def list_settlements(
    session: Session,
    *,
    person_id: int | None = None,
    institution_id: int | None = None,
    region: str | None = None,
    year_month: str | None = None,
    insured_region: str | None = None,
    treatment_region: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SettlementRecord]:
    """Newest first. ``region`` matches either the insured or the treatment region."""
    stmt: Select[tuple[SettlementRecord]] = select(SettlementRecord)
    if person_id is not None:
        stmt = stmt.where(SettlementRecord.person_id == person_id)
    if institution_id is not None:
        stmt = stmt.where(SettlementRecord.institution_id == institution_id)
    if region is not None:
        stmt = stmt.where(
            (SettlementRecord.insured_region == region)
            | (SettlementRecord.treatment_region == region)
        )
    if year_month is not None:
        stmt = stmt.where(SettlementRecord.year_month == year_month)
    if insured_region is not None:
        stmt = stmt.where(SettlementRecord.insured_region == insured_region)
    if treatment_region is not None:
        stmt = stmt.where(SettlementRecord.treatment_region == treatment_region)
    if kind is not None:
        stmt = stmt.where(SettlementRecord.kind == kind)
    stmt = stmt.order_by(SettlementRecord.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class ClearingTotals:
    """Per region pair and month: counts and per-fund sums in fen (reversals negative)."""

    year_month: str
    insured_region: str
    treatment_region: str
    settlements: int
    reversals: int
    total_fen: int
    pool_fund_pay_fen: int
    supplementary_pay_fen: int
    assistance_pay_fen: int
    fund_pay_total_fen: int
    account_pay_fen: int
    cash_pay_fen: int


def clearing_totals(
    session: Session,
    *,
    year_month: str,
    insured_region: str | None = None,
    treatment_region: str | None = None,
    source: str | None = None,
) -> list[ClearingTotals]:
    """Settlements and reversals stored in ``year_month``, summed per region pair."""
    s = SettlementRecord
    stmt = select(
        s.insured_region,
        s.treatment_region,
        func.sum(case((s.kind == "settlement", 1), else_=0)),
        func.sum(case((s.kind == "reversal", 1), else_=0)),
        func.sum(s.total_fen),
        func.sum(s.pool_fund_pay_fen),
        func.sum(s.supplementary_pay_fen),
        func.sum(s.assistance_pay_fen),
        func.sum(s.fund_pay_total_fen),
        func.sum(s.account_pay_fen),
        func.sum(s.cash_pay_fen),
    ).where(s.year_month == year_month)
    if insured_region is not None:
        stmt = stmt.where(s.insured_region == insured_region)
    if treatment_region is not None:
        stmt = stmt.where(s.treatment_region == treatment_region)
    if source is not None:
        stmt = stmt.where(s.source == source)
    stmt = stmt.group_by(s.insured_region, s.treatment_region).order_by(
        s.insured_region, s.treatment_region
    )
    return [
        ClearingTotals(year_month, ins, treat, *(int(v or 0) for v in rest))
        for ins, treat, *rest in session.execute(stmt)
    ]
