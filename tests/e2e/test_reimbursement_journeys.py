"""Manual reimbursement (零星报销) journeys of the seeds, over HTTP.

Figures are hand-computed from ``settle_kit.POLICY`` and the stay ``settle_kit.STAY``
(total 2,360.00 at a level-3 Sanya hospital): in scope 1000 (X001) + 900 (X002 after its
10% first self-pay of 100) + 100 (M001 at its 50.00 ceiling, 60 over the limit) = 2000;
X003 (class C) 200 is fully self-paid; the first admission's deductible is 1000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_reimburse_kit import STAY, load_rules
from yibao.audit.models import AuditEntry
from yibao.filings.models import Filing
from yibao.identity import make_identity_number
from yibao.registry.models import Account, Person
from yibao.reimbursements import routes as reimbursement_routes
from yibao.settlements.models import SettlementRecord, YearAccumulator

API = "/api/v1/reimbursements"
PDF = b"%PDF-1.4\n% a scanned document\n"
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
LINES = [
    {"code": line["code"], "quantity": line["quantity"], "unit_price": line["unit_price"]}
    for line in STAY
]


@pytest.fixture(autouse=True)
def fixed_now(app: Any) -> datetime:
    app.dependency_overrides[reimbursement_routes.get_now] = lambda: NOW
    return NOW


@pytest.fixture
def rules(session: Session, world: World) -> None:
    load_rules(session)
    session.commit()


def person(session: Session, *, sequence: int, balance_fen: int, name: str = "孙退休") -> Person:
    p = add_person(
        session,
        name=name,
        region="110000",
        born=date(1957, 8, 8),
        sequence=sequence,
        person_type="retired",
        balance_fen=balance_fen,
    )
    session.commit()
    return p


def filing(
    session: Session, p: Person, *, category: str, start: date, end: date, dest: str = "460000"
) -> Filing:
    row = Filing(
        person_id=p.id,
        insured_region="110000",
        category=category,
        state="approved",
        destination=dest,
        submitted_via="person",
        valid_from=start,
        valid_to=end,
    )
    session.add(row)
    session.commit()
    return row


def submit(
    client: TestClient, who: AuthUser, p: Person, world: World, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": p.id,
        "case_type": "offsite_no_direct",
        "setting": "inpatient",
        "institution_id": world.hospital.id,
        "admitted_on": "2026-05-01",
        "treatment_date": "2026-05-10",
        "total": "2360.00",
        "diagnoses": ["I21.0"],
        "invoices": [{"number": "4602-0000-1111", "amount": "2360.00"}],
        "lines": LINES,
        "payout": {"method": "passbook", "account_number": "6217000011112222"},
    }
    body.update(overrides)
    response = client.post(API, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def upload(client: TestClient, who: AuthUser, claim_id: int, *doc_types: str) -> None:
    for doc_type in doc_types:
        response = client.post(
            f"{API}/{claim_id}/documents",
            data={"doc_type": doc_type},
            files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
            headers=who.headers,
        )
        assert response.status_code == 201, response.text


def act(client: TestClient, who: AuthUser, claim_id: int, action: str, **body: Any) -> Any:
    return client.post(f"{API}/{claim_id}/{action}", json=body or None, headers=who.headers)


def reviewer(make_user: MakeUser, world: World) -> AuthUser:
    return make_user("agency", agency_id=world.center.id, region_code="110000")


def test_seed_000_offsite_reimbursement_with_every_document_paid_to_a_passbook(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    """A resettled retiree (long-term filing for Hainan: no reduction) paid in full in Sanya.
    Pool 80% × (2000 − 1000) = 800; supplementary 50% × (2000 − 800) = 600; funds 1400;
    the personal parts are 600 + 100 + 60 + 200 = 960, of which the account (500.00) pays
    500; the person gets back 1400 + 500 = 1900.00 on the passbook."""
    p = person(session, sequence=51, balance_fen=50_000)
    filing(session, p, category="resettled_retiree", start=date(2026, 1, 1), end=date(2026, 12, 31))
    unit = make_user("street_office", agency_id=world.street_office.id, region_code="110000")
    center = reviewer(make_user, world)

    claim = submit(client, unit, p, world)
    assert claim["state"] == "submitted"
    assert claim["submitted_via"] == "street_office"
    assert claim["required_documents"] == [
        "receipt",
        "expense_list",
        "prescription",
        "detailed_list",
        "diagnosis_certificate",
        "hospital_grade_certificate",
        "inpatient_medical_record",
        "identity_copy",
    ]
    upload(client, unit, claim["id"], *claim["required_documents"])

    response = act(client, center, claim["id"], "review")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "under_review"
    assert response.json()["findings"] == []

    response = act(client, center, claim["id"], "approve")
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["state"] == "approved"
    assert out["filing_type"] == "resettled_retiree"
    settlement = out["settlement"]
    assert settlement["offsite_status"] == "long_term"
    assert settlement["total"] == "2360.00"
    assert settlement["pool_fund_pay"] == "800.00"
    assert settlement["supplementary_pay"] == "600.00"
    assert settlement["account_pay"] == "500.00"
    assert settlement["cash_pay"] == "460.00"
    assert out["payout"] == "1900.00"

    # the person's year and account moved exactly as for a direct settlement
    session.expire_all()
    year = session.get(YearAccumulator, (p.id, 2026))
    assert year is not None
    assert year.inpatient_admissions == 1
    assert year.inpatient_pool_paid_cum_fen == 80_000
    assert year.inpatient_deductible_met_fen == 100_000
    account = session.get(Account, p.id)
    assert account is not None and account.balance_fen == 0
    stored = session.get(SettlementRecord, out["settlement_id"])
    assert stored is not None and stored.source == "reimbursement"

    response = act(client, center, claim["id"], "pay", reference="BANK-0001")
    assert response.status_code == 200, response.text
    paid = response.json()
    assert paid["state"] == "paid"
    assert paid["payout_method"] == "passbook"
    assert paid["payout_account_masked"] == "************2222"

    letter = client.get(f"{API}/{claim['id']}/decision.pdf", headers=unit.headers)
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")
    decision = client.get(f"{API}/{claim['id']}/decision", headers=unit.headers).json()
    assert decision["payout"] == "1900.00"
    assert decision["person"]["identity_number_masked"].count("*") == 8

    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "reimbursement_claim", AuditEntry.entity_id == str(claim["id"]))
        .order_by(AuditEntry.id)
    ).all()
    assert actions[0] == "reimbursement.submit"
    assert actions[-3:] == [
        "reimbursement.start_review",
        "reimbursement.approve",
        "reimbursement.pay",
    ]


def test_seed_001_referral_reimbursement(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    """A referral (temporary: −10 points) needs the referral certificate too.
    Pool 70% × 1000 = 700; supplementary 50% × 1300 = 650; no account money: 1350.00."""
    p = person(session, sequence=53, balance_fen=0, name="周转诊")
    filing(session, p, category="referral", start=date(2026, 4, 20), end=date(2026, 10, 19))
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(
        client, insured, p, world, payout={"method": "bank_account", "account_number": "62220001"}
    )
    assert claim["required_documents"][-1] == "referral_certificate"
    upload(client, insured, claim["id"], *claim["required_documents"][:-1])

    returned = act(client, center, claim["id"], "review").json()
    assert returned["state"] == "returned"
    assert returned["missing_documents"] == ["referral_certificate"]

    upload(client, insured, claim["id"], "referral_certificate")
    assert act(client, insured, claim["id"], "resubmit").json()["state"] == "resubmitted"
    assert act(client, center, claim["id"], "review").json()["state"] == "under_review"
    out = act(client, center, claim["id"], "approve").json()
    assert out["settlement"]["offsite_status"] == "temporary"
    assert out["settlement"]["pool_fund_pay"] == "700.00"
    assert out["settlement"]["supplementary_pay"] == "650.00"
    assert out["settlement"]["account_pay"] == "0.00"
    assert out["payout"] == "1350.00"
    assert act(client, center, claim["id"], "pay").json()["state"] == "paid"


def test_seed_004_emergency_filed_after_discharge_and_reimbursed(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    """No filing at admission; the emergency filing is made after discharge with validity
    from the admission day, so the stay counts as temporary (−10 points): 1350.00, collected
    in cash by the person's daughter, whose identity is recorded (masked in the log)."""
    p = person(session, sequence=55, balance_fen=0, name="吴急诊")
    unit_user = make_user("unit", unit_id=world.unit.id)
    p.unit_id = world.unit.id
    session.commit()
    center = reviewer(make_user, world)
    claim = submit(
        client,
        unit_user,
        p,
        world,
        case_type="emergency_after_discharge",
        payout={"method": "family_cash"},
    )
    assert claim["emergency"] is True
    upload(client, unit_user, claim["id"], *claim["required_documents"])
    # filed after discharge, retroactively (补办)
    filing(session, p, category="emergency", start=date(2026, 5, 1), end=date(2026, 10, 31))
    assert act(client, center, claim["id"], "review").json()["state"] == "under_review"
    out = act(client, center, claim["id"], "approve").json()
    assert out["filing_type"] == "emergency"
    assert out["settlement"]["offsite_status"] == "temporary"
    assert out["payout"] == "1350.00"

    refused = act(client, center, claim["id"], "pay")
    assert refused.status_code == 422
    assert refused.json()["code"] == "reimbursement.collector_required"
    daughter = make_identity_number("110105", date(1985, 2, 3), 12)
    paid = act(
        client,
        center,
        claim["id"],
        "pay",
        collector_name="吴女儿",
        collector_identity_number=daughter,
        collector_relation="child",
    ).json()
    assert paid["state"] == "paid"
    assert paid["collector_identity_masked"] == daughter[:6] + "********" + daughter[-4:]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "reimbursement.pay")
    ).one()
    assert entry.after is not None
    assert entry.after["collector_identity_number"] == paid["collector_identity_masked"]


