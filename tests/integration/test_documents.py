"""Documents of filings and claims: atomic files, orphan clean-up, 410 for a lost file,
one vocabulary of kinds, and the migration that merged the two document tables."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import PG_ADMIN_URL, AuthUser, World
from yibao.config import Settings
from yibao.db import alembic_config, make_engine
from yibao.documents import service as documents
from yibao.documents.kinds import KNOWN_KINDS
from yibao.documents.models import Document, DocumentOwner
from yibao.documents.storage import TEMPORARY_SUFFIX
from yibao.filings import service as filings
from yibao.reimbursements.models import ReimbursementClaim

PDF = b"%PDF-1.4\n% a scanned identity card\n"
DAY = date(2026, 3, 1)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def filing_owner(session: Session, world: World, users: dict[str, AuthUser]) -> DocumentOwner:
    filing = filings.create_filing(
        session,
        actor=users["street_office"].user,
        request=filings.FilingRequest(
            person_id=world.retiree.id, category="other_temporary", destination="460200"
        ),
        today=DAY,
    )
    session.commit()
    return DocumentOwner.filing(filing.id)


@pytest.fixture
def claim_owner(session: Session, world: World) -> DocumentOwner:
    claim = ReimbursementClaim(
        person_id=world.retiree.id,
        state="submitted",
        case_type="outpatient_paid_in_full",
        setting="outpatient",
        institution_id=world.hospital.id,
        treatment_region="460200",
        insured_region="110000",
        treatment_date=DAY,
        declared_total_fen=10_000,
        diagnoses=["J06.9"],
        submitted_via="insured",
        submitted_at=datetime(2026, 3, 2, tzinfo=UTC),
        required_documents=["receipt", "identity_copy"],
        missing_documents=[],
    )
    session.add(claim)
    session.commit()
    return DocumentOwner.claim(claim.id)


def add(session: Session, owner: DocumentOwner, upload_dir: Path, **kw: Any) -> Document:
    upload = documents.Upload(
        doc_type=kw.get("kind", "identity_copy"),
        filename="id.pdf",
        content_type="application/pdf",
        data=kw.get("data", PDF),
        upload_dir=upload_dir,
        max_bytes=1000,
    )
    return documents.add_document(session, owner=owner, upload=upload, actor="test")


# --- the file appears with its row, never without it ---------------------------------------


def test_a_rolled_back_upload_leaves_no_file(
    session: Session, filing_owner: DocumentOwner, tmp_path: Path
) -> None:
    doc = add(session, filing_owner, tmp_path)
    staged = files_under(tmp_path)
    assert [p.name for p in staged] == [Path(doc.storage_path).name + TEMPORARY_SUFFIX]
    assert staged[0].read_bytes() == PDF  # written and synced before the row is flushed
    session.rollback()
    assert files_under(tmp_path) == []
    assert documents.documents_of(session, filing_owner) == []


def test_a_committed_upload_leaves_exactly_one_file(
    session: Session, filing_owner: DocumentOwner, tmp_path: Path
) -> None:
    doc = add(session, filing_owner, tmp_path)
    assert not (tmp_path / doc.storage_path).exists()
    session.commit()
    assert files_under(tmp_path) == [tmp_path / doc.storage_path]
    stored = documents.documents_of(session, filing_owner)
    assert [(d.id, d.size_bytes, d.sha256) for d in stored] == [
        (doc.id, len(PDF), hashlib.sha256(PDF).hexdigest())
    ]
    assert (tmp_path / doc.storage_path).read_bytes() == PDF


def test_a_rolled_back_savepoint_takes_its_file_along(
    session: Session, filing_owner: DocumentOwner, tmp_path: Path
) -> None:
    kept = add(session, filing_owner, tmp_path)
    with pytest.raises(RuntimeError), session.begin_nested():
        add(session, filing_owner, tmp_path, kind="other")
        raise RuntimeError("the demo filing went wrong")
    with session.begin_nested():  # a released savepoint publishes nothing yet
        inner = add(session, filing_owner, tmp_path, kind="residence_proof")
    assert not (tmp_path / inner.storage_path).exists()
    session.commit()
    assert files_under(tmp_path) == sorted(
        [tmp_path / kept.storage_path, tmp_path / inner.storage_path]
    )


def test_a_failed_flush_removes_the_written_file(
    session: Session, world: World, tmp_path: Path
) -> None:
    with pytest.raises(IntegrityError):
        add(session, DocumentOwner.filing(987_654), tmp_path)  # no such filing
    session.rollback()
    assert files_under(tmp_path) == []


# --- crash leftovers ------------------------------------------------------------------------


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_cleanup_publishes_committed_leftovers_and_removes_orphans(
    session: Session, filing_owner: DocumentOwner, tmp_path: Path
) -> None:
    # A crash between the commit and the rename: the row exists, the file kept its
    # temporary name.
    committed = add(session, filing_owner, tmp_path)
    session.commit()
    final = tmp_path / committed.storage_path
    interrupted = final.with_name(final.name + TEMPORARY_SUFFIX)
    final.rename(interrupted)
    _age(interrupted, 7200)
    # A crash before the commit: no row will ever come.
    orphan = tmp_path / "filings" / "1" / f"abc.pdf{TEMPORARY_SUFFIX}"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(PDF)
    _age(orphan, 7200)
    # An upload in flight right now: too young to touch.
    young = tmp_path / "reimbursements" / "2" / f"def.png{TEMPORARY_SUFFIX}"
    young.parent.mkdir(parents=True)
    young.write_bytes(b"\x89PNG\r\n\x1a\n")

    # Until the clean-up runs, the committed document is still readable.
    _, path = documents.stored_file(
        session, owner=filing_owner, document_id=committed.id, upload_dir=tmp_path
    )
    assert path == interrupted

    done = documents.clean_up_uploads(session, upload_dir=tmp_path)
    assert done.published == [committed.storage_path]
    assert done.removed == ["filings/1/abc.pdf.tmp"]
    assert files_under(tmp_path) == sorted([final, young])
    assert final.read_bytes() == PDF
    # Nothing left to do the second time.
    again = documents.clean_up_uploads(session, upload_dir=tmp_path)
    assert (again.published, again.removed) == ([], [])
    assert documents.clean_up_uploads(session, upload_dir=tmp_path / "none").removed == []


def test_cleanup_command(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    from yibao.cli.main import app

    orphan = tmp_path / "filings" / "9" / f"x.pdf{TEMPORARY_SUFFIX}"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(PDF)
    _age(orphan, 600)
    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    monkeypatch.setenv("YIBAO_UPLOAD_DIR", str(tmp_path))
    runner = CliRunner()
    kept = runner.invoke(app, ["documents", "cleanup"])
    assert kept.exit_code == 0, kept.output
    assert orphan.exists()  # younger than the default hour
    result = runner.invoke(app, ["documents", "cleanup", "--older-than-minutes", "5"])
    assert result.exit_code == 0, result.output
    assert "removed filings/9/x.pdf.tmp" in result.stdout
    assert not orphan.exists()


def test_start_up_cleanup_never_stops_the_server(
    tmp_path: Path, db_url: str, engine: Engine
) -> None:
    from yibao.documents.cli import clean_up_at_start

    orphan = tmp_path / "filings" / "9" / f"x.pdf{TEMPORARY_SUFFIX}"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(PDF)
    _age(orphan, 7200)
    done = clean_up_at_start(Settings(database_url=db_url, upload_dir=tmp_path))
    assert done is not None and done.removed == ["filings/9/x.pdf.tmp"]
    broken = Settings(database_url=f"sqlite:///{tmp_path}/empty.db", upload_dir=tmp_path)
    orphan.write_bytes(PDF)
    _age(orphan, 7200)
    assert clean_up_at_start(broken) is None  # no schema there: said, and skipped


# --- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(params=["filing", "claim"])
def owned(request: pytest.FixtureRequest, users: dict[str, AuthUser]) -> tuple[str, AuthUser]:
    """The documents URL of a filing or a claim, and a user who may upload there."""
    if request.param == "filing":
        owner: DocumentOwner = request.getfixturevalue("filing_owner")
        return f"/api/v1/filings/{owner.id}/documents", users["street_office"]
    owner = request.getfixturevalue("claim_owner")
    return f"/api/v1/reimbursements/{owner.id}/documents", users["insured"]


def test_a_missing_file_answers_410_and_an_unknown_id_404(
    client: TestClient, owned: tuple[str, AuthUser], settings: Settings
) -> None:
    url, who = owned
    created = client.post(
        url,
        headers=who.headers,
        data={"doc_type": "identity_copy"},
        files={"file": ("id.pdf", PDF, "application/pdf")},
    )
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]
    fetched = client.get(f"{url}/{doc_id}", headers=who.headers)
    assert fetched.status_code == 200 and fetched.content == PDF

    for stored in files_under(settings.upload_dir):
        stored.unlink()
    gone = client.get(f"{url}/{doc_id}", headers=who.headers)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    body = gone.json()
    assert body["code"] == "document.file_missing"
    assert body["detail"] == f"the stored file of document {doc_id} is missing; upload it again"
    assert body["document_id"] == doc_id

    unknown = client.get(f"{url}/{doc_id + 1000}", headers=who.headers)
    assert unknown.status_code == 404
    assert unknown.json()["code"].endswith(".document_not_found")


def test_an_unknown_kind_is_refused_naming_it(
    client: TestClient, owned: tuple[str, AuthUser], settings: Settings
) -> None:
    url, who = owned
    for kind, hint in [("selfie", None), ("id_copy", "identity_copy")]:
        refused = client.post(
            url,
            headers=who.headers,
            data={"doc_type": kind},
            files={"file": ("x.pdf", PDF, "application/pdf")},
        )
        assert refused.status_code == 422
        body = refused.json()
        assert body["code"] == "upload.document_type_unknown"
        assert f"unknown document kind {kind!r}" in body["detail"]
        assert "identity_copy, residence_proof" in body["detail"]
        assert body["kind"] == kind and body["known"] == list(KNOWN_KINDS)
        assert body.get("renamed_to") == hint
    assert files_under(settings.upload_dir) == []


# --- the migration ----------------------------------------------------------------------------


@pytest.fixture
def blank_db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the run's kind, for migrating step by step."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"yibao_m_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BEFORE_DATA = """
INSERT INTO regions (code, name, province_code) VALUES ('110000', '北京市', '110000');
INSERT INTO institutions (id, code, name, region_code, kind, level, specialty, designated,
    networked) VALUES (1, 'H1', '医院', '110000', 'hospital', 3, 'general', true, true);
