"""The filing service's functions behind the application form (备案申请): the categories a
person may choose, the hospital choice checked without saving (the same check as applying),
the signed commitment letter and the application form, editing an application before its
decision, and a page of filings with their persons."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibao.documents.models import Document
from yibao.errors import Conflict, Forbidden, ValidationFailed
from yibao.filings import service, views
from yibao.filings.letters import Contact
from yibao.filings.models import Filing
from yibao.filings.service import FilingRequest
from yibao.registry.models import Institution

DAY = date(2026, 3, 1)
CONTACT = Contact(phone="13800138000", address="三亚市吉阳区示范路 1 号")


def _draft(session: Session, actor: Any, person_id: int, hospital_id: int | None) -> Filing:
    return service.create_filing(
        session,
        actor=actor,
        request=FilingRequest(
            person_id=person_id,
            category="resettled_retiree",
            destination="460200",
            hospital_ids=[hospital_id] if hospital_id else None,
        ),
        today=DAY,
    )


def test_the_categories_offered_say_who_fits(session: Session, world: Any, users: Any) -> None:
    office = users["street_office"].user
    retiree = {
        o.code: o
        for o in service.category_options(
            session, actor=office, person_id=world.retiree.id, today=DAY
        )
    }
    assert retiree["resettled_retiree"].fits and retiree["resettled_retiree"].hospital_stamps
    assert retiree["resettled_retiree"].commitment_allowed  # Beijing: instead of residence
    assert not retiree["posted_worker"].fits
    assert any("in_service" in p for p in retiree["posted_worker"].problems)
    assert not retiree["other_temporary"].hospital_choice
    assert not retiree["other_temporary"].commitment_allowed  # needs no residence proof
    worker = {
        o.code: o
        for o in service.category_options(
            session, actor=office, person_id=world.worker.id, today=DAY
        )
    }
    assert worker["posted_worker"].fits and not worker["resettled_retiree"].fits
    with pytest.raises(Forbidden):  # another region's person
        service.category_options(
            session, actor=office, person_id=world.baoding_person.id, today=DAY
        )


def test_the_hospital_check_is_the_one_applying_makes(
    session: Session, world: Any, users: Any
) -> None:
    office = users["street_office"].user

    def check(ids: list[int], category: str = "resettled_retiree") -> list[str]:
        return service.check_hospital_choice(
            session,
            actor=office,
            person_id=world.retiree.id,
            category=category,
            destination="460200",
            hospital_ids=ids,
        )

    assert check([world.hospital.id]) == []
    assert check([]) == ["choose at least one hospital"]
    problems = check([world.pharmacy.id, world.other_hospital.id])
    assert any("is not a hospital" in p for p in problems)
    assert any("outside the destination" in p for p in problems)
    assert "does not use hospital choice" in check([world.hospital.id], "other_temporary")[0]
    before = session.scalar(select(func.count()).select_from(Filing))
    with pytest.raises(ValidationFailed) as refused:
        _draft(session, office, world.retiree.id, world.pharmacy.id)
    assert refused.value.extra["problems"] == check([world.pharmacy.id])
    assert session.scalar(select(func.count()).select_from(Filing)) == before


def test_a_signed_commitment_stands_in_for_the_residence_proof(
    session: Session, world: Any, users: Any, tmp_path: Path
) -> None:
    office = users["street_office"].user
    filing = _draft(session, office, world.retiree.id, world.hospital.id)
    assert "residence_proof" in service.missing_documents(session, filing=filing)
    with pytest.raises(ValidationFailed) as wrong_name:
        service.sign_commitment(
            session,
            actor=office,
            filing_id=filing.id,
            signer="别人",
            contact=CONTACT,
            today=DAY,
            upload_dir=tmp_path,
            max_bytes=1_000_000,
        )
    assert wrong_name.value.code == "filing.commitment_signer"
    with pytest.raises(ValidationFailed) as bad_phone:
        service.record_application_form(
            session,
            actor=office,
            filing_id=filing.id,
            contact=Contact("phone", "三亚"),
            today=DAY,
            upload_dir=tmp_path,
            max_bytes=1_000_000,
        )
    assert bad_phone.value.code == "filing.contact_invalid"
    letter = service.sign_commitment(
        session,
        actor=office,
        filing_id=filing.id,
        signer=world.retiree.name,
        contact=CONTACT,
        today=DAY,
        upload_dir=tmp_path,
        max_bytes=1_000_000,
    )
    form = service.record_application_form(
        session,
        actor=office,
        filing_id=filing.id,
        contact=CONTACT,
        today=DAY,
        upload_dir=tmp_path,
        max_bytes=1_000_000,
    )
    assert (letter.doc_type, form.doc_type) == ("commitment_letter", "application_form")
    assert letter.content_type == "application/pdf"
    missing = service.missing_documents(session, filing=filing)
    assert "residence_proof" not in missing and "identity_copy" in missing


def test_no_commitment_where_the_region_wants_the_residence_proof(
    session: Session, world: Any, make_user: Any, tmp_path: Path
) -> None:
    admin = make_user("admin").user
    filing = service.create_filing(
        session,
        actor=admin,
        request=FilingRequest(
            person_id=world.baoding_person.id, category="long_term_resident", destination="460200"
        ),
        today=DAY,
    )
    assert not service.commitment_allowed(filing)  # Baoding (seed 001)
    with pytest.raises(ValidationFailed) as refused:
        service.sign_commitment(
            session,
            actor=admin,
            filing_id=filing.id,
            signer=world.baoding_person.name,
            contact=CONTACT,
            today=DAY,
            upload_dir=tmp_path,
            max_bytes=1_000_000,
        )
    assert refused.value.code == "filing.commitment_not_allowed"
    assert session.scalar(select(func.count()).select_from(Document)) == 0


def test_an_application_is_edited_before_its_decision_only(
    session: Session, world: Any, users: Any, sanya_second: Any
) -> None:
    office = users["street_office"].user
    filing = _draft(session, office, world.retiree.id, world.hospital.id)
    edited = service.edit_application(
        session,
        actor=office,
        filing_id=filing.id,
        destination=None,
        hospital_ids=[world.hospital.id, sanya_second.id],
        today=DAY,
    )
    assert [h.id for h in views.applicable_hospitals(session, filing=edited)] == [
        world.hospital.id,
        sanya_second.id,
    ]
    with pytest.raises(ValidationFailed):
        service.edit_application(
            session,
            actor=office,
            filing_id=filing.id,
            destination=None,
            hospital_ids=[sanya_second.id, world.pharmacy.id],
            today=DAY,
        )
    service.withdraw_filing(session, actor=office, filing_id=filing.id, reason=None, today=DAY)
    with pytest.raises(Conflict):
        service.edit_application(
            session,
            actor=office,
            filing_id=filing.id,
            destination=None,
            hospital_ids=[world.hospital.id],
            today=DAY,
        )


def test_a_page_of_filings_comes_with_its_persons(
    session: Session, world: Any, users: Any, make_user: Any
) -> None:
    office = users["street_office"].user
    first = _draft(session, office, world.retiree.id, world.hospital.id)
    second = service.create_filing(
        session,
        actor=office,
        request=FilingRequest(
            person_id=world.worker.id, category="other_temporary", destination="460200"
        ),
        today=DAY,
    )
    rows = service.list_filings_page(session, actor=office, limit=1)
    assert [(f.id, p.id) for f, p in rows] == [(second.id, world.worker.id)]
    rows = service.list_filings_page(session, actor=office, limit=5, offset=1)
    assert [(f.id, p.name) for f, p in rows] == [(first.id, world.retiree.name)]
    insured = make_user("insured", person_id=world.retiree.id).user
    assert [f.id for f, _ in service.list_filings_page(session, actor=insured)] == [first.id]


@pytest.fixture
def sanya_second(session: Session) -> Institution:
    h = Institution(
        code="HT460200019",
        name="三亚市第二人民医院",
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
