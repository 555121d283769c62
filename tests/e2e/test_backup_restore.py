"""``yibao backup`` of a busy platform and ``yibao restore`` into a fresh database.

Settlements (with their accumulators, account movements and audit entries) and uploads are
written from a thread while the backup runs. The restored database is the source as of one
instant: every settlement, document and audit entry it holds is identical to the source's;
its accumulators and balances are exactly those of its own settlements (and the source's
differ by exactly the settlements made after the backup); every document has its file, byte
for byte; the manifest's row counts match; ``yibao audit verify`` finds the chain intact.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.fresh_db import empty_database, fresh_database
from tests.integration.test_settle_concurrency import _setup
from yibao.api.app import create_app
from yibao.audit.models import AuditEntry
from yibao.cli.main import app as cli_app
from yibao.config import Settings
from yibao.db import make_engine, session_scope
from yibao.documents.models import Document, DocumentOwner
from yibao.documents.service import Upload, add_document
from yibao.registry.models import Account
from yibao.reimbursements.models import ReimbursementClaim
from yibao.settlements.models import SettlementRecord, YearAccumulator

ENCOUNTERS = 40
PDF = b"%PDF-1.4\n% test document\n"


def _cli(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args), env=env)


def _claim(engine: Engine, data: dict[str, Any]) -> int:
    with session_scope(engine) as s:
        encounter = s.execute(
            text("SELECT institution_id FROM encounters WHERE id = :e"),
            {"e": data["encounters"][0]},
        ).scalar_one()
        claim = ReimbursementClaim(
            person_id=data["person_id"], state="submitted", case_type="emergency",
            setting="outpatient", institution_id=encounter, treatment_region="110000",
            insured_region="110000", treatment_date=date(2026, 3, 2), declared_total_fen=1000,
            submitted_via="window", submitted_at=datetime(2026, 3, 3, tzinfo=UTC),
        )  # fmt: skip
        s.add(claim)
        s.flush()
        return claim.id


def _upload(engine: Engine, claim_id: int, uploads: Path, n: int) -> None:
    with session_scope(engine) as s:
        add_document(
            s,
            owner=DocumentOwner.claim(claim_id),
            upload=Upload(
                doc_type="receipt",
                filename=f"r{n}.pdf",
                content_type="application/pdf",
                data=PDF + f"{n}\n".encode() * (n + 1),
                upload_dir=uploads,
                max_bytes=1_000_000,
            ),
            actor="test",
        )


def _rows(session: Session, model: Any) -> dict[Any, dict[str, Any]]:
    table = model.__table__
    key = list(table.primary_key.columns)
    out = {}
    for row in session.execute(select(table)):
        mapping = dict(row._mapping)
        out[tuple(mapping[c.name] for c in key)] = mapping
    return out


def test_a_busy_platform_backs_up_and_restores_identically(tmp_path: Path) -> None:
    uploads, restored_uploads = tmp_path / "uploads", tmp_path / "restored-uploads"
    backup = tmp_path / "backups" / "nightly"
    with (
        fresh_database(tmp_path / "a", "bsrc") as source_url,
        empty_database(tmp_path / "b", "bdst") as target_url,
    ):
        engine = make_engine(source_url, pool_size=5)
        data = _setup(engine, ENCOUNTERS)
        claim_id = _claim(engine, data)
        _upload(engine, claim_id, uploads, 0)
        app = create_app(
            Settings(environment="test", database_url=source_url, upload_dir=uploads),
            engine=engine,
        )
        settled: list[int] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def busy() -> None:
            try:
                with TestClient(app) as client:
                    for n, encounter in enumerate(data["encounters"]):
                        if stop.is_set():
                            return
                        answer = client.post(
                            f"/api/v1/encounters/{encounter}/settle",
                            json={"on": "2026-03-02"},
                            headers={
                                "Authorization": f"Bearer {data['token']}",
                                "Idempotency-Key": f"busy-{encounter}",
                            },
                        )
                        assert answer.status_code == 201, answer.text
                        if n < 8:
                            _upload(engine, claim_id, uploads, n + 1)
                        settled.append(encounter)
            except BaseException as exc:  # reported by the test
                errors.append(exc)

        worker = threading.Thread(target=busy)
        worker.start()
        deadline = time.monotonic() + 120
        while len(settled) < 3 and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.05)
        before = len(settled)
        source_env = {"YIBAO_DATABASE_URL": source_url, "YIBAO_UPLOAD_DIR": str(uploads)}
        made = _cli(source_env, "backup", str(backup))
        after = len(settled)
        while len(settled) < after + 3 and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.05)
        stop.set()
        worker.join(timeout=120)
        assert not errors, errors
        assert made.exit_code == 0, made.output
        assert "backup written to" in made.output
        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["alembic_revision"] is not None
        # settled once the answer came: one more may have committed, not yet counted
        assert before <= manifest["tables"]["settlements"] <= after + 1
        assert len(settled) > manifest["tables"]["settlements"], "writes went on afterwards"

        # a backup is never written over, nor restored into a database that holds data
        again = _cli(source_env, "backup", str(backup))
        assert again.exit_code == 2 and "is not an empty folder" in again.output
        refused = _cli(source_env, "restore", str(backup))
        assert refused.exit_code == 2 and "not empty" in refused.output

        target_env = {"YIBAO_DATABASE_URL": target_url, "YIBAO_UPLOAD_DIR": str(restored_uploads)}
        restored = _cli(target_env, "restore", str(backup))
        assert restored.exit_code == 0, restored.output
        assert "audit chain intact" in restored.output
        verified = _cli(target_env, "audit", "verify")
        assert verified.exit_code == 0, verified.output

        target = make_engine(target_url)
        with Session(engine) as src, Session(target) as dst:
            kept = _rows(dst, SettlementRecord)
            assert len(kept) == manifest["tables"]["settlements"]
            source_settlements = _rows(src, SettlementRecord)
            for key, row in kept.items():
                assert source_settlements[key] == row
            later = [r for k, r in source_settlements.items() if k not in kept]
            assert later, "some settlements came after the backup"

            for model in (AuditEntry, Document):
                source_rows, restored_rows = _rows(src, model), _rows(dst, model)
                assert restored_rows, model
                for key, row in restored_rows.items():
                    assert source_rows[key] == row

            # the restored year and account are exactly its own settlements'
            acc = dst.get(YearAccumulator, (data["person_id"], 2026))
            source_acc = src.get(YearAccumulator, (data["person_id"], 2026))
            assert acc is not None and source_acc is not None
            assert acc.outpatient_in_scope_cum_fen == sum(r["in_scope_fen"] for r in kept.values())
            assert source_acc.outpatient_in_scope_cum_fen - acc.outpatient_in_scope_cum_fen == sum(
                r["in_scope_fen"] for r in later
            )
            balance = dst.get(Account, data["person_id"])
            source_balance = src.get(Account, data["person_id"])
            assert balance is not None and source_balance is not None
            assert 300_000 - balance.balance_fen == sum(r["account_pay_fen"] for r in kept.values())
            assert balance.balance_fen - source_balance.balance_fen == sum(
                r["account_pay_fen"] for r in later
            )

            # every restored document has its file, byte for byte
            for document in dst.scalars(select(Document)):
                stored = restored_uploads / document.storage_path
                final = stored if stored.exists() else Path(f"{stored}.tmp")
                assert final.read_bytes().startswith(PDF)
                assert final.read_bytes() == (uploads / document.storage_path).read_bytes()
        target.dispose()
        engine.dispose()


def test_a_damaged_backup_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    backup = tmp_path / "backup"
    with (
        fresh_database(tmp_path / "a", "dsrc") as source_url,
        empty_database(tmp_path / "b", "ddst") as target_url,
    ):
        engine = make_engine(source_url)
        data = _setup(engine, 1)
        _upload(engine, _claim(engine, data), uploads, 0)
        engine.dispose()
        made = _cli(
            {"YIBAO_DATABASE_URL": source_url, "YIBAO_UPLOAD_DIR": str(uploads)},
            "backup",
            str(backup),
        )
        assert made.exit_code == 0, made.output
        document = next((backup / "uploads").rglob("*.pdf"))
        document.write_bytes(document.read_bytes() + b"tampered")
        target_env = {"YIBAO_DATABASE_URL": target_url, "YIBAO_UPLOAD_DIR": str(tmp_path / "r")}
        result = _cli(target_env, "restore", str(backup))
        assert result.exit_code == 2
        assert "does not match its checksum" in result.output
        assert document.relative_to(backup).as_posix() in result.output
        assert not (tmp_path / "r").exists()
        target = make_engine(target_url)
        with target.connect() as conn:
            from sqlalchemy import inspect

            assert inspect(conn).get_table_names() == []
        target.dispose()
