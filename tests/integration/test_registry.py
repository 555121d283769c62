"""Registry services: enrolment, scoping, accounts, family links, and their audit trail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from yibao.audit.models import AuditEntry
from yibao.errors import Conflict, ValidationFailed
from yibao.identity import make_identity_number
from yibao.registry import access, service
from yibao.registry.models import Account, Person


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_register_person_derives_sex_and_birth_and_opens_an_account(
    session: Session, world: World
) -> None:
    number = make_identity_number("110105", date(1990, 5, 17), 135)
    person = service.register_person(
        session,
        identity_number=number,
        name="新参保",
        scheme="employee",
        person_type="in_service",
        insured_region="110000",
        unit_id=world.unit.id,
        opening_balance=Decimal("88.80"),
        actor="test",
    )
    assert (person.sex, person.birth_date) == ("M", date(1990, 5, 17))
    account = session.get(Account, person.id)
    assert account is not None and account.balance_fen == 8880
    view = service.account_of(session, actor="test", person_id=person.id)
    assert [(m.amount_fen, m.kind) for m in view.movements] == [(8880, "opening_balance")]
    entry = _audit(session, "person.registered")[-1]
    assert entry.after is not None
    assert entry.after["identity_number"] == "110105********" + number[-4:]
    assert number not in str(entry.after)


def test_bad_check_digit_is_refused(session: Session, world: World) -> None:
    number = make_identity_number("110105", date(1990, 5, 17), 135)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as err:
        service.register_person(
            session,
            identity_number=wrong,
            name="x",
            scheme="employee",
            person_type="in_service",
            insured_region="110000",
            actor="test",
        )
    assert err.value.code == "identity.check_digit"


def test_same_identity_twice_conflicts(session: Session, world: World) -> None:
    with pytest.raises(Conflict):
        service.register_person(
            session,
            identity_number=world.retiree.identity_number,
            name="dup",
            scheme="employee",
            person_type="retired",
            insured_region="110000",
            actor="test",
        )


def test_unit_must_be_in_the_insured_region(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as err:
        service.register_person(
            session,
            identity_number=make_identity_number("130602", date(1980, 1, 1), 11),
            name="x",
            scheme="employee",
            person_type="in_service",
            insured_region="130600",
            unit_id=world.unit.id,
            actor="test",
        )
    assert err.value.code == "person.unit_region"


def test_account_never_goes_negative_and_movements_sum_to_the_balance(
    session: Session, world: World
) -> None:
    # the retiree starts with 1,234.56
    service.post_movement(
        session,
        person_id=world.retiree.id,
        amount=Decimal("-234.56"),
        kind="adjustment",
        ref="r1",
        actor="test",
    )
    service.post_movement(
        session,
        person_id=world.retiree.id,
        amount=Decimal("10.01"),
        kind="contribution",
        ref="r2",
        actor="test",
    )
    view = service.account_of(session, actor="test", person_id=world.retiree.id)
    assert view.balance == Decimal("1010.01")
    assert [m.balance_after_fen for m in view.movements] == [100_000, 101_001]
    with pytest.raises(ValidationFailed) as err:
        service.post_movement(
            session,
            person_id=world.retiree.id,
            amount=Decimal("-1010.02"),
            kind="adjustment",
            ref=None,
            actor="test",
        )
    assert err.value.code == "account.insufficient"
    assert service.account_of(session, actor="test", person_id=world.retiree.id).balance == Decimal(
        "1010.01"
    )
    moved = _audit(session, "account.moved")
    assert [(e.before, e.after and e.after["balance"]) for e in moved] == [
        ({"balance": "1234.56"}, "1000.00"),
        ({"balance": "1000.00"}, "1010.01"),
    ]


def test_family_links_go_both_ways(session: Session, world: World) -> None:
    service.link_family(
        session,
        person_id=world.worker.id,
        relative_id=world.retiree.id,
        relation="parent",
        actor="test",
    )
    assert service.is_family(session, person_id=world.retiree.id, relative_id=world.worker.id)
    back = service.family_of(session, actor="test", person_id=world.retiree.id)
    assert [(link.relation, p.id) for link, p in back] == [("child", world.worker.id)]
    with pytest.raises(Conflict):
        service.link_family(
            session,
            person_id=world.retiree.id,
            relative_id=world.worker.id,
            relation="child",
            actor="test",
        )
    service.unlink_family(
        session, person_id=world.retiree.id, relative_id=world.worker.id, actor="test"
    )
    assert service.family_of(session, actor="test", person_id=world.worker.id) == []


def test_scoping_by_role(session: Session, world: World, make_user: MakeUser) -> None:
    def visible(role: str, **scope: object) -> set[int]:
        user = make_user(role, **scope).user
        clause = access.person_scope(session, user)
        stmt = select(Person.id)
        if clause is not None:
            stmt = stmt.where(clause)
        return set(session.scalars(stmt))

    everyone = {world.retiree.id, world.worker.id, world.spouse.id, world.baoding_person.id}
    beijing = everyone - {world.baoding_person.id}
    assert visible("admin") == everyone
    assert visible("agency") == beijing
    assert visible("street_office") == beijing
    assert visible("agency", agency_id=world.baoding_center.id) == {world.baoding_person.id}
    assert visible("unit") == {world.worker.id}
    assert visible("insured", person_id=world.spouse.id) == {world.spouse.id}
    assert visible("hospital") == set()


def test_full_identity_only_for_self_agency_of_region_and_admin(
    session: Session, world: World, make_user: MakeUser
) -> None:
    person = world.retiree
    assert access.may_see_full_identity(session, make_user("admin").user, person)
    assert access.may_see_full_identity(session, make_user("insured").user, person)
    assert access.may_see_full_identity(session, make_user("agency").user, person)
    assert not access.may_see_full_identity(
        session, make_user("agency", agency_id=world.baoding_center.id).user, person
    )
    assert not access.may_see_full_identity(session, make_user("street_office").user, person)
    assert not access.may_see_full_identity(session, make_user("unit").user, person)
    assert not access.may_see_full_identity(
        session, make_user("insured", person_id=world.worker.id).user, person
    )


def test_hospital_patients_come_from_registered_checks(
    session: Session, world: World, make_user: MakeUser
) -> None:
    hospital = make_user("hospital").user
    assert not access.can_see_person(session, hospital, world.retiree)

    def treats_retiree(_s: Session, institution_id: int, person_id: int) -> bool:
        return institution_id == world.hospital.id and person_id == world.retiree.id

    access.register_hospital_patient_check(treats_retiree)
    try:
        assert access.hospital_can_see(session, world.hospital.id, world.retiree.id)
        assert access.can_see_person(session, hospital, world.retiree)
        assert not access.can_see_person(session, hospital, world.worker)
    finally:
        access._HOSPITAL_PATIENT_CHECKS.remove(treats_retiree)


def test_region_needs_its_province(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as err:
        service.create_region(session, code="120100", name="天津市辖区", actor="test")
    assert err.value.code == "region.province"
    service.create_region(session, code="120000", name="天津市", actor="test")
    city = service.create_region(session, code="120100", name="天津市辖区", actor="test")
    assert city.province_code == "120000"


def test_institution_rules(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed):
        service.create_institution(
            session,
            code="P1",
            name="药房",
            region_code="460200",
            kind="pharmacy",
            level=2,
            actor="test",
        )
    changed = service.update_institution(
        session, institution_id=world.hospital.id, changes={"networked": False}, actor="test"
    )
    assert changed.networked is False
    entry = _audit(session, "institution.updated")[-1]
    assert entry.before is not None and entry.before["networked"] is True
    assert entry.after is not None and entry.after["networked"] is False


def test_a_hospital_sees_the_patients_its_filings_name(
    session: Session, world: World, make_user: MakeUser
) -> None:
    from yibao.filings import service as filings

    beijing_hospital = make_user("hospital", institution_id=world.beijing_hospital.id).user
    sanya_hospital = make_user("hospital").user
    assert not access.can_see_person(session, beijing_hospital, world.retiree)
    agency = make_user("agency").user
    filings.create_filing(
        session,
        actor=agency,
        request=filings.FilingRequest(
            person_id=world.retiree.id,
            category="referral",
            destination="460200",
            referral_hospital_id=world.beijing_hospital.id,
        ),
        today=date(2026, 3, 2),
    )
    assert access.can_see_person(session, beijing_hospital, world.retiree)
    assert not access.can_see_person(session, sanya_hospital, world.retiree)
    filings.create_filing(
        session,
        actor=agency,
        request=filings.FilingRequest(
            person_id=world.retiree.id,
            category="resettled_retiree",
            destination="460200",
            hospital_ids=[world.hospital.id],
        ),
        today=date(2026, 3, 2),
    )
    # the issuing hospital and the chosen one see the retiree, no one else
    assert access.can_see_person(session, beijing_hospital, world.retiree)
    assert access.can_see_person(session, sanya_hospital, world.retiree)
    assert not access.can_see_person(session, beijing_hospital, world.worker)
    other = make_user("hospital", institution_id=world.other_hospital.id).user
    assert not access.can_see_person(session, other, world.retiree)
