"""The hospital window's pages (医保窗口): find a patient, admit, add fee lines, pre-settle,
settle and the slip — each through the same services as the API, with the signed-in
hospital as the actor."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.integration.test_settle_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser, post_form
from tests.web.test_pages import text_of
from yibao.encounters.models import Encounter

API = "/api/v1"


@pytest.fixture
def clerk(session: Session, make_web_user: MakeWebUser) -> WebUser:
    """The Sanya hospital's window clerk, with the Sanya rules and catalog loaded."""
    load_rules(session)
    session.commit()
    return make_web_user("hospital", "clerk")


def admit_by_api(client: TestClient, hospital: AuthUser, card: str) -> int:
    made = client.post(
        f"{API}/encounters",
        json={"card_number": card, "setting": "outpatient"},
        headers=hospital.headers,
    )
    assert made.status_code == 201, made.text
    encounter_id: int = made.json()["id"]
    return encounter_id


def test_a_clerk_finds_admits_bills_settles_and_prints(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World
) -> None:
    sign_in(clerk.login)
    home = client.get("/me")
    assert 'href="/window"' in home.text

    found = post_form(client, "/window", "/window", {"card_number": world.retiree.card_number})
    assert found.status_code == 200
    words = text_of(found.text)
    assert world.retiree.name in words
    assert world.retiree.identity_number not in found.text
    assert "北京" in words and "险种" in words and "异地备案" in words

    admitted = post_form(
        client,
        "/window",
        "/window/admit",
        {"card_number": world.retiree.card_number, "setting": "inpatient", "deposit": "3000"},
    )
    assert admitted.status_code == 303, admitted.text
    page = admitted.headers["location"]
    encounter_id = int(page.rsplit("/", 1)[1])

    for code, qty, price in (("X001", "10", "100.00"), ("M001", "2", "80")):
        added = post_form(
            client,
            page,
            f"{page}/fees",
            {"code": code, "quantity": qty, "unit_price": price},
        )
        assert added.status_code == 303, added.text
    bill = client.get(page)
    assert "1,000.00 元" in bill.text and "160.00 元" in bill.text

    preview = post_form(client, page, f"{page}/pre-settle", {})
    assert preview.status_code == 200, preview.text
    assert "预结算" in preview.text and "统筹基金支付" in text_of(preview.text)

    settled = post_form(client, page, f"{page}/settle", {})
    assert settled.status_code == 303, settled.text
    done = client.get(page)
    slip_link = re.search(r'href="(/window/settlements/\d+/slip)"', done.text)
    assert slip_link, done.text
    assert "已结算" in text_of(done.text)

    slip = client.get(slip_link.group(1))
    assert slip.status_code == 200
    words = text_of(slip.text)
    assert "医疗费用结算单" in words and "押金" in words
    assert "1,160.00 元" in words and "/static/js/print.js" in slip.text

    english = client.get(f"{slip_link.group(1)}?lang=en")
    assert "Settlement slip" in english.text and "1,160.00 元" in english.text

    listed = client.get("/window/encounters?state=settled")
    assert f'href="/window/encounters/{encounter_id}"' in listed.text
    assert (
        f'href="/window/encounters/{encounter_id}"'
        not in client.get("/window/encounters?state=open").text
    )


def test_a_hospital_sees_only_its_own_encounters(
    client: TestClient,
    sign_in: SignIn,
    clerk: WebUser,
    make_user: MakeUser,
    world: World,
) -> None:
    mine = admit_by_api(client, clerk.auth, world.retiree.card_number or "")
    other = make_user("hospital", institution_id=world.other_hospital.id)
    theirs = admit_by_api(client, other, world.retiree.card_number or "")
    sign_in(clerk.login)
    listed = client.get("/window/encounters")
    assert listed.status_code == 200
    assert f'href="/window/encounters/{mine}"' in listed.text
    assert f'href="/window/encounters/{theirs}"' not in listed.text
    assert client.get(f"/window/encounters/{theirs}").status_code == 404
    # nor can it bill another hospital's encounter
    refused = post_form(
        client,
        f"/window/encounters/{mine}",
        f"/window/encounters/{theirs}/fees",
        {"code": "X001", "quantity": "1", "unit_price": "1"},
    )
    assert refused.status_code == 404


def test_an_insured_person_may_not_open_the_window(
    client: TestClient, sign_in: SignIn, insured: WebUser
) -> None:
    sign_in(insured.login)
    for path in ("/window", "/window/encounters", "/window/settlements/1/slip"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "无权访问" in refused.text


def test_a_form_without_its_token_is_refused(
    client: TestClient, sign_in: SignIn, clerk: WebUser, session: Session, world: World
) -> None:
    sign_in(clerk.login)
    before = session.scalar(select(func.count()).select_from(Encounter))
    refused = client.post(
        "/window/admit",
        data={"card_number": world.retiree.card_number, "setting": "outpatient"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Encounter)) == before


def test_errors_of_the_services_are_shown_on_the_form(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World
) -> None:
    sign_in(clerk.login)
    unknown = post_form(client, "/window", "/window", {"card_number": "NO-SUCH-CARD"})
    assert unknown.status_code == 404
    assert "person.not_found" in unknown.text and 'role="alert"' in unknown.text
    both_empty = post_form(client, "/window", "/window", {})
    assert both_empty.status_code == 422
    assert "person.lookup" in both_empty.text

    admitted = post_form(
        client,
        "/window",
        "/window/admit",
        {"card_number": world.retiree.card_number or "", "setting": "outpatient"},
    )
    page = admitted.headers["location"]
    not_a_number = post_form(
        client, page, f"{page}/fees", {"code": "X001", "quantity": "many", "unit_price": "1"}
    )
    assert not_a_number.status_code == 422
    assert "数量、单价和押金须为数字" in not_a_number.text
    nothing_billed = post_form(client, page, f"{page}/settle", {})
    assert nothing_billed.status_code == 422
    assert "settlement.no_lines" in nothing_billed.text
