"""Queries and row locks of direct settlement.

Lock order, everywhere: the row being acted on first (the encounter when settling one, see
:mod:`yibao.encounters.repository`; the settlement when reversing it), then the person's
accumulator row for the year, then the paying account. Keeping one order means concurrent
settlements wait for each other instead of deadlocking. A reversal's subscribers lock
their own rows after these (the encounter: see :mod:`yibao.encounters.handlers` for why
that cannot deadlock with a settlement of the same encounter).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
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
from sqlalchemy.orm.session import make_transient_to_detached
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from yibao.errors import NotFound
from yibao.policies.models import CatalogVersion, PolicyVersion
from yibao.registry.models import Account, AccountMovement
from yibao.settlements.models import (
    ROLLUP_SLOTS,
    FundRollup,
    SettlementLine,
    SettlementRecord,
    YearAccumulator,
)
from yibao.settlements.states import INSTITUTION_SOURCES
from yibao.upsert import AddingUpsert


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
    _roll_up(session, values, settlement_id=record.id)
    make_transient_to_detached(record)
    session.add(record)
    return record


_ROLLUP_KEY = (
    "insured_region",
    "treatment_region",
    "year_month",
    "setting",
    "offsite_status",
    "source",
    "slot",
)
_ROLLUP_SUMS = (
    "settlements",
    "reversals",
    "total_fen",
    "pool_fen",
    "supplementary_fen",
    "assistance_fen",
    "fund_fen",
    "account_fen",
)


_ADD_TO_ROLLUP = AddingUpsert(_table(FundRollup), key=_ROLLUP_KEY, sums=_ROLLUP_SUMS)


def _roll_up(session: Session, values: dict[str, Any], *, settlement_id: int) -> None:
    """Add a new settlement row's figures to its key in :class:`FundRollup`."""
    reversal = values["kind"] == "reversal"
    row = {
        "insured_region": values["insured_region"],
        "treatment_region": values["treatment_region"],
        "year_month": values["year_month"],
        "setting": values["setting"],
        "offsite_status": values["offsite_status"] or "",
        "source": values["source"],
        "slot": settlement_id % ROLLUP_SLOTS,
        "settlements": 0 if reversal else 1,
        "reversals": 1 if reversal else 0,
        "total_fen": values["total_fen"],
        "pool_fen": values["pool_fund_pay_fen"],
        "supplementary_fen": values["supplementary_pay_fen"],
        "assistance_fen": values["assistance_pay_fen"],
        "fund_fen": values["fund_pay_total_fen"],
        "account_fen": values["account_pay_fen"],
    }
    _ADD_TO_ROLLUP(session, row)


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


def list_settlements(
    session: Session,
    *,
    where: ColumnElement[bool] | None = None,
    year_month: str | None = None,
    insured_region: str | None = None,
    treatment_region: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SettlementRecord]:
    """Newest first; ``where`` is the caller's scope (see ``settlements.access``)."""
    stmt: Select[tuple[SettlementRecord]] = select(SettlementRecord)
    if where is not None:
        stmt = stmt.where(where)
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


def search_settlements(
    session: Session,
    *,
    where: ColumnElement[bool],
    stored_from: datetime | None = None,
    stored_before: datetime | None = None,
    state: str | None = None,
    setting: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SettlementRecord]:
    """Newest first, within ``where`` (the caller's scope), stored in ``[from, before)``, of
    a state and a setting."""
    s = SettlementRecord
    stmt = select(s).where(where)
    if stored_from is not None:
        stmt = stmt.where(s.created_at >= stored_from)
    if stored_before is not None:
        stmt = stmt.where(s.created_at < stored_before)
    if state is not None:
        stmt = stmt.where(s.state == state)
    if setting is not None:
        stmt = stmt.where(s.setting == setting)
    return list(session.scalars(stmt.order_by(s.id.desc()).limit(limit).offset(offset)))


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


def cleared_between_regions(
    of: type[SettlementRecord] | type[FundRollup] = SettlementRecord,
) -> ColumnElement[bool]:
    """What clearing counts (清算范围): off-site settlements an institution made, and their
    reversals. Every total shown for a region pair uses this one condition, on the
    settlements or on their rollups."""
    return and_(of.source.in_(INSTITUTION_SOURCES), of.insured_region != of.treatment_region)


