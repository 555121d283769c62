"""Issue journey: the figures the API shows for one thing agree with each other.

- what a region owes for a month is the clearing statement's definition, also in
  ``/settlements/totals`` (a manual reimbursement is paid by the insured region itself and
  is never cleared);
- a reversed settlement whose fund paid in advance for a third party voids its recovery
  case, also after something was recovered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import load_rules
from tests.integration.test_settle_window import API, admit, settle
from yibao.clearing import service as clearing
from yibao.engine import Claim, ClaimLine
from yibao.registry.models import Person
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import record_settlement

JUNE = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)


def _patient(session: Session, sequence: int) -> Person:
    load_rules(session)
    person = add_person(
        session,
        name="周对账",
        region="110000",
        born=date(1956, 4, 2),
        sequence=sequence,
        person_type="retired",
        balance_fen=0,
    )
    session.commit()
    return person


def test_totals_are_the_clearing_statements_figures(
    client: TestClient, session: Session, world: World, make_user: MakeUser
) -> None:
    patient = _patient(session, 81)
    hospital = make_user("hospital")
    settle(client, hospital, admit(client, hospital, patient), "k-direct")
    # a manual claim settled for the same region pair, by the insured region itself
    record_settlement(
        session,
        claim=Claim(
            claim_id="R-1",
            date=date(2026, 5, 10),
            setting="outpatient",
            person=person_info(patient),
            institution=institution_info(world.hospital),
            lines=(ClaimLine(code="X001", quantity=Decimal(1), unit_price=Decimal("300.00")),),
        ),
        person_id=patient.id,
        source="reimbursement",
        institution_id=world.hospital.id,
    )
    session.commit()
    center = make_user("agency")
    month = session.scalar(select(func.max(SettlementRecord.year_month)))
    assert month is not None
    totals = client.get(
        f"{API}/settlements/totals", params={"year_month": month}, headers=center.headers
    ).json()
    [statement] = clearing.build_month(session, actor=center.user, month=month, now=JUNE)
    [row] = totals
    assert (row["insured_region"], row["treatment_region"]) == (
        statement.insured_region,
        statement.treatment_region,
    )
    assert (row["settlements"], row["reversals"]) == (statement.settlements, statement.reversals)
    assert row["pool_fund_pay"] == f"{Decimal(statement.pool_fen) / 100:.2f}"
    assert row["total"] == f"{Decimal(statement.total_fen) / 100:.2f}"
    assert row["settlements"] == 1  # the manual claim is not in either


def test_a_reversed_advance_voids_its_recovery_case_even_after_recovery(
    client: TestClient, session: Session, make_user: MakeUser, world: World
) -> None:
    patient = _patient(session, 82)
    hospital: AuthUser = make_user("hospital")
    encounter_id = admit(client, hospital, patient, liability="third_party_unresolved")
    out = settle(client, hospital, encounter_id, "k-tp").json()
    center = make_user("agency")
    [case] = client.get(f"{API}/recovery/cases", headers=center.headers).json()
    closed = client.post(
        f"{API}/recovery/cases/{case['id']}/close",
        json={"recovered": "500.00"},
        headers={**center.headers, "Idempotency-Key": "k-close"},
    )
    assert closed.json()["state"] == "closed"
    reversed_ = client.post(
        f"{API}/settlements/{out['id']}/reverse",
        json={"reason": "wrong patient"},
        headers={**hospital.headers, "Idempotency-Key": "k-rev"},
    )
    assert reversed_.status_code == 201, reversed_.text
    after = client.get(f"{API}/recovery/cases/{case['id']}", headers=center.headers).json()
    assert after["state"] == "cancelled"
    assert after["recovered"] == "500.00"
    assert "returned to the third party" in after["note"]
