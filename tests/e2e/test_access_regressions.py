"""Access regressions, one journey each, over HTTP.

Each of these answered wrongly before the access rules were written down: a treatment
agency edited a person insured in its own city, a reviewer approved the filing it had
made itself, a hospital reversed the settlement of a manual reimbursement (and listed it),
one region read another's audit findings and clearing statements, and a creditor confirmed
what it is owed. The four-eyes rules (a credit by hand, a clearing confirmation, a claim
approved by its submitter) close the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.e2e.tenants import (
    API,
    MONTH,
    Clock,
    TenantB,
    add_tenant_b,
    admit,
    balance_fen,
    claim_action,
    claim_body,
    keyed,
    load_all_rules,
    make_actors,
    new_claim,
    new_filing,
    ok,
    set_clocks,
    settle,
)
from yibao.registry.models import Person
from yibao.settlements import routes as settlement_routes


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    c = Clock()
    set_clocks(app, c)
    return c


@pytest.fixture
def tenant_b(session: Session, world: World) -> TenantB:
    return add_tenant_b(session, world)


@pytest.fixture
def actors(
    make_user: MakeUser, world: World, tenant_b: TenantB, session: Session
) -> dict[str, AuthUser]:
    users = make_actors(make_user, world, tenant_b)
    session.commit()
    return users


@pytest.fixture
def rules(session: Session, world: World) -> None:
    load_all_rules(session)


def refused(response: Any) -> bool:
    return response.status_code in (403, 404)


def code_of(response: Any) -> str | None:
    body = response.json() if response.content else None
    return body.get("code") if isinstance(body, dict) else None


def pairs(response: Any) -> set[str]:
    body = response.json() if 200 <= response.status_code < 300 else []
    rows = body if isinstance(body, list) else []
    return {f"{r.get('insured_region')}->{r.get('treatment_region')}" for r in rows}


def may_statement(client: TestClient, actors: dict[str, AuthUser], world: World) -> int:
    """The retiree settled at the Sanya hospital in May; May built (not confirmed) by an
    admin: the id of the 110000 → 460200 statement."""
    encounter = admit(client, actors["hospital_a"], world.retiree.identity_number)
    settle(client, actors["hospital_a"], encounter, "MSG-R-1")
    rows = ok(client.post(f"{API}/clearing/months/{MONTH}", headers=actors["admin"].headers))
    [statement] = [
        r for r in rows if (r["insured_region"], r["treatment_region"]) == ("110000", "460200")
    ]
    return int(statement["id"])


def statement_state(client: TestClient, admin: AuthUser, statement_id: int) -> str:
    return str(
        ok(client.get(f"{API}/clearing/statements/{statement_id}", headers=admin.headers))["state"]
    )


# --- the named regressions ---------------------------------------------------------------


def test_treatment_agency_cannot_edit_insured_person(
    client: TestClient,
    session: Session,
    world: World,
    tenant_b: TenantB,
    actors: dict[str, AuthUser],
) -> None:
    """The leak was ``PATCH /persons/10`` → 200 by the Sanya treatment agency: an agency
    user was matched on its region alone, so the treatment agency of Sanya managed the
    persons *insured* in Sanya. Only the insured region's centre (and admins) edit them."""
    treatment = actors["treatment"]
    for person in (tenant_b.sanya_person, world.retiree):
        response = client.patch(
            f"{API}/persons/{person.id}",
            json={"assistance_eligible": True},
            headers=treatment.headers,
        )
        assert refused(response), (person.name, response.status_code, response.text)
        eligible = session.scalar(select(Person.assistance_eligible).where(Person.id == person.id))
        assert eligible is False
    # the Beijing centre still edits its own insured
    response = client.patch(
        f"{API}/persons/{world.retiree.id}",
        json={"assistance_eligible": True},
        headers=actors["center_a"].headers,
    )
    assert response.status_code == 200, response.text


def test_creator_cannot_approve_own_filing(
    client: TestClient, world: World, actors: dict[str, AuthUser], make_user: MakeUser, clock: Clock
) -> None:
    """A centre user may apply for a person of its region, but the approval is another
    user's: the creator approving answers 403 ``filing.same_user``."""
    center = actors["center_a"]
    body = {"person_id": world.retiree.id, "category": "other_temporary", "destination": "460200"}
    filing = new_filing(client, center, body, submit_as=center)
    assert filing["state"] == "submitted"

    own = client.post(f"{API}/filings/{filing['id']}/approve", headers=center.headers)
    assert own.status_code == 403, own.text
    assert code_of(own) == "filing.same_user"

    colleague = make_user("agency", agency_id=world.center.id)
    approved = ok(client.post(f"{API}/filings/{filing['id']}/approve", headers=colleague.headers))
    assert approved["state"] == "approved"


