"""Issue journey: the same invoice is never paid twice.

A manual claim for an invoice that a hospital already settled directly, or that another
claim already paid, cannot be paid at all; one that duplicates a claim approved but not
paid, overlaps another stay or disagrees with its lines waits for a second reviewer's
override with a written reason. The checks run again inside the approval's and the
payout's transaction, after the lock every settlement of the person's year takes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.e2e.test_reimbursement_journeys import NOW, act, person, reviewer, submit, upload
from tests.integration.test_reimburse_kit import load_rules
from yibao.audit.models import AuditEntry
from yibao.engine import Claim, ClaimLine
from yibao.reimbursements import routes as reimbursement_routes
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import record_settlement


@pytest.fixture(autouse=True)
def fixed_now(app: Any) -> None:
    app.dependency_overrides[reimbursement_routes.get_now] = lambda: NOW


@pytest.fixture
def rules(session: Session, world: World) -> None:
    load_rules(session)
    session.commit()


def direct_settlement(session: Session, world: World, p: Any, *, invoice_no: str) -> int:
    """The hospital settled the stay directly at discharge, printing ``invoice_no``."""
    row, _ = record_settlement(
        session,
        claim=Claim(
            claim_id="SY-DIRECT-1",
            date=date(2026, 5, 10),
            setting="inpatient",
            person=person_info(p),
            institution=institution_info(world.hospital),
            lines=(ClaimLine(code="X001", quantity=Decimal(1), unit_price=Decimal("500.00")),),
        ),
        person_id=p.id,
        institution_id=world.hospital.id,
        account_person_id=p.id,
        msg_id="SY-DIRECT-1",
        invoice_no=invoice_no,
    )
    session.commit()
    return row.id


def ready(client: TestClient, who: Any, center: Any, claim: dict[str, Any]) -> None:
    upload(client, who, claim["id"], *claim["required_documents"])
    assert act(client, center, claim["id"], "review").status_code == 200


def test_an_invoice_settled_directly_cannot_be_reimbursed_again(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=71, balance_fen=0)
    settlement_id = direct_settlement(session, world, p, invoice_no="46020000 1111")
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(client, insured, p, world)
    ready(client, insured, center, claim)

    refused = act(client, center, claim["id"], "approve")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "reimbursement.already_paid"
    assert f"settlement {settlement_id}" in refused.json()["detail"]
    # nothing was settled, no override is possible, and the payout is refused too
    assert (
        session.scalars(
            select(SettlementRecord).where(SettlementRecord.source == "reimbursement")
        ).all()
        == []
    )
    override = act(client, center, claim["id"], "override", reason="the patient insists")
    assert override.status_code == 409
    assert override.json()["code"] == "reimbursement.already_paid"
    state = client.get(f"/api/v1/reimbursements/{claim['id']}", headers=center.headers)
    assert state.json()["state"] == "under_review"
    finding = next(f for f in state.json()["findings"] if f["code"] == "audit.duplicate_invoice")
    assert finding["severity"] == "blocking"


def test_a_duplicate_of_a_paid_claim_cannot_be_paid(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=72, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    first = submit(client, insured, p, world)
    ready(client, insured, center, first)
    assert act(client, center, first["id"], "approve").status_code == 200
    assert act(client, center, first["id"], "pay", reference="B-1").status_code == 200

    second = submit(client, insured, p, world)
    ready(client, insured, center, second)
    refused = act(client, center, second["id"], "approve")
    assert refused.status_code == 409
    assert refused.json()["code"] == "reimbursement.already_paid"


def test_blocking_findings_need_a_second_reviewers_override_with_a_reason(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    """The same stay claimed twice while the first claim is approved but not yet paid."""
    p = person(session, sequence=73, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center, colleague = reviewer(make_user, world), reviewer(make_user, world)
    first = submit(client, insured, p, world)
    ready(client, insured, center, first)
    assert act(client, center, first["id"], "approve").status_code == 200

    second = submit(client, insured, p, world, invoices=[{"number": "X-2", "amount": "2360.00"}])
    ready(client, insured, center, second)
    refused = act(client, center, second["id"], "approve")
    assert refused.status_code == 409
    assert refused.json()["code"] == "reimbursement.blocking_findings"
    assert "overlaps" in refused.json()["detail"]

    assert act(client, center, second["id"], "override", reason="").status_code == 422
    asked = act(client, center, second["id"], "override", reason="second stay, other ward")
    assert asked.status_code == 202, asked.text
    approval = asked.json()["id"]
    own = client.post(f"/api/v1/approvals/{approval}/approve", headers=center.headers)
    assert own.status_code == 403 and own.json()["code"] == "approval.same_user"
    # still blocked while the override waits
    assert act(client, center, second["id"], "approve").status_code == 409
    decided = client.post(f"/api/v1/approvals/{approval}/approve", headers=colleague.headers)
    assert decided.status_code == 200, decided.text
    approved = act(client, center, second["id"], "approve")
    assert approved.status_code == 200, approved.text

    actions = set(
        session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "reimbursement", AuditEntry.entity_id == str(second["id"])
            )
        )
    )
    assert "reimbursement.findings_overridden" in actions


def test_approval_and_payout_replay_with_the_same_idempotency_key(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=74, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(client, insured, p, world)
    ready(client, insured, center, claim)
    url = f"/api/v1/reimbursements/{claim['id']}"
    key = {**center.headers, "Idempotency-Key": "approve-1"}
    first = client.post(f"{url}/approve", headers=key)
    again = client.post(f"{url}/approve", headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    pay_key = {**center.headers, "Idempotency-Key": "pay-1"}
    paid = client.post(f"{url}/pay", json={"reference": "B-9"}, headers=pay_key)
    replay = client.post(f"{url}/pay", json={"reference": "B-9"}, headers=pay_key)
    assert paid.status_code == replay.status_code == 200
    assert replay.json() == paid.json()
    # without a key a second payout is a plain conflict: the claim is paid once
    assert client.post(f"{url}/pay", headers=center.headers).status_code == 409


def test_allowed_actions_of_a_claim_are_routes(client: TestClient) -> None:
    """Every action a claim offers, in every state, is a route a person can call."""
    from yibao.reimbursements.states import CLAIM_WORKFLOW, allowed_actions

    paths = set(client.get("/openapi.json").json()["paths"])
    for state in CLAIM_WORKFLOW.states:
        for action in allowed_actions(state):
            assert f"/api/v1/reimbursements/{{claim_id}}/{action}" in paths, (state, action)
