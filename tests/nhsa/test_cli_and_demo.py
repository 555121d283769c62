"""Credentials from the command line (``yibao.nhsa.cli``) and in the demo: each demo
hospital and pharmacy has a pass id and secret that the gateway accepts, and the guide
lists one line per institution with the command of examples/his_2304.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.nhsa.conftest import signature
from yibao.config import Settings
from yibao.db import make_engine, session_scope, upgrade_database
from yibao.demo.guide import render_guide
from yibao.demo.loader import INSTITUTIONS, load_demo
from yibao.nhsa.cli import app
from yibao.nhsa.gateway import authenticate
from yibao.nhsa.models import GatewayCredential
from yibao.registry.models import Institution, Region

runner = CliRunner()
KEY = "cli-test-platform-key"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database of its own (the commands open their own connections)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add(Region(code="460200", name="三亚市", province_code="460200"))
        session.flush()
        session.add(
            Institution(
                code="H460200009",
                name="三亚测试医院",
                region_code="460200",
                kind="hospital",
                level=2,
                specialty="general",
                designated=True,
                networked=True,
            )
        )
    engine.dispose()
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    monkeypatch.setenv("YIBAO_SECRET_KEY", KEY)
    return url


def test_issue_list_revoke(database: str) -> None:
    issued = runner.invoke(app, ["credentials", "issue", "H460200009", "--pass-id", "cli-pass-1"])
    assert issued.exit_code == 0, issued.output
    code, pass_id, secret = issued.stdout.strip().splitlines()[-1].split("\t")
    assert (code, pass_id) == ("H460200009", "cli-pass-1") and len(secret) >= 16
    listed = runner.invoke(app, ["credentials", "list"])
    assert "cli-pass-1\tH460200009\tactive" in listed.stdout and secret not in listed.stdout
    engine = make_engine(database)
    now = datetime.now(UTC)
    stamp = str(int(now.timestamp()))
    headers = {
        "x-tif-paasid": pass_id,
        "x-tif-timestamp": stamp,
        "x-tif-nonce": "n",
        "x-tif-signature": signature(stamp, secret, "n"),
    }
    with session_scope(engine) as session:
        stored = session.scalar(select(GatewayCredential))
        assert stored is not None and secret not in stored.secret_encrypted
        caller = authenticate(session, headers=headers, secret_key=KEY, now=now)
        assert caller.institution.code == "H460200009" and caller.user.role == "hospital"
        assert caller.user.institution_id == caller.institution.id
    engine.dispose()
    assert runner.invoke(app, ["credentials", "revoke", "cli-pass-1"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["credentials", "list"]).stdout
    unknown = runner.invoke(app, ["credentials", "issue", "H999"])
    assert unknown.exit_code == 2 and "institution.not_found" in unknown.output


def test_the_demo_gives_every_institution_a_credential(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, upload_dir=tmp_path / "uploads", secret_key=KEY)
    with session_scope(engine) as session:
        result = load_demo(session, upload_dir=settings.upload_dir, gateway_secret_key=KEY)
        guide = render_guide(result, base="http://127.0.0.1:8000", db_file=tmp_path / "demo.db")
    lines = re.findall(r"^(\w+)  (demo-\S+)  (\S+)   # ", guide, flags=re.MULTILINE)
    assert [code for code, _p, _s in lines] == [row[0] for row in INSTITUTIONS]
    assert "python examples/his_2304.py --base http://127.0.0.1:8000 --code H460200001" in guide
    now = datetime.now(UTC)
    stamp = str(int(now.timestamp()))
    with session_scope(engine) as session:
        for code, pass_id, secret in lines:
            headers = {
                "x-tif-paasid": pass_id,
                "x-tif-timestamp": stamp,
                "x-tif-nonce": f"n-{code}",
                "x-tif-signature": signature(stamp, secret, f"n-{code}"),
            }
            assert (
                authenticate(session, headers=headers, secret_key=KEY, now=now).institution.code
                == code
            )
    engine.dispose()
