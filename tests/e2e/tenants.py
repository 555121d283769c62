"""Two tenants, their actors and a world of real objects for the access tests.

Tenant A is Beijing (110000) as an insured region and the Sanya hospital (460200) as the
place of treatment: the Beijing persons (the retiree, the worker), their filings, claims and
settlements, and the Sanya hospital's encounters and settlements. Tenant B is Baoding
(130600): its person, unit, street office, centre and hospital. The Sanya treatment agency,
the pharmacy, the admin and the Beijing hospital that issues referrals belong to neither.

Everything is made through the API (or the services the other tests use), as it would be
in real life; :func:`build_tenants` returns the ids of what it made as :class:`Tenants`.

The retiree is put on the roll of ``world.unit`` (retirees stay attached to their former
employer in the employee scheme), so that one person's objects are "own" for the person
(``insured_a``) and for the unit (``unit_a``) alike; ``world.worker`` stays the unit's staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration.test_settle_kit import STAY, load_rules
from yibao.data import demo_path
from yibao.filings import routes as filing_routes
from yibao.policies.service import load_policy_text
from yibao.registry.models import Account, Agency, Person, Unit
from yibao.reimbursements import routes as reimbursement_routes
from yibao.settlements import routes as settlement_routes

API = "/api/v1"
PDF = b"%PDF-1.4\n% a scanned document\n"

# Who calls. ``hospital_ref`` is the Beijing hospital that issues the retiree's referral.
ACTORS = (
    "insured_a",
    "insured_b",
    "unit_a",
    "unit_b",
    "street_a",
    "street_b",
    "center_a",
    "center_b",
    "treatment",
    "hospital_a",
    "hospital_b",
    "hospital_ref",
    "pharmacy",
    "admin",
)

# The clocks of the world. Settlements happen in May 2026 (a finished month, cleared);
# claims are received on 2 June; the filing routes run on FILING_DAY, after the long-term
# filing's lock period (it was approved on 1 March 2026, locked six months).
SETTLE_NOW = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)
CLAIM_NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
FILING_DAY = date(2026, 9, 15)
MONTH = "2026-05"

# A manual claim's fee lines (the settle kit's stay: 2,360.00).
CLAIM_LINES = [
    {"code": line["code"], "quantity": line["quantity"], "unit_price": line["unit_price"]}
    for line in STAY
]


@dataclass
class Clock:
    """The date the filing routes see (their ``get_today`` dependency)."""

    today: date = FILING_DAY


@dataclass
class TenantB:
    """What tenant B needs beyond ``world``: a street office, a unit with its staff; and a
    person insured in Sanya, whom no centre of the world manages (only an admin)."""

    street_office: Agency
    unit: Unit
    staff: Person
    sanya_person: Person


@dataclass
class Tenants:
    """The ids of the prepared world; names are what the access table refers to."""

    users: dict[str, AuthUser]
    helpers: dict[str, AuthUser]  # second users of a desk (four-eyes), not in the table
    clock: Clock
    # registry
    retiree: int = 0
    worker: int = 0
    spouse: int = 0
    baoding: int = 0
    staff_b: int = 0
    sanya_person: int = 0
    unit_a: int = 0
    other_unit_a: int = 0
    unit_b: int = 0
    hospital_a: int = 0
    hospital_b: int = 0
    beijing_hospital: int = 0
    pharmacy: int = 0
    retiree_identity: str = ""
    policy_id: str = ""
    # filings of the retiree (tenant A) and of the Baoding person (tenant B)
    filing_approved: int = 0  # long-term, approved 2026-03-01, lock passed on FILING_DAY
    filing_expired: int = 0  # temporary, valid 2026-01-05..2026-07-04
    filing_referral: int = 0  # draft referral, complete and stamped, issued by hospital_ref
    filing_submitted: int = 0  # long-term, submitted, waiting in the centre's queue
    filing_b: int = 0  # the Baoding person's, submitted
    filing_document: int = 0  # a document of filing_approved
    filing_doc_type: str = ""  # a document type the filing rules know (that document's)
    filing_number: str = ""  # filing_approved's certificate: its number ...
    filing_code: str = ""  # ... and its verification code
    # the Sanya hospital's encounters and settlements
    encounter_settled: int = 0
    encounter_open: int = 0
    settlement_a: int = 0  # direct, retiree at hospital_a (third party unresolved)
    settlement_a_msg: str = "MSG-A-1"
    recovery_case_a: int = 0
    sale_a: int = 0
    settlement_sale_a: int = 0
    settlement_reimbursement_a: int = 0  # made by approving claim_approved
    settlement_b_local: int = 0  # Baoding person at the Baoding hospital
    settlement_b_sanya: int = 0  # Baoding person at the Sanya hospital
    settlement_b_beijing: int = 0  # Baoding person at the Beijing hospital (hospital_ref)
    # manual claims of the retiree (tenant A) and of the Baoding person (tenant B)
    claim_submitted: int = 0
    claim_document: int = 0
    claim_doc_type: str = ""  # a document type the claim rules ask for (that document's)
    claim_under_review: int = 0
    claim_returned: int = 0  # returned, the missing document since uploaded
    claim_approved: int = 0
    claim_b: int = 0
    findings_a: frozenset[str] = frozenset()  # "kind:id" of the retiree's audit findings
    findings_b: frozenset[str] = frozenset()
    finding_claim_a: str = ""  # the finding on claim_submitted (its total)
    # clearing for MONTH and reconciliation
    statement_a: int = 0  # 110000 → 460200
    statement_b: int = 0  # 130600 → 460200
    statement_b_beijing: int = 0  # 130600 → 110000: Beijing's centre is no party
    pair_a: str = "110000->460200"
    pair_b: str = "130600->460200"
    pair_b_beijing: str = "130600->110000"
    reconciliation_a: int = 0
    reconciliation_b: int = 0
    # a credit by hand of the retiree's account asked by another user of the Beijing
    # centre, waiting for a second user (None when the API did not answer 202)
    approval: int | None = None
    retiree_balance_fen: int = 0  # the account as the world leaves it
    notes: list[str] = field(default_factory=list)


# --- registry ------------------------------------------------------------------------------


def add_tenant_b(session: Session, world: World) -> TenantB:
    """A Baoding street office and unit (with one employee), and a Sanya-insured person."""
    street = Agency(name="保定某街道社保所", kind="street_office", region_code="130600")
    unit = Unit(name="保定某公司", region_code="130600")
    session.add_all([street, unit])
    session.flush()
    staff = add_person(
        session,
        name="钱保定职工",
        region="130600",
        born=date(1990, 4, 4),
        sequence=35,
        unit=unit,
    )
    sanya_person = add_person(
        session,
        name="孙三亚",
        region="460200",
        born=date(1980, 7, 7),
        sequence=37,
        balance_fen=20_000,
    )
    session.commit()
    return TenantB(street_office=street, unit=unit, staff=staff, sanya_person=sanya_person)


def make_actors(make_user: MakeUser, world: World, b: TenantB) -> dict[str, AuthUser]:
    """One user per actor of :data:`ACTORS`."""
    return {
        "insured_a": make_user("insured", person_id=world.retiree.id),
        "insured_b": make_user("insured", person_id=world.baoding_person.id),
        "unit_a": make_user("unit", unit_id=world.unit.id),
        "unit_b": make_user("unit", unit_id=b.unit.id),
        "street_a": make_user("street_office", agency_id=world.street_office.id),
        "street_b": make_user("street_office", agency_id=b.street_office.id),
        "center_a": make_user("agency", agency_id=world.center.id),
        "center_b": make_user("agency", agency_id=world.baoding_center.id),
        "treatment": make_user("agency", agency_id=world.sanya_agency.id),
        "hospital_a": make_user("hospital", institution_id=world.hospital.id),
        "hospital_b": make_user("hospital", institution_id=world.other_hospital.id),
        "hospital_ref": make_user("hospital", institution_id=world.beijing_hospital.id),
        "pharmacy": make_user("hospital", institution_id=world.pharmacy.id),
        "admin": make_user("admin"),
    }


def load_all_rules(session: Session) -> str:
    """The settle kit's Beijing employee policy and catalogs (Sanya, Beijing, Baoding),
    and the demo policy of Baoding's adult residents; returns that policy's key."""
    load_rules(session, regions=("460200", "110000", "130600"))
    path = demo_path("policies", "130600-resident-adult-2026.yaml")
    loaded = load_policy_text(
        session, text=path.read_text(encoding="utf-8"), source=path.name, actor=None
    )
    session.commit()
    return str(loaded.key)


# --- small HTTP steps ----------------------------------------------------------------------


def ok(response: Any, *expected: int) -> Any:
    """The JSON of a step that must succeed (any 2xx unless ``expected`` says which)."""
    good = response.status_code in expected if expected else 200 <= response.status_code < 300
    assert good, f"{response.request.method} {response.request.url}: {response.text[:500]}"
    return response.json() if response.content else None


_keys = iter(range(1, 10**9))


def keyed(who: AuthUser) -> dict[str, str]:
    """Headers with a fresh Idempotency-Key (money-moving routes need one)."""
    return {**who.headers, "Idempotency-Key": f"tenants-{next(_keys)}"}


def upload(client: TestClient, who: AuthUser, path: str, doc_type: str) -> int:
    response = client.post(
        f"{API}{path}",
        data={"doc_type": doc_type},
        files={"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
        headers=who.headers,
    )
    return int(ok(response, 201)["id"])


def new_filing(
    client: TestClient,
    who: AuthUser,
    body: dict[str, Any],
    *,
    submit_as: AuthUser | None = None,
    stamp_as: AuthUser | None = None,
) -> dict[str, Any]:
    """A filing with every document its rules ask for, stamped by the chosen hospital
    ``stamp_as`` (seed 000, Beijing resettlement); submitted when ``submit_as``."""
    filing = ok(client.post(f"{API}/filings", json=body, headers=who.headers), 201)
    for doc_type in filing["documents_still_missing"]:
        upload(client, who, f"/filings/{filing['id']}/documents", doc_type)
    if stamp_as is not None:
        path = f"{API}/filings/{filing['id']}/hospital-stamp"
        filing = ok(client.post(path, headers=stamp_as.headers))
    if submit_as is not None:
        filing = ok(client.post(f"{API}/filings/{filing['id']}/submit", headers=submit_as.headers))
    return dict(filing)


def admit(
    client: TestClient,
    hospital: AuthUser,
    identity_number: str,
    *,
    setting: str = "inpatient",
    started_on: str = "2026-05-01",
    lines: list[dict[str, str]] | None = None,
    **extra: Any,
) -> int:
    body = {"identity_number": identity_number, "setting": setting, "started_on": started_on}
    encounter = ok(
        client.post(f"{API}/encounters", json={**body, **extra}, headers=hospital.headers), 201
    )
    ok(
        client.post(
            f"{API}/encounters/{encounter['id']}/fees",
            json={"lines": STAY if lines is None else lines},
            headers=hospital.headers,
        ),
        201,
    )
    return int(encounter["id"])


def settle(
    client: TestClient, hospital: AuthUser, encounter_id: int, msg_id: str, on: str = "2026-05-10"
) -> int:
    body = {"on": on, "msg_id": msg_id}
    response = client.post(
        f"{API}/encounters/{encounter_id}/settle", json=body, headers=keyed(hospital)
    )
    return int(ok(response, 201)["id"])


def claim_body(
    person_id: int, institution_id: int, invoice: str, **overrides: Any
) -> dict[str, Any]:
    """A manual claim for an April stay in Sanya, paid in full by the person."""
    body: dict[str, Any] = {
        "person_id": person_id,
        "case_type": "offsite_no_direct",
        "setting": "inpatient",
        "institution_id": institution_id,
        "admitted_on": "2026-04-01",
        "treatment_date": "2026-04-10",
        "total": "2360.00",
        "diagnoses": ["I21.0"],
        "invoices": [{"number": invoice, "amount": "2360.00"}],
        "lines": CLAIM_LINES,
        "payout": {"method": "passbook", "account_number": "6217000011112222"},
    }
    body.update(overrides)
    return body


def new_claim(
    client: TestClient,
    who: AuthUser,
    body: dict[str, Any],
    *,
    skip: int = 0,
) -> dict[str, Any]:
    """Submit a claim and upload its required documents but the first ``skip``."""
    claim = ok(client.post(f"{API}/reimbursements", json=body, headers=who.headers), 201)
    for doc_type in claim["required_documents"][skip:]:
        upload(client, who, f"/reimbursements/{claim['id']}/documents", doc_type)
    return dict(claim)


def claim_action(client: TestClient, who: AuthUser, claim_id: int, action: str, **body: Any) -> Any:
    return client.post(
        f"{API}/reimbursements/{claim_id}/{action}", json=body or None, headers=who.headers
    )


def set_clocks(app: FastAPI, clock: Clock) -> None:
    """The faked clocks: filings on ``clock.today``, settlements in May, claims in June."""
    app.dependency_overrides[filing_routes.get_today] = lambda: clock.today
    app.dependency_overrides[settlement_routes.get_now] = lambda: SETTLE_NOW
    app.dependency_overrides[settlement_routes.get_today] = lambda: SETTLE_NOW.date()
    app.dependency_overrides[reimbursement_routes.get_now] = lambda: CLAIM_NOW


# --- the world -----------------------------------------------------------------------------


def build_tenants(
    client: TestClient, session: Session, world: World, make_user: MakeUser, app: FastAPI
) -> Tenants:
    """Every object the access table names, made by the journeys that make them."""
    clock = Clock()
    set_clocks(app, clock)
    b = add_tenant_b(session, world)
    world.retiree.unit_id = world.unit.id
    session.commit()
    policy_id = load_all_rules(session)
    users = make_actors(make_user, world, b)
    helpers = {"center_a_clerk": make_user("agency", agency_id=world.center.id)}
    session.commit()
    t = Tenants(
        users=users,
        helpers=helpers,
        clock=clock,
        retiree=world.retiree.id,
        worker=world.worker.id,
        spouse=world.spouse.id,
        baoding=world.baoding_person.id,
        staff_b=b.staff.id,
        sanya_person=b.sanya_person.id,
        unit_a=world.unit.id,
        other_unit_a=world.other_unit.id,
        unit_b=b.unit.id,
        hospital_a=world.hospital.id,
        hospital_b=world.other_hospital.id,
        beijing_hospital=world.beijing_hospital.id,
        pharmacy=world.pharmacy.id,
        retiree_identity=world.retiree.identity_number,
        policy_id=policy_id,
    )
    _registry(client, t)
    _filings(client, t)
    _settlements(client, t, world)
    _claims(client, t)
    _clearing_and_reconciliation(client, t)
    _pending_approval(client, t)
    clock.today = FILING_DAY
    session.commit()
    t.retiree_balance_fen = balance_fen(session, t.retiree)
    return t


def balance_fen(session: Session, person_id: int) -> int:
    """The personal account's balance as stored now."""
    value = session.scalar(select(Account.balance_fen).where(Account.person_id == person_id))
    return int(value or 0)