def clearing_totals(
    session: Session,
    *,
    year_month: str,
    insured_region: str | None = None,
    treatment_region: str | None = None,
) -> list[ClearingTotals]:
    """Settlements and reversals stored in ``year_month`` that clearing counts, summed per
    region pair: the figures of the month's clearing statements before any late entry."""
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
    ).where(s.year_month == year_month, cleared_between_regions())
    if insured_region is not None:
        stmt = stmt.where(s.insured_region == insured_region)
    if treatment_region is not None:
        stmt = stmt.where(s.treatment_region == treatment_region)
    stmt = stmt.group_by(s.insured_region, s.treatment_region).order_by(
        s.insured_region, s.treatment_region
    )
    return [
        ClearingTotals(year_month, ins, treat, *(int(v or 0) for v in rest))
        for ins, treat, *rest in session.execute(stmt)
    ]


def rebuild_fund_rollups(session: Session) -> int:
    """Sum every stored settlement into :class:`FundRollup` again, from nothing: for rows
    loaded in bulk around the services (a benchmark's volume, an import). Returns the
    number of rollup rows."""
    s = SettlementRecord
    slot = (s.id % ROLLUP_SLOTS).label("slot")
    status = func.coalesce(s.offsite_status, "").label("offsite_status")
    reversal = s.kind == "reversal"
    summed = select(
        s.insured_region,
        s.treatment_region,
        s.year_month,
        s.setting,
        status,
        s.source,
        slot,
        func.sum(case((reversal, 0), else_=1)),
        func.sum(case((reversal, 1), else_=0)),
        func.sum(s.total_fen),
        func.sum(s.pool_fund_pay_fen),
        func.sum(s.supplementary_pay_fen),
        func.sum(s.assistance_pay_fen),
        func.sum(s.fund_pay_total_fen),
        func.sum(s.account_pay_fen),
    ).group_by(
        s.insured_region, s.treatment_region, s.year_month, s.setting, status, s.source, slot
    )
    table = _table(FundRollup)
    connection = _core(session)
    connection.execute(table.delete())
    connection.execute(insert(table).from_select([*_ROLLUP_KEY, *_ROLLUP_SUMS], summed))
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def fund_breakdown_rolled_up(
    session: Session,
    *,
    insured_region: str | None,
    treatment_region: str | None,
    first_month: str,
    last_month: str,
) -> list[Row[Any]]:
    """:func:`fund_breakdown` for a scope of whole regions, read from the rollups kept as
    settlements are stored (a few rows per month) instead of from every settlement: the same
    columns and the same figures."""
    r = FundRollup
    stmt = select(
        r.year_month,
        r.setting,
        func.nullif(r.offsite_status, "").label("offsite_status"),
        r.treatment_region,
        r.source,
        func.sum(r.settlements).label("settlements"),
        func.sum(r.reversals).label("reversals"),
        func.sum(r.total_fen).label("total_fen"),
        func.sum(r.pool_fen).label("pool_fen"),
        func.sum(r.supplementary_fen).label("supplementary_fen"),
        func.sum(r.assistance_fen).label("assistance_fen"),
        func.sum(r.fund_fen).label("fund_fen"),
    ).where(r.year_month >= first_month, r.year_month <= last_month)
    if insured_region is not None:
        stmt = stmt.where(r.insured_region == insured_region)
    if treatment_region is not None:
        stmt = stmt.where(r.treatment_region == treatment_region)
    stmt = stmt.group_by(
        r.year_month, r.setting, r.offsite_status, r.treatment_region, r.source
    ).order_by(r.year_month, r.setting, r.treatment_region)
    return list(session.execute(stmt))


def fund_breakdown(
    session: Session, *, where: ColumnElement[bool], first_month: str, last_month: str
) -> list[Row[Any]]:
    """Settlements stored from ``first_month`` to ``last_month`` within ``where`` (the
    caller's scope), grouped in the database by month, setting, off-site status, treatment
    region and source: how many settlements and reversals, and the sums in fen of the bill
    and of what the funds paid (reversals negative, so the sums are net)."""
    s = SettlementRecord
    stmt = (
        select(
            s.year_month,
            s.setting,
            s.offsite_status,
            s.treatment_region,
            s.source,
            func.sum(case((s.kind == "settlement", 1), else_=0)).label("settlements"),
            func.sum(case((s.kind == "reversal", 1), else_=0)).label("reversals"),
            func.sum(s.total_fen).label("total_fen"),
            func.sum(s.pool_fund_pay_fen).label("pool_fen"),
            func.sum(s.supplementary_pay_fen).label("supplementary_fen"),
            func.sum(s.assistance_pay_fen).label("assistance_fen"),
            func.sum(s.fund_pay_total_fen).label("fund_fen"),
        )
        .where(where, s.year_month >= first_month, s.year_month <= last_month)
        .group_by(s.year_month, s.setting, s.offsite_status, s.treatment_region, s.source)
        .order_by(s.year_month, s.setting, s.treatment_region)
    )
    return list(session.execute(stmt))
