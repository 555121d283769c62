"""Clearing at volume: the Parquet group-by gives the clearing service's statements, field by
field, on random entries (against ``clearing.aggregate``) and on a real database (against
``clearing.service.build_month``), and the commands around it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import POLICY, load_rules
from yibao.approvals import service as approvals
from yibao.auth.models import User
from yibao.batch.clearing import (
    SETTLEMENT_ROW_SCHEMA,
    build_statements_frame,
    export_settlements,
    read_confirmed,
)
from yibao.clearing import service as clearing
from yibao.clearing.aggregate import ClearingEntry, build_statements
from yibao.errors import Forbidden
from yibao.money import from_fen, to_fen
from yibao.policies.service import load_policy_text
from yibao.registry.models import Person
from yibao.settlements.service import reverse_settlement

REGIONS = ("110000", "130600", "460200", "440300")
MONTHS = ("2026-03", "2026-04", "2026-05", "2026-06")
FIELDS = ("total", "pool", "supplementary", "assistance", "account", "cash")

row_strategy = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["settlement", "settlement", "reversal"]),
        "year_month": st.sampled_from(MONTHS),
        "insured_region": st.sampled_from(REGIONS),
        "treatment_region": st.sampled_from(REGIONS),
        **{f"{name}_fen": st.integers(-(10**9), 10**9) for name in FIELDS},
    }
)


def as_entries(rows: list[dict[str, Any]]) -> list[ClearingEntry]:
    return [
        ClearingEntry(
            kind=row["kind"],
            ref=str(index),
            insured_region=row["insured_region"],
            treatment_region=row["treatment_region"],
            day=date(2026, 1, 1),
            period=row["year_month"],
            **{name: from_fen(row[f"{name}_fen"]) for name in FIELDS},
        )
        for index, row in enumerate(rows)
    ]


def as_rows_file(rows: list[dict[str, Any]], path: Path) -> Path:
    table = pa.Table.from_pylist(
        [{"settlement_id": i, "institution_id": None, **row} for i, row in enumerate(rows)],
        schema=SETTLEMENT_ROW_SCHEMA,
    )
    pq.write_table(table, path)
    return path


def as_dicts(statements: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "month": s.month,
            "insured_region": s.insured_region,
            "treatment_region": s.treatment_region,
            "settlements": s.settlements,
            "reversals": s.reversals,
            "late_entries": s.late_entries,
            **{f"{name}_fen": to_fen(getattr(s, name)) for name in FIELDS},
            "fund_total_fen": to_fen(s.fund_total),
            "amount_due_fen": to_fen(s.amount_due),
        }
        for s in statements
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(row_strategy, max_size=60),
    month=st.sampled_from(MONTHS),
    confirmed=st.sets(
        st.tuples(st.sampled_from(REGIONS), st.sampled_from(REGIONS), st.sampled_from(MONTHS)),
        max_size=6,
    ),
)
def test_group_by_equals_the_clearing_aggregation(
    tmp_path: Path, rows: list[dict[str, Any]], month: str, confirmed: set[tuple[str, str, str]]
) -> None:
    path = as_rows_file(rows, tmp_path / "rows.parquet")
    frame = build_statements_frame(path, month=month, confirmed=confirmed)
    expected = build_statements(month, as_entries(rows), confirmed=confirmed)
    assert frame.to_dicts() == as_dicts(expected)


# --- on the database ------------------------------------------------------------------------

MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def admin(make_user: MakeUser) -> User:
    return make_user("admin").user


@pytest.fixture
def insured(session: Session, world: World) -> list[Person]:
    """Retirees of Beijing and of Baoding, so that clearing has several pairs each way."""
    load_rules(session, regions=("460200", "110000", "130600"))
    baoding_policy = POLICY.replace('region: "110000"', 'region: "130600"').replace(
        "rb-bj-employee-2026", "rb-bd-employee-2026"
    )
    load_policy_text(session, text=baoding_policy, source="rb-bd-policy.yaml", actor=None)
    people = [
        add_person(
            session,
            name=f"批量{i}",
            region=region,
            born=date(1955, 2, 1 + i),
            sequence=81 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        for i, region in enumerate(["110000", "110000", "130600", "130600"])
    ]
    session.commit()
    return people


def service_rows(session: Session, admin: User, month: str) -> list[dict[str, Any]]:
    rows = clearing.build_month(session, actor=admin, month=month, now=JUNE)
    return [
        {
            "month": r.year_month,
            "insured_region": r.insured_region,
            "treatment_region": r.treatment_region,
            "settlements": r.settlements,
            "reversals": r.reversals,
            "late_entries": r.late_entries,
            **{f"{name}_fen": getattr(r, f"{name}_fen") for name in FIELDS},
            "fund_total_fen": r.pool_fen + r.supplementary_fen + r.assistance_fen,
            "amount_due_fen": clearing.amount_due_fen(r),
        }
        for r in rows
    ]


def test_exported_rows_give_the_clearing_services_statements(
    session: Session,
    world: World,
    insured: list[Person],
    admin: User,
    make_user: MakeUser,
    tmp_path: Path,
) -> None:
    a, b, c, d = insured
    first = settle(session, a, world.hospital, "SY-1", at=MAY)  # 110000 → 460200
    settle(session, b, world.hospital, "SY-2", at=MAY)
    settle(session, a, world.other_hospital, "BD-1", at=MAY)  # 110000 → 130600
    settle(session, c, world.hospital, "SY-3", at=MAY)  # 130600 → 460200
    settle(session, d, world.hospital, "SY-4", at=MAY)
    reverse_settlement(session, settlement_id=first.id, reason="wrong patient", now=MAY)
    settle(session, c, world.other_hospital, "BD-LOCAL", at=MAY)  # local: not cleared

    may_rows = tmp_path / "may.parquet"
    assert export_settlements(session, actor=admin, month="2026-05", out=may_rows) == 6
    expected = service_rows(session, admin, "2026-05")
    assert len(expected) == 3  # three pairs
    assert build_statements_frame(may_rows, month="2026-05").to_dicts() == expected

    # May confirmed (four eyes), then a late reversal: it moves to June in both
    [may_110_460] = [
        s
        for s in clearing.list_statements(session, actor=admin, month="2026-05")
        if (s.insured_region, s.treatment_region) == ("110000", "460200")
    ]
    asked = clearing.confirm_statement(session, actor=admin, statement_id=may_110_460.id, now=JUNE)
    approvals.approve(session, actor=make_user("admin").user, approval_id=asked.id, now=JUNE)
    late = settle(session, b, world.hospital, "SY-5", at=MAY)
    reverse_settlement(session, settlement_id=late.id, reason="duplicate", now=MAY)
    june_rows = tmp_path / "june.parquet"
    export_settlements(session, actor=admin, month="2026-06", out=june_rows)
    assert read_confirmed(june_rows) == {("110000", "460200", "2026-05")}
    for month in ("2026-05", "2026-06"):
        expected = service_rows(session, admin, month)
        got = build_statements_frame(june_rows, month=month).to_dicts()
        if month == "2026-05":
            # the confirmed statement's settlements are no longer in the export: only the
            # drafts the service rebuilds are compared
            expected = [
                e
                for e in expected
                if e["insured_region"] != "110000" or e["treatment_region"] != "460200"
            ]
        assert got == expected, month
    june = build_statements_frame(june_rows, month="2026-06").to_dicts()
    assert [(s["settlements"], s["reversals"], s["late_entries"]) for s in june] == [(1, 1, 2)]


def test_export_is_scoped_to_the_actors_pairs(
    session: Session, world: World, insured: list[Person], make_user: MakeUser, tmp_path: Path
) -> None:
    a, _, c, _ = insured
    settle(session, a, world.hospital, "SY-1", at=MAY)
    settle(session, c, world.hospital, "SY-3", at=MAY)
    settle(session, a, world.other_hospital, "BD-1", at=MAY)
    sanya = make_user("agency", agency_id=world.sanya_agency.id, region_code="460200").user
    out = tmp_path / "sanya.parquet"
    assert export_settlements(session, actor=sanya, month="2026-05", out=out) == 2
    assert set(pq.read_table(out).column("treatment_region").to_pylist()) == {"460200"}
    with pytest.raises(Forbidden):
        export_settlements(
            session, actor=make_user("insured").user, month="2026-05", out=tmp_path / "x.parquet"
        )
    assert not (tmp_path / "x.parquet").exists()


runner = CliRunner()


def test_clearing_command_prints_and_writes_the_statements(tmp_path: Path) -> None:
    from yibao.cli.main import app

    rows = [
        {
            "kind": "settlement",
            "year_month": "2026-05",
            "insured_region": "110000",
            "treatment_region": "460200",
            "total_fen": 100_000,
            "pool_fen": 60_000,
            "supplementary_fen": 10_000,
            "assistance_fen": 0,
            "account_fen": 20_000,
            "cash_fen": 10_000,
        },
        {
            "kind": "reversal",
            "year_month": "2026-05",
            "insured_region": "110000",
            "treatment_region": "460200",
            "total_fen": -40_000,
            "pool_fen": -20_000,
            "supplementary_fen": 0,
            "assistance_fen": 0,
            "account_fen": -10_000,
            "cash_fen": -10_000,
        },
    ]
    path = as_rows_file(rows, tmp_path / "rows.parquet")
    out = tmp_path / "statements.csv"
    result = runner.invoke(
        app, ["batch", "clearing", str(path), "--month", "2026-05", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "110000 → 460200" in result.stdout and "600.00" in result.stdout  # total 1000 − 400
    frame = pl.read_csv(out)
    assert frame.row(0, named=True)["amount_due_fen"] == 60_000 - 20_000 + 10_000 + 20_000 - 10_000
    bad = runner.invoke(app, ["batch", "clearing", str(path), "--month", "2026-13"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: clearing.month_invalid:")
    missing = runner.invoke(
        app, ["batch", "clearing", str(tmp_path / "no.parquet"), "--month", "2026-05"]
    )
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    pq.write_table(pa.table({"kind": ["settlement"]}), tmp_path / "thin.parquet")
    thin = runner.invoke(
        app, ["batch", "clearing", str(tmp_path / "thin.parquet"), "--month", "2026-05"]
    )
    assert thin.exit_code == 2 and "missing column" in thin.stderr