INSERT INTO persons (id, identity_number, name, sex, birth_date, scheme, person_type,
    insured_region, assistance_eligible)
    VALUES (1, '110101195503010011', '王', 'M', '1955-03-01', 'employee', 'retired', '110000', false);
INSERT INTO users (id, name, role, token_id, token_hash, active)
    VALUES (1, 'desk', 'admin', 't1', 'h', true);
INSERT INTO filings (id, person_id, insured_region, category, state, destination, submitted_via,
    hospitals_chosen, missing_documents, returned_after_document_id)
    VALUES (1, 1, '110000', 'long_term_resident', 'returned', '460200', 'agency', false,
    '["id_copy", "residence_proof"]', 2);
INSERT INTO filing_documents (id, filing_id, doc_type, filename, content_type, size_bytes, sha256,
    storage_path, uploaded_by_user_id) VALUES
    (1, 1, 'id_copy', 'a.pdf', 'application/pdf', 10, 'aa', 'filings/1/a.pdf', 1),
    (2, 1, 'residence_proof', 'b.pdf', 'application/pdf', 11, 'bb', 'filings/1/b.pdf', NULL);
INSERT INTO reimbursement_claims (id, person_id, state, case_type, setting, institution_id,
    treatment_region, insured_region, treatment_date, emergency, declared_total_fen, diagnoses,
    submitted_via, submitted_at, required_documents, missing_documents)
    VALUES (1, 1, 'returned', 'outpatient_paid_in_full', 'outpatient', 1, '110000', '110000',
    '2026-03-01', false, 100, '["J06.9"]', 'insured', '2026-03-02 10:00:00+00',
    '["receipts", "prescriptions", "identity_copy"]', '["prescriptions"]');
