"""Issued documents and their check (yibao.verification) on the real schema: codes are long
and random, a reprint keeps its code, a changed object gets a new one and the old paper reads
"no longer valid", and the check decides validity from the live object."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.web.test_printouts import approved_filing
from yibao.errors import NotFound
from yibao.filings import service as filings
from yibao.verification import service as verification
from yibao.verification.models import IssuedDocument

SECRET = "a-test-secret-key-that-is-long-enough"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_codes_are_twenty_base32_characters_and_typed_codes_are_read_loosely() -> None:
    codes = {verification.code_of(f"salt-{i}", SECRET) for i in range(200)}
    assert len(codes) == 200
    assert all(verification.normalise_code(code) == code for code in codes)
    code = next(iter(codes))
    assert len(code) == verification.CODE_LENGTH == 20
    typed = verification.grouped(code).lower().replace("-", " - ")
    assert verification.normalise_code(typed) == code
    assert verification.normalise_code("ABCD1") is None  # too short, and 1 is not base32
    assert verification.normalise_code("A" * 19 + "1") is None
    assert verification.code_of("salt-0", "another-secret-key-long-enough") != verification.code_of(
        "salt-0", SECRET
    )


def test_a_reprint_keeps_its_code_and_only_the_digest_is_stored(
    session: Session, world: World, make_user: MakeUser, tmp_path: Path
) -> None:
    filing = approved_filing(session, world, make_user, tmp_path)
    wang = make_user("insured").user
    first, cert = verification.issue_filing_certificate(
        session, actor=wang, filing_id=filing.id, secret=SECRET, now=NOW
    )
    again, _ = verification.issue_filing_certificate(
        session, actor=wang, filing_id=filing.id, secret=SECRET, now=NOW
    )
    assert first.code == again.code and first.number == cert["filing_number"]
    assert first.issuer == "北京市医保中心"
    rows = session.scalars(select(IssuedDocument)).all()
    assert len(rows) == 1 and first.code not in (rows[0].code_hash, rows[0].salt)

    # a new secret key prints a new code, and the code already on paper still checks
    rotated, _ = verification.issue_filing_certificate(
        session, actor=wang, filing_id=filing.id, secret=SECRET + "-rotated", now=NOW
    )
    assert rotated.code != first.code
    for code in (first.code, rotated.code):
        assert verification.check(session, code=code, today=date(2026, 3, 2)).valid


def test_only_who_may_see_the_object_issues_its_document(
    session: Session, world: World, make_user: MakeUser, tmp_path: Path
) -> None:
    filing = approved_filing(session, world, make_user, tmp_path)
    other = make_user("insured", person_id=world.worker.id).user
    with pytest.raises(NotFound):
        verification.issue_filing_certificate(
            session, actor=other, filing_id=filing.id, secret=SECRET, now=NOW
        )
    assert session.scalars(select(IssuedDocument)).all() == []


def test_the_check_follows_the_filing_as_it_lives(
    session: Session, world: World, make_user: MakeUser, tmp_path: Path
) -> None:
    filing = approved_filing(session, world, make_user, tmp_path)
    office = make_user("street_office").user
    printed, _ = verification.issue_filing_certificate(
        session, actor=office, filing_id=filing.id, secret=SECRET, now=NOW
    )
    before = verification.check(session, code=printed.code, today=date(2026, 2, 27))
    assert before.genuine and before.status == "not_yet_valid"
    today = verification.check(session, code=printed.code, today=date(2026, 6, 1))
    assert today.valid and today.status == "valid" and today.number == filing.number
    assert today.facts["person_name"] == "王*休"
    assert "*" in today.facts["identity_number_masked"]
    expired = verification.check(session, code=printed.code, today=date(2027, 3, 1))
    assert not expired.valid and expired.status == "expired"
    assert expired.since == date(2027, 3, 1)

    filings.cancel_filing(
        session, actor=office, filing_id=filing.id, reason=None, today=date(2026, 7, 1)
    )
    cancelled = verification.check(session, code=printed.code, today=date(2026, 7, 2))
    assert (cancelled.valid, cancelled.status) == (False, "cancelled")
    assert cancelled.since == date(2026, 7, 2) and cancelled.facts["cancelled_on"] == date(
        2026, 7, 1
    )


def test_a_changed_filing_prints_a_new_code_and_the_old_paper_is_superseded(
    session: Session, world: World, make_user: MakeUser, tmp_path: Path
) -> None:
    filing = approved_filing(session, world, make_user, tmp_path)
    office = make_user("street_office").user
    old, _ = verification.issue_filing_certificate(
        session, actor=office, filing_id=filing.id, secret=SECRET, now=NOW
    )
    # the chosen hospitals change (as a correction would): the content differs
    session.execute(
        IssuedDocument.__table__.update()
        .where(IssuedDocument.id == select(IssuedDocument.id).scalar_subquery())
        .values(fingerprint="0" * 64)
    )
    later = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    new, _ = verification.issue_filing_certificate(
        session, actor=office, filing_id=filing.id, secret=SECRET, now=later
    )
    assert new.code != old.code
    stale = verification.check(session, code=old.code, today=date(2026, 4, 2))
    assert (stale.genuine, stale.valid, stale.status) == (True, False, "superseded")
    assert stale.since == date(2026, 4, 1)
    assert verification.check(session, code=new.code, today=date(2026, 4, 2)).valid


def test_an_unknown_code_tells_nothing(session: Session, world: World) -> None:
    for code in ("ABCDEFGHIJKLMNOPQRST", "", "x" * 500, "'; DROP TABLE issued_documents; --"):
        result = verification.check(session, code=code, today=date(2026, 3, 2))
        assert (result.genuine, result.kind, result.number, result.facts) == (
            False,
            None,
            None,
            {},
        )