def test_hospital_cannot_reverse_reimbursement_settlement(
    client: TestClient, world: World, actors: dict[str, AuthUser], rules: None, clock: Clock
) -> None:
    """Nothing is settled at the hospital; a manual claim naming it is approved by the
    Beijing centre (its settlement is stored under message id ``reimbursement-<id>`` and
    the hospital's institution). The hospital could reverse it by that message id and saw
    it in its list; the claim was then refunded twice over."""
    hospital, center = actors["hospital_a"], actors["center_a"]
    claim = new_claim(
        client, actors["street_a"], claim_body(world.retiree.id, world.hospital.id, "INV-R-1")
    )
    ok(claim_action(client, center, claim["id"], "review"))
    approved = ok(claim_action(client, center, claim["id"], "approve"))
    settlement_id = approved["settlement_id"]

    by_message = client.post(
        f"{API}/settlements/reverse-by-message",
        json={"original_msg_id": f"reimbursement-{claim['id']}"},
        headers=keyed(hospital),
    )
    assert by_message.status_code in (404, 409), by_message.text
    by_id = client.post(
        f"{API}/settlements/{settlement_id}/reverse", json={}, headers=keyed(hospital)
    )
    assert by_id.status_code in (404, 409), by_id.text

    listed = ok(client.get(f"{API}/settlements", headers=hospital.headers))
    assert settlement_id not in [row["id"] for row in listed]
    assert refused(client.get(f"{API}/settlements/{settlement_id}", headers=hospital.headers))

    paid = ok(claim_action(client, center, claim["id"], "pay", reference="BANK-R-1"))
    assert paid["state"] == "paid"
    again = claim_action(client, center, claim["id"], "pay", reference="BANK-R-2")
    assert again.status_code == 409, again.text


def test_audit_findings_not_served_to_other_region(
    client: TestClient, world: World, actors: dict[str, AuthUser], rules: None, clock: Clock
) -> None:
    """``GET /audit-findings?person_id=`` served any person's findings to any agency."""
    claim = new_claim(
        client,
        actors["street_a"],
        claim_body(world.retiree.id, world.hospital.id, "INV-R-2", total="2400.00"),
    )
    mine = ok(
        client.get(
            f"{API}/audit-findings?person_id={world.retiree.id}", headers=actors["center_a"].headers
        )
    )
    assert any(f["subject_id"] == claim["id"] for f in mine)  # the stated total differs

    queries = [
        f"person_id={world.retiree.id}",
        f"subject_kind=reimbursement&subject_id={claim['id']}",
    ]
    for actor in ("center_b", "treatment"):
        for query in queries:
            response = client.get(f"{API}/audit-findings?{query}", headers=actors[actor].headers)
            assert refused(response) or response.json() == [], (actor, query, response.text)


def test_clearing_month_scoped_to_caller_region(
    client: TestClient, world: World, actors: dict[str, AuthUser], rules: None, clock: Clock
) -> None:
    """Building a month answered every statement of the month to any agency: Baoding's
    centre got what Beijing owes Sanya."""
    encounter = admit(client, actors["hospital_a"], world.retiree.identity_number)
    settle(client, actors["hospital_a"], encounter, "MSG-R-2")
    path = f"{API}/clearing/months/{MONTH}"

    other = client.post(path, headers=actors["center_b"].headers)
    assert refused(other) or "110000->460200" not in pairs(other), other.text
    assert "110000->460200" in pairs(client.post(path, headers=actors["center_a"].headers))
    assert "110000->460200" in pairs(client.post(path, headers=actors["treatment"].headers))


def test_clearing_confirm_needs_debtor_center(
    client: TestClient, world: World, actors: dict[str, AuthUser], rules: None, clock: Clock
) -> None:
    """Any party could confirm a statement, so the treatment agency (the creditor) froze
    what Beijing owes it; only the debtor's centre (or an admin) confirms."""
    statement_id = may_statement(client, actors, world)
    for actor in ("treatment", "center_b"):
        who = actors[actor]
        response = client.post(
            f"{API}/clearing/statements/{statement_id}/confirm", headers=who.headers
        )
        assert refused(response), (actor, response.status_code, response.text)
        month = client.post(f"{API}/clearing/months/{MONTH}?confirm=true", headers=who.headers)
        assert month.status_code < 500, month.text
        assert statement_state(client, actors["admin"], statement_id) == "draft", actor


