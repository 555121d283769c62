"""Filing services on the real schema (SQLite and PostgreSQL): rules, scope, uploads, audit."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from yibao.audit.models import AuditEntry
from yibao.documents.service import Upload
from yibao.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from yibao.filings import service
from yibao.filings.certificate import certificate_pdf
from yibao.filings.models import Filing
from yibao.filings.service import FilingRequest
from yibao.registry.models import Institution

PDF = b"%PDF-1.4\n% test\n"
DAY = date(2026, 3, 1)


@pytest.fixture
def sanya_l2(session: Session) -> Institution:
    h = Institution(
        code="HT460200009",
        name="三亚市第二医院",
        region_code="460200",
        kind="hospital",
        level=2,
        specialty="general",
        designated=True,
        networked=True,
    )
    session.add(h)
    session.flush()
    return h


def _upload(session: Session, actor: Any, filing: Filing, kind: str, tmp: Path) -> None:
    pdf = Upload(kind, f"{kind}.pdf", "application/pdf", PDF, upload_dir=tmp, max_bytes=1000)
    service.upload_document(session, actor=actor, filing_id=filing.id, upload=pdf)


def _approved(
    session: Session, world: Any, users: Any, tmp: Path, *, category: str = "long_term_resident"
) -> Filing:
    office, agency = users["street_office"].user, users["agency"].user
    filing = service.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.retiree.id,
            category=category,
            destination="460000",
            hospital_ids=[world.hospital.id] if category != "other_temporary" else None,
        ),
        today=DAY,
    )
    for kind in ("identity_copy", "commitment_letter"):
        _upload(session, office, filing, kind, tmp)
    service.submit_filing(session, actor=office, filing_id=filing.id, today=DAY)
    return service.approve_filing(session, actor=agency, filing_id=filing.id, today=DAY)


def test_commitment_letter_stands_in_for_residence_proof_in_beijing(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    filing = _approved(session, world, users, tmp_path)
    assert filing.state == "approved" and filing.number == "BA110000-2026-000001"
    assert (filing.valid_from, filing.valid_to) == (DAY, date(2027, 2, 28))
    # A province destination covers each of its cities.
    info = service.filing_info_for(
        session, person_id=world.retiree.id, on=date(2026, 6, 1), treatment_region="460200"
    )
    assert info is not None and info.destination == "460000"


def test_chosen_hospitals_limit_where_the_filing_applies(
    session: Session, world: Any, users: Any, tmp_path: Path, sanya_l2: Institution
) -> None:
    _approved(session, world, users, tmp_path)
    on = date(2026, 6, 1)
    at_chosen = service.filing_info_for(
        session,
        person_id=world.retiree.id,
        on=on,
        treatment_region="460200",
        institution_id=world.hospital.id,
    )
    elsewhere = service.filing_info_for(
        session,
        person_id=world.retiree.id,
        on=on,
        treatment_region="460200",
        institution_id=sanya_l2.id,
    )
    assert at_chosen is not None and elsewhere is None
    assert service.has_valid_long_term_filing(session, person_id=world.retiree.id, on=on)
    assert not service.has_valid_long_term_filing(
        session, person_id=world.retiree.id, on=date(2027, 3, 1)
    )


def test_numbers_count_up_per_region_and_year(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    first = _approved(session, world, users, tmp_path)
    second = _approved(session, world, users, tmp_path, category="other_temporary")
    assert (first.number, second.number) == ("BA110000-2026-000001", "BA110000-2026-000002")


def test_second_long_term_filing_is_a_conflict(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    _approved(session, world, users, tmp_path)
    with pytest.raises(Conflict) as caught:
        service.create_filing(
            session,
            actor=users["street_office"].user,
            request=FilingRequest(
                person_id=world.retiree.id,
                category="resettled_retiree",
                destination="460200",
                hospital_ids=[world.hospital.id],
            ),
            today=DAY,
        )
    assert caught.value.code == "filing.duplicate"


def test_scope_unit_office_and_reviewer(
    session: Session, world: Any, users: Any, make_user: Any, tmp_path: Path
) -> None:
    request = FilingRequest(
        person_id=world.spouse.id, category="other_temporary", destination="460200"
    )
    with pytest.raises(Forbidden):  # the spouse works for another unit
        service.create_filing(session, actor=users["unit"].user, request=request, today=DAY)
    with pytest.raises(Forbidden):  # a hospital does not apply for anyone
        service.create_filing(session, actor=users["hospital"].user, request=request, today=DAY)
    filing = service.create_filing(session, actor=users["admin"].user, request=request, today=DAY)
    with pytest.raises(NotFound):  # another unit's staff filing is invisible to this unit
        service.get_filing(session, actor=users["unit"].user, filing_id=filing.id)
    _upload(session, users["admin"].user, filing, "identity_copy", tmp_path)
    service.submit_filing(session, actor=users["admin"].user, filing_id=filing.id, today=DAY)
    baoding_reviewer = make_user("agency", agency_id=world.baoding_center.id).user
    with pytest.raises(NotFound):
        service.approve_filing(session, actor=baoding_reviewer, filing_id=filing.id, today=DAY)
    office = users["street_office"].user
    with pytest.raises(Forbidden):  # the front desk collects, the center decides
        service.approve_filing(session, actor=office, filing_id=filing.id, today=DAY)
    assert service.review_queue(session, actor=baoding_reviewer) == []


def test_reject_needs_a_reason_and_is_final(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    office, agency = users["street_office"].user, users["agency"].user
    filing = service.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.retiree.id, category="other_temporary", destination="460200"
        ),
        today=DAY,
    )
    _upload(session, office, filing, "identity_copy", tmp_path)
    service.submit_filing(session, actor=office, filing_id=filing.id, today=DAY)
    with pytest.raises(ValidationFailed):
        service.reject_filing(session, actor=agency, filing_id=filing.id, reason=" ", today=DAY)
    service.reject_filing(
        session, actor=agency, filing_id=filing.id, reason="not resident off-site", today=DAY
    )
    assert filing.state == "rejected" and filing.reject_reason == "not resident off-site"
    with pytest.raises(InvalidTransition) as caught:
        service.approve_filing(session, actor=agency, filing_id=filing.id, today=DAY)
    assert caught.value.allowed == []
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "filing.reject")).one()
    assert entry.before is not None and entry.before["state"] == "submitted"
    assert entry.after is not None and entry.after["state"] == "rejected"


def test_uploads_are_checked_by_type_size_and_state(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    office = users["street_office"].user
    filing = service.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.retiree.id, category="other_temporary", destination="460200"
        ),
        today=DAY,
    )

    def send(
        data: bytes, content_type: str = "application/pdf", kind: str = "identity_copy"
    ) -> Any:
        upload = Upload(kind, "../../etc/x.pdf", content_type, data, tmp_path, max_bytes=64)
        return service.upload_document(session, actor=office, filing_id=filing.id, upload=upload)

    for data, ctype, kind, code in [
        (b"MZ\x90\x00", "application/pdf", "identity_copy", "upload.type_not_allowed"),
        (PDF, "text/plain", "identity_copy", "upload.type_not_allowed"),
        (PDF + b"x" * 64, "application/pdf", "identity_copy", "upload.too_large"),
        (b"", "application/pdf", "identity_copy", "upload.empty"),
        (PDF, "application/pdf", "selfie", "upload.document_type_unknown"),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            send(data, ctype, kind)
        assert caught.value.code == code
    doc = send(PDF)
    assert doc.filename == "x.pdf" and doc.size_bytes == len(PDF)
    stored = tmp_path / doc.storage_path
    assert not stored.exists()  # the file takes its name when the transaction commits
    session.commit()
    assert stored.read_bytes() == PDF and stored.is_relative_to(tmp_path / "filings")


def test_expiry_job_and_local_use_setting_fallback(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    filing = _approved(session, world, users, tmp_path)
    assert service.expire_filings(session, today=date(2027, 2, 28)) == []
    assert [f.id for f in service.expire_filings(session, today=date(2027, 3, 1))] == [filing.id]
    assert filing.state == "expired"
    # Beijing allows local use while filed, whatever the platform default says.
    on = date(2026, 6, 1)
    assert not service.local_use_suspended(
        session, person_id=world.retiree.id, on=on, local_use_while_filed=False
    )


def test_emergency_validity_stretches_to_a_long_stay(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    office, agency = users["street_office"].user, users["agency"].user
    today = date(2026, 12, 20)
    filing = service.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.retiree.id,
            category="emergency",
            destination="460200",
            hotline_reference="12393-7",
            hotline_called_at=datetime(2026, 10, 1, 3, 0),
            treatment_start=date(2026, 10, 1),
            treatment_end=date(2026, 12, 15),
        ),
        today=today,
    )
    for kind in ("identity_copy", "emergency_record"):
        _upload(session, office, filing, kind, tmp_path)
    service.submit_filing(session, actor=office, filing_id=filing.id, today=today)
    service.approve_filing(session, actor=agency, filing_id=filing.id, today=today)
    assert (filing.valid_from, filing.valid_to) == (date(2026, 10, 1), date(2027, 3, 31))
    assert filing.locked_until is None


def test_certificate_pdf_and_cli(
    session: Session, world: Any, users: Any, tmp_path: Path, monkeypatch: Any, db_url: str
) -> None:
    filing = _approved(session, world, users, tmp_path)
    cert = service.certificate_data(session, filing=filing)
    assert cert["insured_region"] == {"code": "110000", "name": "北京市"}
    assert cert["destination"] == {"code": "460000", "name": "海南省"}
    assert certificate_pdf(cert).startswith(b"%PDF")
    session.commit()
    from yibao.cli.main import app
    from yibao.config import get_settings

    monkeypatch.setenv("YIBAO_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["filings", "rules", "110000"])
        assert (
            result.exit_code == 0 and json.loads(result.stdout)["hospital_choice"]["max_count"] == 3
        )
        # like the API, a certificate is shown only to a user who may see it
        anonymous = runner.invoke(app, ["filings", "certificate", "BA110000-2026-999999"])
        assert anonymous.exit_code == 2 and "--token" in anonymous.stderr
    finally:
        get_settings.cache_clear()