def test_returned_for_a_missing_diagnosis_certificate_then_completed_and_paid(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=57, balance_fen=0, name="郑补正")
    filing(session, p, category="resettled_retiree", start=date(2026, 1, 1), end=date(2026, 12, 31))
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(client, insured, p, world)
    everything_but = [d for d in claim["required_documents"] if d != "diagnosis_certificate"]
    upload(client, insured, claim["id"], *everything_but)

    out = act(client, center, claim["id"], "review").json()
    assert out["state"] == "returned"
    assert out["missing_documents"] == ["diagnosis_certificate"]
    # approving a returned claim is not a move the table allows
    refused = act(client, center, claim["id"], "approve")
    assert refused.status_code == 409
    assert refused.json()["allowed"] == ["resubmit"]

    upload(client, insured, claim["id"], "diagnosis_certificate")
    out = act(client, insured, claim["id"], "resubmit", diagnoses=["I10"]).json()
    assert out["state"] == "resubmitted"
    # nothing submitted was dropped
    assert len(out["documents"]) == len(claim["required_documents"])
    assert out["invoices"] == [{"number": "460200001111", "amount": "2360.00"}]
    assert len(out["lines"]) == 4
    assert out["diagnoses"] == ["I21.0", "I10"]

    assert act(client, center, claim["id"], "review").json()["state"] == "under_review"
    out = act(client, center, claim["id"], "approve").json()
    assert out["payout"] == "1400.00"  # long-term: 800 pool + 600 supplementary
    assert act(client, center, claim["id"], "pay").json()["state"] == "paid"


