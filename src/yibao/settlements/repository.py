"""Queries and row locks of direct settlement.

Lock order, everywhere: the encounter or settlement being acted on, then the person's
accumulator row for the year, then the paying account. Keeping one order means concurrent
settlements wait for each other instead of deadlocking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Row,
    Select,
    String,
    Table,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.session import make_transient_to_detached
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from yibao.errors import NotFound
from yibao.policies.models import CatalogVersion, PolicyVersion
from yibao.registry.models import Account, AccountMovement, Institution, Person
from yibao.settlements.models import (
    Encounter,
    FeeLine,
    SettlementLine,
    SettlementRecord,
    YearAccumulator,
)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _core(session: Session) -> Connection:
    """The session's connection, for statements on tables: executing them there skips the
    ORM's per-statement work (they load no instances and need no autoflush)."""
    return session.connection()


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


@dataclass(frozen=True, slots=True)
class EncounterParties:
    encounter: Encounter
    person: Person
    institution: Institution
    has_filings: bool  # whether the patient has any filing at all, in any state


def _encounter_with_parties_statement() -> Any:
    from yibao.filings.models import Filing

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


def _rules_fingerprint_statement() -> Any:
    policies = select(
        literal("p").label("kind"), PolicyVersion.id.label("id"), PolicyVersion.sha256
    ).where(
        PolicyVersion.region == bindparam("insured_region", type_=String),
        PolicyVersion.effective_from <= bindparam("on", type_=Date),
        or_(
            PolicyVersion.effective_to.is_(None),
            PolicyVersion.effective_to >= bindparam("on", type_=Date),
        ),
    )
    latest = (
        select(CatalogVersion.id, CatalogVersion.sha256)
        .where(
            CatalogVersion.region == bindparam("treatment_region", type_=String),
            CatalogVersion.effective_from <= bindparam("on", type_=Date),
        )
        .order_by(CatalogVersion.effective_from.desc())
        .limit(1)
        .subquery()
    )
    catalog = select(literal("c"), cast(latest.c.id, String), latest.c.sha256)
    return union_all(policies, catalog)


# Statements of the settle path are built once: building one costs more than running it.
_RULES_FINGERPRINT = _rules_fingerprint_statement()


def rules_fingerprint(
    session: Session, *, insured_region: str, treatment_region: str, on: date
) -> tuple[tuple[str, str, str], ...]:
    """Which policy and catalog versions are in force (ids and digests), in one light query:
    the same choice as ``yibao.policies.repository`` makes, without the texts."""
    rows = (
        _core(session)
        .execute(
            _RULES_FINGERPRINT,
            {"insured_region": insured_region, "treatment_region": treatment_region, "on": on},
        )
        .all()
    )
    return tuple(sorted((str(k), str(i), str(d)) for k, i, d in rows))


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


def existing_line_ids(session: Session, encounter_id: int, line_ids: Sequence[str]) -> set[str]:
    if not line_ids:
        return set()
    rows = session.scalars(
        select(FeeLine.line_id).where(
            FeeLine.encounter_id == encounter_id, FeeLine.line_id.in_(list(line_ids))
        )
    )
    return set(rows)


_ACC = _table(YearAccumulator)
_ACC_COUNTERS = [
    c.name for c in _ACC.columns if c.name not in ("person_id", "year", "supplementary", "version")
]


def _lock_accumulator_statement(dialect: Any) -> Any:
    # A row that is already there is "updated" to itself: that takes its row lock
    # (PostgreSQL) and returns it, in the same single statement as creating a missing one.
    stmt = dialect.insert(_ACC).values(
        person_id=bindparam("person_id"),
        year=bindparam("year"),
        supplementary="{}",
        version=0,
        **{name: 0 for name in _ACC_COUNTERS},
    )
    return stmt.on_conflict_do_update(
        index_elements=["person_id", "year"], set_={"version": _ACC.c.version}
    ).returning(*_ACC.columns)


_LOCK_ACCUMULATOR = {
    "postgresql": _lock_accumulator_statement(postgresql),
    "sqlite": _lock_accumulator_statement(sqlite),
}


def lock_accumulator(session: Session, *, person_id: int, year: int) -> Row[Any]:
    """The person's row for ``year``, created when missing, locked until the transaction ends,
    in one statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``).

    PostgreSQL: the conflicting row is locked as ``SELECT ... FOR UPDATE`` would, and the
    latest committed values are returned after waiting. SQLite: the statement is a write,
    which takes the database's write lock.
    """
    stmt = _LOCK_ACCUMULATOR[session.get_bind().dialect.name]
    return _core(session).execute(stmt, {"person_id": person_id, "year": year}).one()


_UPDATE_ACCUMULATOR = update(_ACC).where(
    _ACC.c.person_id == bindparam("b_person_id"), _ACC.c.year == bindparam("b_year")
)


def update_accumulator(
    session: Session, *, person_id: int, year: int, values: dict[str, Any]
) -> None:
    """Store a locked year's new values (every counter, the supplementary JSON, version)."""
    _core(session).execute(
        _UPDATE_ACCUMULATOR, {"b_person_id": person_id, "b_year": year, **values}
    )
    _expire_loaded(session, YearAccumulator, (person_id, year))