def _registry(client: TestClient, t: Tenants) -> None:
    # the retiree and the spouse are linked (the family routes unlink them)
    body = {"relative_id": t.spouse, "relation": "spouse"}
    ok(
        client.post(
            f"{API}/persons/{t.retiree}/family", json=body, headers=t.users["admin"].headers
        )
    )


def _filings(client: TestClient, t: Tenants) -> None:
    u = t.users
    street, center = u["street_a"], u["center_a"]

    t.clock.today = date(2026, 1, 5)
    expired = new_filing(
        client,
        street,
        {"person_id": t.retiree, "category": "other_temporary", "destination": "460200"},
        submit_as=street,
    )
    ok(client.post(f"{API}/filings/{expired['id']}/approve", headers=center.headers))
    t.filing_expired = expired["id"]

    t.clock.today = date(2026, 3, 1)
    body = {
        "person_id": t.retiree,
        "category": "resettled_retiree",
        "destination": "460200",
        "hospital_ids": [t.hospital_a],
    }
    approved = new_filing(client, street, body, submit_as=street, stamp_as=u["hospital_a"])
    ok(client.post(f"{API}/filings/{approved['id']}/approve", headers=center.headers))
    t.filing_approved = approved["id"]
    t.filing_document, t.filing_doc_type = first_document(client, street, approved["id"])
    cert = ok(client.get(f"{API}/filings/{approved['id']}/certificate", headers=street.headers))
    t.filing_number, t.filing_code = cert["filing_number"], cert["verification_code"]

    # The Baoding person's own long-term filing for Beijing, submitted.
    filing_b = new_filing(
        client,
        u["insured_b"],
        {"person_id": t.baoding, "category": "long_term_resident", "destination": "110000"},
        submit_as=u["insured_b"],
    )
    t.filing_b = filing_b["id"]

    # A referral issued by the Beijing hospital: complete and stamped, still a draft. The
    # temporary filing of January has run out by then, so it does not compete.
    t.clock.today = date(2026, 9, 1)
    referral = new_filing(
        client,
        street,
        {
            "person_id": t.retiree,
            "category": "referral",
            "destination": "460200",
            "referral_hospital_id": t.beijing_hospital,
        },
    )
    ok(
        client.post(
            f"{API}/filings/{referral['id']}/referral-stamp", headers=u["hospital_ref"].headers
        )
    )
    t.filing_referral = referral["id"]

    # A second long-term filing, submitted after the first one's validity (so the two do
    # not compete when it is made), waiting for review.
    t.clock.today = date(2027, 3, 2)
    submitted = new_filing(client, street, body, submit_as=street, stamp_as=u["hospital_a"])
    t.filing_submitted = submitted["id"]
    t.clock.today = FILING_DAY