def test_reviewer_returns_an_unusable_certificate_which_is_kept(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=59, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(client, insured, p, world)
    upload(client, insured, claim["id"], *claim["required_documents"])
    assert act(client, center, claim["id"], "review").json()["state"] == "under_review"
    out = act(
        client,
        center,
        claim["id"],
        "return",
        missing_documents=["diagnosis_certificate"],
        note="diagnosis incomplete",
    ).json()
    assert out["state"] == "returned"
    assert out["documents_still_missing"] == ["diagnosis_certificate"]
    superseded = [d for d in out["documents"] if d["superseded"]]
    assert [d["doc_type"] for d in superseded] == ["diagnosis_certificate"]


def test_rejection_with_reason_and_letter(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=61, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    claim = submit(client, insured, p, world)
    upload(client, insured, claim["id"], *claim["required_documents"])
    act(client, center, claim["id"], "review")
    assert act(client, center, claim["id"], "reject").status_code == 422
    out = act(client, center, claim["id"], "reject", reason="invoice not original").json()
    assert out["state"] == "rejected"
    assert out["rejection_reason"] == "invoice not original"
    assert out["settlement_id"] is None
    letter = client.get(f"{API}/{claim['id']}/decision.pdf", headers=insured.headers)
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")


def test_audit_findings_are_shown_to_the_reviewer_with_evidence(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    """The same invoice and stay claimed again after the first claim was approved; the
    stated total (2,400.00) also differs from the lines (2,360.00)."""
    p = person(session, sequence=63, balance_fen=0)
    insured = make_user("insured", person_id=p.id)
    center = reviewer(make_user, world)
    first = submit(client, insured, p, world)
    upload(client, insured, first["id"], *first["required_documents"])
    act(client, center, first["id"], "review")
    assert act(client, center, first["id"], "approve").status_code == 200

    second = submit(client, insured, p, world, total="2400.00")
    upload(client, insured, second["id"], *second["required_documents"])
    out = act(client, center, second["id"], "review").json()
    codes = sorted(f["code"] for f in out["findings"])
    assert codes == [
        "audit.duplicate_invoice",
        "audit.overlapping_stay",
        "audit.total_mismatch",
    ]
    mismatch = next(f for f in out["findings"] if f["code"] == "audit.total_mismatch")
    assert mismatch["evidence"]["difference"] == "40.00"
    duplicate = next(f for f in out["findings"] if f["code"] == "audit.duplicate_invoice")
    assert duplicate["evidence"]["other_ref"] == str(first["id"])
    assert duplicate["evidence"]["invoice_number"] == "460200001111"


def test_roles_and_scope(
    client: TestClient, session: Session, world: World, rules: None, make_user: MakeUser
) -> None:
    p = person(session, sequence=65, balance_fen=0)
    hospital = make_user("hospital")
    other_insured = make_user("insured", person_id=world.worker.id)
    baoding_agency = make_user("agency", agency_id=world.baoding_center.id, region_code="130600")
    body = {
        "person_id": p.id,
        "case_type": "offsite_no_direct",
        "setting": "inpatient",
        "institution_id": world.hospital.id,
        "admitted_on": "2026-05-01",
        "treatment_date": "2026-05-10",
        "total": "2360.00",
        "diagnoses": ["I21.0"],
        "invoices": [{"number": "X-1", "amount": "2360.00"}],
        "lines": LINES,
        "payout": {"method": "passbook", "account_number": "6217000011112222"},
    }
    assert client.post(API, json=body, headers=hospital.headers).status_code == 403
    assert client.post(API, json=body, headers=other_insured.headers).status_code == 403
    owner = make_user("insured", person_id=p.id)
    claim = submit(client, owner, p, world)
    assert client.get(f"{API}/{claim['id']}", headers=other_insured.headers).status_code == 404
    assert act(client, owner, claim["id"], "review").status_code == 403
    assert act(client, baoding_agency, claim["id"], "review").status_code == 404
    bad = dict(body, diagnoses=["heart attack"])
    response = client.post(API, json=bad, headers=owner.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "reimbursement.diagnosis_invalid"
    mine = client.get(API, headers=owner.headers).json()
    assert [c["id"] for c in mine] == [claim["id"]]
