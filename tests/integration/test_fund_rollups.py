"""The fund dashboard and the advance fund's part in use read rollups kept as settlements are
stored; they must give exactly what summing every settlement gives, for every agency, on the
demo's four months of history (settlements, reversals, pharmacy sales, reimbursements,
confirmed clearing statements) and after more of each. The migration's back-fill must give
the same rollups as the ones kept."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.auth.models import User
from yibao.clearing import service as clearing
from yibao.clearing.models import ClearedMonth, ClearingItem, ClearingStatement
from yibao.demo.loader import DemoResult, load_demo
from yibao.settlements import access, repository
from yibao.settlements import service as settlements
from yibao.settlements.models import FundRollup, SettlementRecord

ROOT = Path(__file__).resolve().parents[2]
AGENCIES = ("admin", "agency", "agency_2", "agency_bd", "agency_sy")


@pytest.fixture
def demo(session: Session, tmp_path: Path) -> DemoResult:
    return load_demo(session, upload_dir=tmp_path, today=date(2026, 6, 20))


def _scanned_breakdown(session: Session, actor: User, year: int) -> list[tuple[Any, ...]]:
    rows = repository.fund_breakdown(
        session,
        where=access.settlement_scope(session, actor),
        first_month=f"{year}-01",
        last_month=f"{year}-12",
    )
    return sorted(tuple(row) for row in rows)


def _scanned_outstanding(session: Session) -> list[tuple[Any, ...]]:
    """Every settlement clearing counts that no confirmed statement holds, summed per pair."""
    s = SettlementRecord
    frozen = (
        select(ClearingItem.settlement_id)
        .join(ClearingStatement, ClearingStatement.id == ClearingItem.statement_id)
        .where(ClearingStatement.state == "confirmed")
    )
    stmt = (
        select(
            s.insured_region,
            s.treatment_region,
            func.count(s.id),
            func.min(s.year_month),
            func.sum(s.fund_pay_total_fen),
            func.sum(s.account_pay_fen),
        )
        .where(repository.cleared_between_regions(), s.id.not_in(frozen))
        .group_by(s.insured_region, s.treatment_region)
        .order_by(s.insured_region, s.treatment_region)
    )
    return [tuple(row) for row in session.execute(stmt)]


def _agencies(demo: DemoResult) -> list[User]:
    return [demo.users[key] for key in AGENCIES if key in demo.users]


def _confirm_april(session: Session, demo: DemoResult) -> None:
    """Beijing's centre confirms April's statements (a second reviewer approves)."""
    centre, second = demo.users["agency"], demo.users["agency_2"]
    may = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
    for statement in clearing.build_month(session, actor=centre, month="2026-04", now=may):
        asked = clearing.confirm_statement(
            session, actor=centre, statement_id=statement.id, now=may
        )
        approvals.approve(session, actor=second, approval_id=asked.id, now=may)


def test_the_rollups_agree_with_the_settlements(session: Session, demo: DemoResult) -> None:
    assert session.scalar(select(func.count()).select_from(FundRollup)) > 0
    users = _agencies(demo)
    assert len(users) >= 3
    for user in users:
        assert access.agency_regions(session, user) is not None, user.username
        rolled = sorted(
            tuple(row) for row in settlements.fund_breakdown(session, actor=user, year=2026)
        )
        assert rolled == _scanned_breakdown(session, user, 2026), user.username
    admin = demo.users["admin"]
    outstanding = [
        (o.insured_region, o.treatment_region, o.entries, o.since, o.fund_fen, o.account_fen)
        for o in clearing.outstanding(session, actor=admin)
    ]
    assert outstanding == _scanned_outstanding(session)
    assert outstanding, "the demo leaves months not yet cleared"


def test_a_confirmed_month_and_a_reversal_move_the_rollups_as_the_settlements(
    session: Session, demo: DemoResult
) -> None:
    admin, centre = demo.users["admin"], demo.users["agency"]
    _confirm_april(session, demo)
    assert session.scalar(select(func.count()).select_from(ClearedMonth)) > 0
    settled = session.scalars(
        select(SettlementRecord)
        .where(SettlementRecord.kind == "settlement", repository.cleared_between_regions())
        .order_by(SettlementRecord.id.desc())
    ).first()
    assert settled is not None
    settlements.reverse_settlement(
        session, actor=admin, settlement_id=settled.id, reason="重复结算"
    )
    assert sorted(
        tuple(r) for r in settlements.fund_breakdown(session, actor=centre, year=2026)
    ) == _scanned_breakdown(session, centre, 2026)
    outstanding = [
        (o.insured_region, o.treatment_region, o.entries, o.since, o.fund_fen, o.account_fen)
        for o in clearing.outstanding(session, actor=admin)
    ]
    assert outstanding == _scanned_outstanding(session)


def test_the_migration_back_fill_gives_the_rollups_kept(session: Session, demo: DemoResult) -> None:
    def rows(model: Any) -> list[tuple[Any, ...]]:
        table = model.__table__
        return sorted(tuple(r) for r in session.execute(select(table)))

    _confirm_april(session, demo)
    kept = (rows(FundRollup), rows(ClearedMonth))
    assert kept[0] and kept[1]
    session.execute(delete(FundRollup))
    session.execute(delete(ClearedMonth))
    path = ROOT / "migrations" / "versions" / "0021_fund_rollups.py"
    spec = importlib.util.spec_from_file_location("m0021", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    executed: list[str] = []

    class _Op:
        @staticmethod
        def create_table(*args: Any, **kwargs: Any) -> None:
            return None

        @staticmethod
        def execute(sql: str) -> None:
            executed.append(sql)
            session.execute(text(sql))

    spec.loader.exec_module(module)
    module.op = _Op  # the tables exist: only the back-fill statements run
    module.upgrade()
    assert len(executed) == 2
    assert (rows(FundRollup), rows(ClearedMonth)) == kept


def test_a_rebuild_gives_the_rollups_kept(session: Session, demo: DemoResult) -> None:
    """Rows loaded around the services (a benchmark's volume) are summed again from nothing."""
    kept = sorted(tuple(r) for r in session.execute(select(FundRollup.__table__)))
    assert repository.rebuild_fund_rollups(session) == len(kept)
    assert sorted(tuple(r) for r in session.execute(select(FundRollup.__table__))) == kept
