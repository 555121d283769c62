"""The two service functions the FHIR face added: eligibility at an institution
(:func:`yibao.encounters.eligibility.check_eligibility`) and the filings in force a caller
may know of (:func:`yibao.filings.coverage.filings_in_force`)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.fhir.conftest import add_filing
from yibao.encounters.eligibility import check_eligibility
from yibao.errors import Forbidden
from yibao.filings.coverage import filings_in_force

DAY = date(2026, 5, 12)


def test_eligibility_by_case(session: Session, world: World, make_user: MakeUser) -> None:
    hospital = make_user("hospital").user
    person = world.retiree
    answer = check_eligibility(
        session, actor=hospital, person=person, institution_id=world.hospital.id, on=DAY
    )
    assert (answer.covered, answer.code, answer.offsite_status) == (True, "covered", "unfiled")
    assert answer.filing is None and answer.filing_covers_institution is False
    add_filing(session, person, category="referral", dest="460200")
    answer = check_eligibility(
        session, actor=hospital, person=person, institution_id=world.hospital.id, on=DAY
    )
    assert answer.offsite_status == "temporary" and answer.filing_covers_institution is True
    # outside the filing's validity: unfiled again
    answer = check_eligibility(
        session,
        actor=hospital,
        person=person,
        institution_id=world.hospital.id,
        on=date(2027, 1, 5),
    )
    assert answer.offsite_status == "unfiled"
    world.hospital.networked = False
    session.flush()
    answer = check_eligibility(
        session, actor=hospital, person=person, institution_id=world.hospital.id, on=DAY
    )
    assert (answer.covered, answer.code) == (False, "not_networked")
    world.hospital.designated = False
    session.flush()
    answer = check_eligibility(
        session, actor=hospital, person=person, institution_id=world.hospital.id, on=DAY
    )
    assert (answer.covered, answer.code) == (False, "not_designated")
    admin = make_user("admin").user
    home = check_eligibility(
        session, actor=admin, person=person, institution_id=world.beijing_hospital.id, on=DAY
    )
    assert (home.covered, home.offsite_status) == (True, "local")
    with pytest.raises(Forbidden):
        check_eligibility(
            session,
            actor=hospital,
            person=person,
            institution_id=world.other_hospital.id,
            on=DAY,
        )


def test_filings_in_force_by_caller(session: Session, world: World, make_user: MakeUser) -> None:
    person = world.retiree
    add_filing(session, person, category="resettled_retiree", dest="460000")
    add_filing(session, person, category="referral", dest="130600")
    own = filings_in_force(
        session, actor=make_user("insured", person_id=person.id).user, person=person, on=DAY
    )
    # long-term first, then the temporary one; no institution for a person
    assert [(f.type, f.destination, c) for f, c in own] == [
        ("resettled_retiree", "460000", None),
        ("referral", "130600", None),
    ]
    sanya = filings_in_force(session, actor=make_user("hospital").user, person=person, on=DAY)
    assert [(f.type, c) for f, c in sanya] == [("resettled_retiree", True)]
    beijing = filings_in_force(
        session,
        actor=make_user("hospital", institution_id=world.beijing_hospital.id).user,
        person=person,
        on=DAY,
    )
    assert beijing == []
    stranger = filings_in_force(
        session,
        actor=make_user("agency", agency_id=world.baoding_center.id).user,
        person=person,
        on=DAY,
    )
    assert stranger == []