def first_document(client: TestClient, who: AuthUser, filing_id: int) -> tuple[int, str]:
    """The id and type of one document of the filing (read back from the filing)."""
    filing = ok(client.get(f"{API}/filings/{filing_id}", headers=who.headers))
    document = filing["documents"][0]
    return int(document["id"]), str(document["doc_type"])


def _settlements(client: TestClient, t: Tenants, world: World) -> None:
    u = t.users
    hospital = u["hospital_a"]
    # Admitted after a road accident whose driver cannot be found: the fund pays in
    # advance, and a recovery case opens for the Beijing centre.
    t.encounter_settled = admit(
        client, hospital, t.retiree_identity, liability="third_party_unresolved"
    )
    t.settlement_a = settle(client, hospital, t.encounter_settled, t.settlement_a_msg)
    cases = ok(client.get(f"{API}/recovery/cases", headers=u["admin"].headers))
    [case] = [c for c in cases if c["settlement_id"] == t.settlement_a]
    t.recovery_case_a = case["id"]
    # An outpatient visit still open: fees uploaded (line V1), not settled.
    t.encounter_open = admit(
        client,
        hospital,
        t.retiree_identity,
        setting="outpatient",
        started_on="2026-05-10",
        lines=[{"line_id": "V1", "code": "X001", "quantity": "1", "unit_price": "30.00"}],
    )
    # The Baoding person at home (Baoding hospital) and off-site (Sanya, Beijing).
    identity_b = world.baoding_person.identity_number
    encounter = admit(client, u["hospital_b"], identity_b)
    t.settlement_b_local = settle(client, u["hospital_b"], encounter, "MSG-B-1")
    encounter = admit(client, hospital, identity_b, started_on="2026-05-02")
    t.settlement_b_sanya = settle(client, hospital, encounter, "MSG-B-2", on="2026-05-11")
    encounter = admit(client, u["hospital_ref"], identity_b, started_on="2026-05-03")
    t.settlement_b_beijing = settle(
        client, u["hospital_ref"], encounter, "MSG-B-3", on="2026-05-12"
    )
    # The retiree buys at the Sanya pharmacy with the card.
    sale = ok(
        client.post(
            f"{API}/pharmacy/sales",
            json={
                "card_number": "BJ0001",
                "on": "2026-05-15",
                "lines": [
                    {"line_id": "P1", "code": "X001", "quantity": "2", "unit_price": "30.00"}
                ],
            },
            headers=keyed(u["pharmacy"]),
        ),
        201,
    )
    t.sale_a = sale["id"]
    t.settlement_sale_a = sale["settlement"]["id"]


