"""Reconciliation with hospitals over stored settlements, and the clearing and reconcile
commands (Rich progress, the same roles) on a database of their own."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from yibao.db import make_engine, session_scope, upgrade_database
from yibao.registry.models import Institution, Person, Region
from yibao.settlements.service import reverse_settlement
from yibao.users.service import create_user

MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)
API = "/api/v1/reconciliations"


@pytest.fixture
def patients(session: Session, world: World) -> list[Person]:
    load_rules(session)
    people = [
        add_person(
            session,
            name=f"对账{i}",
            region="110000",
            born=date(1956, 2, 1 + i),
            sequence=81 + 2 * i,
            person_type="retired",
            balance_fen=0,
        )
        for i in range(2)
    ]
    session.commit()
    return people


def test_matched_and_every_difference(
    client: TestClient, session: Session, world: World, patients: list[Person], make_user: MakeUser
) -> None:
    """Two unfiled Sanya stays of 2,360.00 each (funds 600 + 700 = 1,300.00 each), one of
    them reversed: Yibao has +2360, +2360 and −2360."""
    first = settle(session, patients[0], world.hospital, "MSG-1", at=MAY)
    settle(session, patients[1], world.hospital, "MSG-2", at=MAY)
    reverse_settlement(
        session, settlement_id=first.id, msg_id="MSG-1R", reason="duplicate", now=MAY
    )
    session.commit()
    hospital = make_user("hospital")
    body: dict[str, Any] = {
        "period_from": "2026-05-01",
        "period_to": "2026-05-31",
        "count": 3,
        "total": "2360.00",
        "fund_pay": "1300.00",
        "details_csv": "ref,total,fund_pay\nMSG-1,2360.00,1300.00\nMSG-2,2360.00,1300.00\n"
        "MSG-1R,-2360.00,-1300.00\n",
    }
    response = client.post(API, json=body, headers=hospital.headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "matched"
    assert response.json()["ours"] == {"count": 3, "total": "2360.00", "fund_pay": "1300.00"}

    body.update(
        count=3,
        total="2400.00",
        details_csv="ref,total,fund_pay\nMSG-2,2360.00,1200.00\nMSG-1R,-2360.00,-1300.00\n"
        "H-77,2400.00,0.00\n",
    )
    out = client.post(API, json=body, headers=hospital.headers).json()
    assert out["status"] == "differences"
    assert [(d["kind"], d["ref"], d["field"]) for d in out["differences"]] == [
        ("totals_differ", None, "total"),
        ("missing", "MSG-1", "total"),
        ("extra", "H-77", "total"),
        ("amount_differs", "MSG-2", "fund_pay"),
    ]
    other = make_user("hospital", institution_id=world.other_hospital.id)
    assert client.get(f"{API}/{out['id']}", headers=other.headers).status_code == 404
    body["institution_id"] = world.hospital.id
    assert client.post(API, json=body, headers=other.headers).status_code == 403
    insured = make_user("insured")
    assert client.post(API, json=body, headers=insured.headers).status_code == 403
    bad = dict(body, details_csv="ref,total\nX,1\n")
    response = client.post(API, json=bad, headers=hospital.headers)
    assert response.status_code == 422
    assert "fund_pay" in response.json()["detail"]


def test_commands_clear_a_month_with_progress_and_reconcile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yibao.cli.main import app
    from yibao.config import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        s.add_all(
            [
                Region(code="110000", name="北京市", province_code="110000"),
                Region(code="460000", name="海南省", province_code="460000"),
                Region(code="460200", name="三亚市", province_code="460000"),
            ]
        )
        s.flush()
        hospital = Institution(
            code="H1",
            name="三亚医院",
            region_code="460200",
            kind="hospital",
            level=3,
            specialty="general",
            designated=True,
            networked=True,
        )
        s.add(hospital)
        s.flush()
        load_rules(s)
        p = add_person(
            s,
            name="命令",
            region="110000",
            born=date(1950, 1, 1),
            sequence=91,
            person_type="retired",
        )
        settle(s, p, hospital, "CLI-1", at=MAY)
        admin_token = create_user(s, name="admin", role="admin").token
        hospital_token = create_user(
            s, name="window", role="hospital", institution_id=hospital.id
        ).token
        insured_token = create_user(s, name="p", role="insured", person_id=p.id).token
    engine.dispose()
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["clearing", "build", "2026-05", "--token", admin_token])
        assert result.exit_code == 0, result.output
        assert "110000 → 460200" in result.stdout
        # unfiled, no account money: 600 pool + 700 supplementary are due
        assert "1300.00" in result.stdout
        assert "statements" in result.stderr  # the progress display
        refused = runner.invoke(app, ["clearing", "build", "2026-05", "--token", insured_token])
        assert refused.exit_code == 2
        assert "clearing.forbidden" in refused.stderr

        details = tmp_path / "details.csv"
        details.write_text("ref,total,fund_pay\nCLI-1,2360.00,1300.00\n", encoding="utf-8")
        args = [
            "reconcile",
            "--token",
            hospital_token,
            "--from",
            "2026-05-01",
            "--to",
            "2026-05-31",
            "--count",
            "1",
            "--fund-pay",
            "1300.00",
        ]
        matched = runner.invoke(app, [*args, "--total", "2360.00", "--details", str(details)])
        assert matched.exit_code == 0, matched.output
        assert json.loads(matched.stdout)["status"] == "matched"
        differs = runner.invoke(app, [*args, "--total", "2300.00"])
        assert differs.exit_code == 1
        assert json.loads(differs.stdout)["differences"][0]["field"] == "total"
    finally:
        get_settings.cache_clear()
