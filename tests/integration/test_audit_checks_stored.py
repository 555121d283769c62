"""The audit checks on stored direct settlements, and a claim for a stay already settled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tests.conftest import World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from yibao.claim_checks import service as claim_checks
from yibao.claim_checks.models import AuditRun
from yibao.reimbursements.schemas import InvoiceIn, LineIn, PayoutIn, ReimbursementCreate
from yibao.reimbursements.service import submit_claim
from yibao.users.service import create_user

MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


def test_settlements_are_checked_once_and_a_claim_for_them_is_flagged(
    session: Session, world: World
) -> None:
    load_rules(session)
    p = add_person(
        session,
        name="稽核",
        region="110000",
        born=date(1960, 3, 3),
        sequence=95,
        person_type="retired",
    )
    four_visits = [{"code": "S001", "quantity": "1", "unit_price": "20.00"}] * 4
    outpatient = settle(session, p, world.hospital, "OUT-1", at=MAY, lines=four_visits)
    stay = settle(session, p, world.hospital, "MSG-STAY", at=MAY)
    assert outpatient.setting == "inpatient"  # the helper settles inpatient claims
    checked, found = claim_checks.audit_settlements(session, now=MAY)
    assert checked == 2
    again = claim_checks.audit_settlements(session, now=MAY)
    assert again == (0, 0)
    assert session.get(AuditRun, ("settlement", stay.id)) is not None
    overlaps = claim_checks.findings_for(session, subject_kind="settlement", subject_id=stay.id)
    # both were settled as stays ending on 2026-05-20 without an encounter: same stay
    assert [f.code for f in overlaps] == ["audit.overlapping_stay"]
    assert found == 2

    user = create_user(session, name="p", role="insured", person_id=p.id).user
    claim = submit_claim(
        session,
        actor=user,
        data=ReimbursementCreate(
            person_id=p.id,
            case_type="card_not_carried",
            setting="outpatient",
            institution_id=world.hospital.id,
            treatment_date=date(2026, 5, 20),
            total=Decimal("80.00"),
            diagnoses=["J06.9"],
            invoices=[InvoiceIn(number="msg-stay", amount=Decimal("80.00"))],
            lines=[LineIn(code="S001", quantity=Decimal(1), unit_price=Decimal("20.00"))] * 4,
            payout=PayoutIn(method="bank_account", account_number="62220000"),
        ),
        now=MAY,
    )
    codes = sorted(
        f.code
        for f in claim_checks.findings_for(
            session, subject_kind="reimbursement", subject_id=claim.id
        )
    )
    # the invoice is the stay's message id; four consultations on one day exceed 3 a day
    assert codes == ["audit.duplicate_invoice", "audit.frequency_limit"]