def _claims(client: TestClient, t: Tenants) -> None:
    u = t.users
    street, center = u["street_a"], u["center_a"]
    # submitted, complete; its stated total differs from its lines (an audit finding)
    claim = new_claim(
        client, street, claim_body(t.retiree, t.hospital_a, "INV-A-1", total="2400.00")
    )
    t.claim_submitted = claim["id"]
    detail = ok(client.get(f"{API}/reimbursements/{claim['id']}", headers=street.headers))
    t.claim_document = detail["documents"][0]["id"]
    t.claim_doc_type = detail["documents"][0]["doc_type"]
    # under review
    claim = new_claim(client, street, claim_body(t.retiree, t.hospital_a, "INV-A-2"))
    ok(claim_action(client, center, claim["id"], "review"))
    t.claim_under_review = claim["id"]
    # returned by the review for a missing document, which the person then uploaded
    claim = new_claim(
        client, u["insured_a"], claim_body(t.retiree, t.hospital_a, "INV-A-3"), skip=1
    )
    returned = ok(claim_action(client, center, claim["id"], "review"))
    assert returned["state"] == "returned", returned
    for doc_type in returned["missing_documents"]:
        upload(client, u["insured_a"], f"/reimbursements/{claim['id']}/documents", doc_type)
    t.claim_returned = claim["id"]
    # approved: settled by the engine, source "reimbursement", institution hospital_a
    claim = new_claim(client, street, claim_body(t.retiree, t.hospital_a, "INV-A-4"))
    ok(claim_action(client, center, claim["id"], "review"))
    approved = ok(claim_action(client, center, claim["id"], "approve"))
    t.claim_approved = claim["id"]
    t.settlement_reimbursement_a = approved["settlement_id"]
    # the Baoding person's claim, with a finding too
    claim_b = ok(
        client.post(
            f"{API}/reimbursements",
            json=claim_body(t.baoding, t.hospital_a, "INV-B-1", total="2400.00"),
            headers=u["insured_b"].headers,
        ),
        201,
    )
    t.claim_b = claim_b["id"]
    admin = u["admin"].headers

    def finding_keys(person_id: int) -> frozenset[str]:
        rows = ok(client.get(f"{API}/audit-findings?person_id={person_id}", headers=admin))
        return frozenset(f"{r['subject_kind']}:{r['subject_id']}" for r in rows)

    t.findings_a = finding_keys(t.retiree)
    t.findings_b = finding_keys(t.baoding)
    t.finding_claim_a = f"reimbursement:{t.claim_submitted}"
    assert f"reimbursement:{t.claim_submitted}" in t.findings_a, t.findings_a
    assert f"reimbursement:{t.claim_b}" in t.findings_b, t.findings_b