INSERT INTO reimbursement_documents (id, claim_id, doc_type, filename, content_type, size_bytes,
    sha256, storage_path, superseded, uploaded_by) VALUES
    (1, 1, 'receipts', 'r.pdf', 'application/pdf', 12, 'cc', 'reimbursements/1/r.pdf', false, 1),
    (2, 1, 'identity_copy', 'i.pdf', 'application/pdf', 13, 'dd', 'reimbursements/1/i.pdf', false, NULL),
    (3, 1, 'prescriptions', 'p.pdf', 'application/pdf', 14, 'ee', 'reimbursements/1/p.pdf', true, 1);
"""


def test_migration_merges_the_tables_and_renames_the_kinds(blank_db_url: str) -> None:
    config = alembic_config(blank_db_url)
    before = ScriptDirectory.from_config(config).get_revision("0007_documents").down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    engine = make_engine(blank_db_url)
    try:
        with engine.begin() as conn:
            for statement in BEFORE_DATA.split(";"):
                if statement.strip():
                    conn.execute(text(statement))
        command.upgrade(config, "0007_documents")
        with engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, filing_id, claim_id, doc_type, superseded, uploaded_by_user_id,"
                    " storage_path FROM documents ORDER BY id"
                )
            ).all()
            assert [tuple(r) for r in rows] == [
                (1, 1, None, "identity_copy", False, 1, "filings/1/a.pdf"),
                (2, 1, None, "residence_proof", False, None, "filings/1/b.pdf"),
                # claim documents follow every old id: old id + 3
                (4, None, 1, "receipt", False, 1, "reimbursements/1/r.pdf"),
                (5, None, 1, "identity_copy", False, None, "reimbursements/1/i.pdf"),
                (6, None, 1, "prescription", True, 1, "reimbursements/1/p.pdf"),
            ]
            lists = conn.execute(
                text("SELECT required_documents, missing_documents FROM reimbursement_claims")
            ).one()
            assert [_json(v) for v in lists] == [
                ["receipt", "prescription", "identity_copy"],
                ["prescription"],
            ]
            missing = conn.execute(text("SELECT missing_documents FROM filings")).scalar_one()
            assert _json(missing) == ["identity_copy", "residence_proof"]
            # new rows continue after the copied ids
            conn.execute(
                text(
                    "INSERT INTO documents (claim_id, doc_type, filename, content_type,"
                    " size_bytes, sha256, storage_path, superseded)"
                    " VALUES (1, 'receipt', 'n.pdf', 'application/pdf', 1, 'ff', 'n', false)"
                )
            )
            assert conn.execute(text("SELECT max(id) FROM documents")).scalar_one() == 7
            with pytest.raises(IntegrityError), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO documents (claim_id, doc_type, filename, content_type,"
                        " size_bytes, sha256, storage_path, superseded)"
                        " VALUES (1, 'id_copy', 'n.pdf', 'application/pdf', 1, 'ff', 'n', false)"
                    )
                )
        command.upgrade(config, "head")

        command.downgrade(config, before)
        with engine.begin() as conn:
            assert conn.execute(
                text("SELECT id, doc_type FROM filing_documents ORDER BY id")
            ).all() == [(1, "id_copy"), (2, "residence_proof")]
            assert [
                tuple(r)
                for r in conn.execute(
                    text("SELECT doc_type, superseded FROM reimbursement_documents ORDER BY id")
                )
            ] == [
                ("receipts", False),
                ("identity_copy", False),
                ("prescriptions", True),
                ("receipts", False),
            ]
            lists = conn.execute(
                text("SELECT required_documents, missing_documents FROM reimbursement_claims")
            ).one()
            assert [_json(v) for v in lists] == [
                ["receipts", "prescriptions", "identity_copy"],
                ["prescriptions"],
            ]
            missing = conn.execute(text("SELECT missing_documents FROM filings")).scalar_one()
            assert _json(missing) == ["id_copy", "residence_proof"]
    finally:
        engine.dispose()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