# --- four eyes ---------------------------------------------------------------------------


def test_account_credit_by_hand_waits_for_a_second_user(
    client: TestClient,
    session: Session,
    world: World,
    actors: dict[str, AuthUser],
    make_user: MakeUser,
) -> None:
    center = actors["center_a"]
    before = balance_fen(session, world.retiree.id)
    asked = client.post(
        f"{API}/persons/{world.retiree.id}/account/movements",
        json={"amount": "25.00", "kind": "contribution", "ref": "correction"},
        headers=center.headers,
    )
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["id"]
    assert balance_fen(session, world.retiree.id) == before

    own = client.post(f"{API}/approvals/{approval_id}/approve", headers=center.headers)
    assert own.status_code == 403 and code_of(own) == "approval.same_user", own.text
    for actor in ("center_b", "treatment", "street_a"):
        response = client.post(
            f"{API}/approvals/{approval_id}/approve", headers=actors[actor].headers
        )
        assert refused(response), (actor, response.text)
    assert balance_fen(session, world.retiree.id) == before

    colleague = make_user("agency", agency_id=world.center.id)
    waiting = ok(client.get(f"{API}/approvals", headers=colleague.headers))
    assert approval_id in [a["id"] for a in waiting]
    ok(client.post(f"{API}/approvals/{approval_id}/approve", headers=colleague.headers))
    assert balance_fen(session, world.retiree.id) == before + 2500
    twice = client.post(f"{API}/approvals/{approval_id}/approve", headers=colleague.headers)
    assert twice.status_code == 409, twice.text
    assert balance_fen(session, world.retiree.id) == before + 2500


def test_clearing_confirm_waits_for_a_second_user_of_the_debtor_center(
    client: TestClient,
    world: World,
    actors: dict[str, AuthUser],
    make_user: MakeUser,
    rules: None,
    clock: Clock,
) -> None:
    statement_id = may_statement(client, actors, world)
    center = actors["center_a"]
    asked = client.post(f"{API}/clearing/statements/{statement_id}/confirm", headers=center.headers)
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["id"]
    assert statement_state(client, actors["admin"], statement_id) == "draft"

    own = client.post(f"{API}/approvals/{approval_id}/approve", headers=center.headers)
    assert own.status_code == 403 and code_of(own) == "approval.same_user", own.text
    refused_by = client.post(
        f"{API}/approvals/{approval_id}/approve", headers=actors["treatment"].headers
    )
    assert refused(refused_by), refused_by.text

    colleague = make_user("agency", agency_id=world.center.id)
    ok(client.post(f"{API}/approvals/{approval_id}/approve", headers=colleague.headers))
    assert statement_state(client, actors["admin"], statement_id) == "confirmed"


def test_clearing_confirm_refused_for_the_current_month(
    client: TestClient,
    app: FastAPI,
    world: World,
    actors: dict[str, AuthUser],
    rules: None,
    clock: Clock,
) -> None:
    """A month is confirmed once it is over (China time): the current one answers 409."""
    now = datetime.now(UTC)
    app.dependency_overrides[settlement_routes.get_now] = lambda: now
    month = now.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    encounter = admit(client, actors["hospital_a"], world.retiree.identity_number)
    settle(client, actors["hospital_a"], encounter, "MSG-R-3")
    rows = ok(client.post(f"{API}/clearing/months/{month}", headers=actors["admin"].headers))
    [statement] = [r for r in rows if r["insured_region"] == "110000"]

    center = actors["center_a"]
    one = client.post(
        f"{API}/clearing/statements/{statement['id']}/confirm", headers=center.headers
    )
    assert one.status_code == 409, one.text
    whole = client.post(f"{API}/clearing/months/{month}?confirm=true", headers=center.headers)
    assert whole.status_code == 409, whole.text
    assert statement_state(client, actors["admin"], statement["id"]) == "draft"


def test_submitter_cannot_approve_own_claim(
    client: TestClient,
    world: World,
    actors: dict[str, AuthUser],
    make_user: MakeUser,
    rules: None,
    clock: Clock,
) -> None:
    """An admin may both claim for a person and review; never both for one claim."""
    admin = actors["admin"]
    claim = new_claim(client, admin, claim_body(world.retiree.id, world.hospital.id, "INV-R-4"))
    ok(claim_action(client, admin, claim["id"], "review"))
    own = claim_action(client, admin, claim["id"], "approve")
    assert own.status_code == 403 and code_of(own) == "reimbursement.same_user", own.text

    other_admin = make_user("admin")
    assert ok(claim_action(client, other_admin, claim["id"], "approve"))["state"] == "approved"