def _clearing_and_reconciliation(client: TestClient, t: Tenants) -> None:
    u = t.users
    rows = ok(client.post(f"{API}/clearing/months/{MONTH}", headers=u["admin"].headers))
    by_pair = {f"{r['insured_region']}->{r['treatment_region']}": r["id"] for r in rows}
    t.statement_a = by_pair[t.pair_a]
    t.statement_b = by_pair[t.pair_b]
    t.statement_b_beijing = by_pair[t.pair_b_beijing]
    period = {"period_from": "2026-05-01", "period_to": "2026-05-31"}
    figures = {"count": 1, "total": "0.00", "fund_pay": "0.00"}
    for actor, attr in (("hospital_a", "reconciliation_a"), ("hospital_b", "reconciliation_b")):
        row = ok(
            client.post(
                f"{API}/reconciliations", json={**period, **figures}, headers=u[actor].headers
            ),
            201,
        )
        setattr(t, attr, row["id"])


def _pending_approval(client: TestClient, t: Tenants) -> None:
    """Another user of the Beijing centre asks to credit the retiree's account by hand."""
    response = client.post(
        f"{API}/persons/{t.retiree}/account/movements",
        json={"amount": "10.00", "kind": "contribution", "ref": "by hand"},
        headers=t.helpers["center_a_clerk"].headers,
    )
    if response.status_code == 202:
        t.approval = int(response.json()["id"])
    else:
        t.notes.append(
            f"POST /persons/{{id}}/account/movements answered {response.status_code}, not 202:"
            " no pending approval in the world"
        )