def get_accumulator(session: Session, *, person_id: int, year: int) -> YearAccumulator | None:
    return session.get(YearAccumulator, (person_id, year))


_ACCOUNT = _table(Account)
_LOCK_ACCOUNT = (
    select(_ACCOUNT.c.balance_fen)
    .where(_ACCOUNT.c.person_id == bindparam("person_id"))
    .with_for_update()
)


def lock_account(session: Session, *, person_id: int) -> int | None:
    """The account's balance in fen, the row locked (None: the person has no account)."""
    balance = _core(session).execute(_LOCK_ACCOUNT, {"person_id": person_id}).scalar_one_or_none()
    return None if balance is None else int(balance)


_MOVE_ACCOUNT = (
    update(_ACCOUNT)
    .where(_ACCOUNT.c.person_id == bindparam("b_person_id"))
    .values(balance_fen=_ACCOUNT.c.balance_fen + bindparam("b_amount_fen"))
    .returning(_ACCOUNT.c.balance_fen)
)
_INSERT_MOVEMENT = insert(_table(AccountMovement))


def move_account(
    session: Session,
    *,
    person_id: int,
    amount_fen: int,
    kind: str,
    ref: str,
    beneficiary_id: int | None,
    at: datetime,
) -> int:
    """Add ``amount_fen`` (signed) to a locked account and record the movement; returns the
    balance after. A balance below zero is a bug: it raises before anything commits."""
    balance = (
        _core(session)
        .execute(_MOVE_ACCOUNT, {"b_person_id": person_id, "b_amount_fen": amount_fen})
        .scalar_one()
    )
    if balance < 0:
        raise AssertionError("a personal account may never go negative")
    _core(session).execute(
        _INSERT_MOVEMENT,
        {
            "person_id": person_id,
            "amount_fen": amount_fen,
            "balance_after_fen": balance,
            "kind": kind,
            "ref": ref,
            "beneficiary_id": beneficiary_id,
            "at": at,
        },
    )
    _expire_loaded(session, Account, person_id)
    return int(balance)


def _expire_loaded(session: Session, model: type[Any], key: Any) -> None:
    """A row changed with a plain UPDATE: an instance of it already in the session is
    expired, so the next read sees the new values."""
    loaded = session.identity_map.get(session.identity_key(model, key))
    if loaded is not None:
        session.expire(loaded)


_SETTLEMENTS = _table(SettlementRecord)
_SETTLEMENT_COLUMNS = [c for c in _SETTLEMENTS.columns if c.key != "id"]
_INSERT_SETTLEMENT = insert(_SETTLEMENTS).returning(_SETTLEMENTS.c.id)


def insert_settlement(session: Session, record: SettlementRecord) -> SettlementRecord:
    """Store a new settlement row with one ``INSERT ... RETURNING id`` (no unit-of-work
    flush) and put ``record`` in the session as the persistent instance of that row.

    Columns not set on ``record`` take their scalar default (else None), on the row and on
    the instance alike, so reading them later needs no query.
    """
    values: dict[str, Any] = {}
    for column in _SETTLEMENT_COLUMNS:
        if column.key in record.__dict__:
            values[column.key] = record.__dict__[column.key]
        else:
            default = column.default
            value = default.arg if isinstance(default, ScalarElementColumnDefault) else None
            setattr(record, column.key, value)
            values[column.key] = value
    record.id = _core(session).execute(_INSERT_SETTLEMENT, values).scalar_one()
    make_transient_to_detached(record)
    session.add(record)
    return record


_LINES = _table(SettlementLine)
_LINE_COLUMNS = [c.name for c in _LINES.columns if c.name not in ("id", "settlement_id")]
# PostgreSQL: every line in one statement whose text never changes (the rows travel as one
# JSON parameter), instead of a multi-row VALUES list whose text changes with the count.
_INSERT_LINES_PG = text(
    f"INSERT INTO settlement_lines (settlement_id, {', '.join(_LINE_COLUMNS)}) "
    f"SELECT :settlement_id, {', '.join('x.' + c for c in _LINE_COLUMNS)} "
    "FROM json_to_recordset(CAST(:rows AS json)) AS x("
    + ", ".join(
        f"{c.name} {'bigint' if isinstance(c.type, (BigInteger, Integer)) else 'text'}"
        for c in _LINES.columns
        if c.name in _LINE_COLUMNS
    )
    + ")"
)
_INSERT_LINES = insert(_LINES)


def insert_lines(session: Session, settlement_id: int, rows: list[dict[str, Any]]) -> None:
    """Store a settlement's lines (each row without ``settlement_id``) in one statement."""
    if not rows:
        return
    if _is_postgres(session):
        _core(session).execute(
            _INSERT_LINES_PG,
            {
                "settlement_id": settlement_id,
                "rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":")),
            },
        )
    else:
        _core(session).execute(
            _INSERT_LINES, [{"settlement_id": settlement_id, **row} for row in rows]
        )


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
