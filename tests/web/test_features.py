"""Features of the polish round: one's own password (and the change asked for after an
administrator's reset), the window's encounter corrections and catalog search, the
agency's person account, the agencies of a region, the default region of /institutions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.fhir.conftest import add_filing
from tests.integration.test_settle_kit import load_rules
from tests.web.conftest import PASSWORD, MakeWebUser, SignIn, WebUser, csrf_of, post_form
from tests.web.test_pages import text_of
from yibao.approvals.models import Approval
from yibao.audit.models import AuditEntry
from yibao.auth import passwords
from yibao.auth.models import User
from yibao.encounters import repository as encounter_repo
from yibao.encounters.models import Encounter
from yibao.registry.models import Agency
from yibao.web.page import current_day

_SECRET = re.compile(r'<span class="secret">([^<]+)</span>')
NEW = "a new horse 43"


def _user(session: Session, user_id: int) -> User:
    session.expire_all()
    user = session.get(User, user_id)
    assert user is not None
    return user


# --- 7. one's own password ------------------------------------------------------------------


def test_a_user_changes_the_password_and_other_browsers_are_signed_out(
    app: Any, client: TestClient, sign_in: SignIn, insured: WebUser, session: Session
) -> None:
    with TestClient(app) as other:  # a second browser of the same person
        token = csrf_of(other.get("/login").text)
        other.post("/login", data={"login": "wang", "password": PASSWORD, "csrf_token": token})
        assert other.get("/me", follow_redirects=False).status_code == 200

        sign_in(insured.login)
        home = client.get("/me")
        assert 'href="/me/password"' in home.text and "修改密码" in text_of(home.text)
        form = client.get("/me/password")
        assert form.status_code == 200 and "当前密码" in text_of(form.text)

        wrong = post_form(
            client,
            "/me/password",
            "/me/password",
            {"current_password": "nope nope", "new_password": NEW, "new_password_again": NEW},
        )
        assert wrong.status_code == 422 and "user.current_password_wrong" in wrong.text
        differ = post_form(
            client,
            "/me/password",
            "/me/password",
            {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW + "x"},
        )
        assert differ.status_code == 422 and "两次输入的新密码不一致" in text_of(differ.text)
        short = post_form(
            client,
            "/me/password",
            "/me/password",
            {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
        )
        assert short.status_code == 422 and "密码为 8 至 256 个字符" in text_of(short.text)
        now = datetime.now(UTC)
        assert passwords.password_matches(_user(session, insured.id), PASSWORD)
        assert other.get("/me", follow_redirects=False).status_code == 200  # nothing happened

        done = post_form(
            client,
            "/me/password",
            "/me/password",
            {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW},
        )
        assert done.status_code == 303
        assert "密码已修改" in text_of(client.get(done.headers["location"]).text)
        # this browser stays signed in, the other one is signed out
        assert client.get("/me", follow_redirects=False).status_code == 200
        assert other.get("/me", follow_redirects=False).status_code != 200
    assert passwords.sign_in(session, login="wang", password=NEW, now=now).user is not None
    assert passwords.sign_in(session, login="wang", password=PASSWORD, now=now).user is None
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.password_changed")
    ).one()
    assert PASSWORD not in str(entry.after) and NEW not in str(entry.after)


def test_the_password_form_needs_its_csrf_token_and_a_signed_in_user(
    client: TestClient, sign_in: SignIn, insured: WebUser, session: Session
) -> None:
    anonymous = client.get("/me/password", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fme%2Fpassword"
    sign_in(insured.login)
    refused = client.post(
        "/me/password",
        data={"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert passwords.password_matches(_user(session, insured.id), PASSWORD)


def test_a_temporary_password_from_the_administrator_is_changed_at_the_next_sign_in(
    app: Any, client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, session: Session
) -> None:
    clerk = make_web_user("hospital", "clerk")
    admin = make_web_user("admin", "root")
    assert _user(session, clerk.id).must_change_password is False
    with TestClient(app) as desk:
        token = csrf_of(desk.get("/login").text)
        desk.post("/login", data={"login": "root", "password": PASSWORD, "csrf_token": token})
        page = f"/admin/users/{clerk.id}"
        reset = post_form(desk, page, f"{page}/password", {})
        found = _SECRET.search(reset.text)
        assert reset.status_code == 200 and found
    temporary = found.group(1)
    assert _user(session, clerk.id).must_change_password is True
    assert admin.id != clerk.id

    signed = sign_in("clerk", temporary, next="/window")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/me/password?next=%2Fwindow"
    asked = client.get(signed.headers["location"])
    assert "临时密码" in text_of(asked.text)
    same = post_form(
        client,
        "/me/password",
        "/me/password",
        {
            "current_password": temporary,
            "new_password": temporary,
            "new_password_again": temporary,
            "next": "/window",
        },
    )
    assert same.status_code == 422 and "新密码不能与当前密码相同" in text_of(same.text)
    done = post_form(
        client,
        "/me/password",
        "/me/password",
        {
            "current_password": temporary,
            "new_password": NEW,
            "new_password_again": NEW,
            "next": "/window",
        },
    )
    assert done.status_code == 303
    changed = client.get(done.headers["location"])
    assert 'href="/window"' in changed.text
    assert _user(session, clerk.id).must_change_password is False
    # the next sign-in goes straight on
    client.post("/logout", data={"csrf_token": csrf_of(changed.text)})
    again = sign_in("clerk", NEW, next="/window")
    assert again.headers["location"] == "/window"


def test_the_registration_page_says_who_resets_a_forgotten_password(client: TestClient) -> None:
    text = text_of(client.get("/register").text)
    assert "平台管理员" in text and "医保经办窗口重置。" not in text


# --- 8. the window's encounter: withdraw a line, cancel, item names, catalog search -----------


@pytest.fixture
def clerk(session: Session, make_web_user: MakeWebUser) -> WebUser:
    """The Sanya hospital's window clerk, with the Sanya rules and catalog loaded."""
    load_rules(session)
    session.commit()
    return make_web_user("hospital", "clerk")


def _admit(client: TestClient, world: World) -> str:
    admitted = post_form(
        client,
        "/window",
        "/window/admit",
        {"card_number": world.retiree.card_number or "", "setting": "outpatient"},
    )
    assert admitted.status_code == 303, admitted.text
    return str(admitted.headers["location"])


def test_a_clerk_withdraws_a_mistyped_line_and_sees_item_names(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World, session: Session
) -> None:
    sign_in(clerk.login)
    page = _admit(client, world)
    for code, qty in (("X001", "10"), ("X002", "1")):
        added = post_form(
            client, page, f"{page}/fees", {"code": code, "quantity": qty, "unit_price": "100"}
        )
        assert added.status_code == 303
    shown = client.get(page)
    words = text_of(shown.text)
    assert "甲类药" in words and "乙类药" in words  # the catalog's names
    assert f'action="{page}/fees/W2/withdraw"' in shown.text

    withdrawn = post_form(client, page, f"{page}/fees/W2/withdraw", {})
    assert withdrawn.status_code == 303
    after = client.get(page)
    assert f'action="{page}/fees/W2/withdraw"' not in after.text
    assert "已撤回" in text_of(after.text)
    encounter_id = int(page.rsplit("/", 1)[1])
    lines = {line.line_id: line.state for line in encounter_repo.fee_lines(session, encounter_id)}
    assert lines == {"W1": "active"}
    # a line that does not exist: the service's 404 on the page
    missing = post_form(client, page, f"{page}/fees/W9/withdraw", {})
    assert missing.status_code == 404
    # the form's token is needed
    refused = client.post(f"{page}/fees/W1/withdraw", follow_redirects=False)
    assert refused.status_code == 403


def test_a_clerk_cancels_a_registration_with_a_reason(
    client: TestClient,
    sign_in: SignIn,
    clerk: WebUser,
    world: World,
    session: Session,
    make_user: MakeUser,
) -> None:
    sign_in(clerk.login)
    page = _admit(client, world)
    encounter_id = int(page.rsplit("/", 1)[1])
    no_reason = post_form(client, page, f"{page}/cancel", {"reason": "  "})
    assert no_reason.status_code == 422
    session.expire_all()
    assert session.get(Encounter, encounter_id).state == "open"  # type: ignore[union-attr]

    cancelled = post_form(client, page, f"{page}/cancel", {"reason": "登记错了病人"})
    assert cancelled.status_code == 303
    session.expire_all()
    assert session.get(Encounter, encounter_id).state == "cancelled"  # type: ignore[union-attr]
    assert "撤销本次登记" not in text_of(client.get(page).text)

    # another hospital's encounter cannot be cancelled from here
    other = make_user("hospital", institution_id=world.other_hospital.id)
    made = client.post(
        "/api/v1/encounters",
        json={"card_number": world.retiree.card_number, "setting": "outpatient"},
        headers=other.headers,
    )
    theirs = made.json()["id"]
    mine = _admit(client, world)
    refused = post_form(client, mine, f"/window/encounters/{theirs}/cancel", {"reason": "x"})
    assert refused.status_code == 404
    session.expire_all()
    assert session.get(Encounter, theirs).state == "open"  # type: ignore[union-attr]


def test_the_window_searches_its_regions_catalog(
    client: TestClient, sign_in: SignIn, clerk: WebUser
) -> None:
    sign_in(clerk.login)
    assert 'href="/window/catalog"' in client.get("/window").text
    everything = client.get("/window/catalog")
    assert everything.status_code == 200
    assert "三亚市" in text_of(everything.text) and "X001" in everything.text
    found = client.get("/window/catalog", params={"q": "耗材"})
    assert "M001" in found.text and "X001" not in found.text
    assert client.get("/window/catalog", params={"q": "x" * 61}).status_code == 400


def test_the_window_says_when_no_catalog_is_loaded(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser
) -> None:
    make_web_user("hospital", "bare")
    sign_in("bare")
    assert "今日无生效的医保目录" in text_of(client.get("/window/catalog").text)


# --- 9. the window: the local-use rule, open visits, a pharmacy ---------------------------------


def test_the_window_shows_the_local_use_rule_and_the_patients_open_visits(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World
) -> None:
    sign_in(clerk.login)
    found = post_form(client, "/window", "/window", {"card_number": world.retiree.card_number})
    words = text_of(found.text)
    assert "备案期间参保地就医" in words and "允许" in words
    assert "该参保人在本院暂无未结算的就诊登记" in words
    page = _admit(client, world)
    again = post_form(client, "/window", "/window", {"card_number": world.retiree.card_number})
    assert f'href="{page}"' in again.text
    assert "该参保人在本院暂无未结算的就诊登记" not in text_of(again.text)


def test_a_pharmacy_sells_against_the_card_and_cannot_register_visits(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World, make_web_user: MakeWebUser
) -> None:
    make_web_user("hospital", "druggist", institution_id=world.pharmacy.id)
    sign_in("druggist")
    home = client.get("/me")
    assert 'href="/window/referrals"' not in home.text
    assert 'href="/window/encounters"' not in home.text
    found = post_form(client, "/window", "/window", {"card_number": world.retiree.card_number})
    words = text_of(found.text)
    assert "刷卡购药" in words and "门诊、住院登记仅由定点医院办理" in words
    assert 'action="/window/admit"' not in found.text
    # the service refuses a pharmacy's admission all the same
    refused = post_form(
        client,
        "/window",
        "/window/admit",
        {"card_number": world.retiree.card_number or "", "setting": "outpatient"},
    )
    assert refused.status_code == 403 and "hospital.required" in refused.text

    empty = post_form(
        client, "/window", "/window/sale", {"card_number": world.retiree.card_number or ""}
    )
    assert empty.status_code == 422 and "请至少录入一行药品" in text_of(empty.text)
    sold = client.post(
        "/window/sale",
        data={
            "csrf_token": csrf_of(client.get("/window").text),
            "card_number": world.retiree.card_number,
            "code": ["X001", "S001", ""],
            "quantity": ["2", "1", ""],
            "unit_price": ["30", "10", ""],
        },
        follow_redirects=False,
    )
    assert sold.status_code == 303, sold.text
    sale = client.get(sold.headers["location"])
    words = text_of(sale.text)
    assert sale.status_code == 200 and "60.00 元" in words
    assert "非药品" in words and "S001" in words  # the refused line and why
    # a hospital may not sell
    client.post("/logout", data={"csrf_token": csrf_of(sale.text)})
    sign_in(clerk.login)
    assert client.get(sold.headers["location"]).status_code == 404
    hospital_sale = post_form(
        client,
        "/window",
        "/window/sale",
        {
            "card_number": world.retiree.card_number or "",
            "code": "X001",
            "quantity": "1",
            "unit_price": "1",
        },
    )
    assert hospital_sale.status_code == 422 and "pharmacy.required" in hospital_sale.text


# --- 11. a person's account at the agency, the agencies of a region ------------------------


def test_an_agency_asks_for_an_account_movement_that_waits_for_approval(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    world: World,
    session: Session,
) -> None:
    make_web_user("agency", "desk")
    sign_in("desk")
    approvals_page = client.get("/agency/approvals")
    assert 'href="/agency/accounts"' in approvals_page.text
    none = post_form(client, "/agency/accounts", "/agency/accounts", {})
    assert none.status_code == 422 and "请输入参保人的身份证号码或社保卡号" in text_of(none.text)
    found = post_form(
        client,
        "/agency/accounts",
        "/agency/accounts",
        {"identity_number": world.retiree.identity_number},
    )
    assert found.status_code == 303
    page = found.headers["location"]
    assert page == f"/agency/accounts/{world.retiree.id}"
    shown = client.get(page)
    words = text_of(shown.text)
    assert "1,234.56 元" in words and world.retiree.name in words
    assert world.retiree.identity_number not in shown.text

    before = session.scalar(select(func.count()).select_from(Approval))
    for amount in ("abc", "-5", "1.234", "0"):
        bad = post_form(
            client,
            page,
            f"{page}/movements",
            {"direction": "credit", "amount": amount, "kind": "contribution"},
        )
        assert bad.status_code == 422, amount
        assert "金额须为大于 0 的元数" in text_of(bad.text)
    too_much = post_form(
        client,
        page,
        f"{page}/movements",
        {"direction": "debit", "amount": "99999", "kind": "adjustment"},
    )
    assert too_much.status_code == 422 and "account.insufficient" in too_much.text
    no_token = client.post(
        f"{page}/movements",
        data={"direction": "credit", "amount": "500", "kind": "contribution"},
        follow_redirects=False,
    )
    assert no_token.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Approval)) == before

    asked = post_form(
        client,
        page,
        f"{page}/movements",
        {"direction": "credit", "amount": "500", "kind": "contribution", "ref": "JF-2026-001"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/agency/approvals?state=pending#approval-")
    approval = session.scalars(select(Approval).order_by(Approval.id.desc())).first()
    assert approval is not None and approval.state == "pending"
    assert json.loads(approval.payload)["amount"] == "500"
    listed = text_of(client.get("/agency/approvals?state=pending").text)
    assert "JF-2026-001" in listed
    # the balance has not moved
    assert "1,234.56 元" in text_of(client.get(page).text)


def test_an_agency_of_another_region_does_not_find_the_person(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World
) -> None:
    make_web_user("agency", "baoding", agency_id=world.baoding_center.id)
    sign_in("baoding")
    found = post_form(
        client,
        "/agency/accounts",
        "/agency/accounts",
        {"identity_number": world.retiree.identity_number},
    )
    assert found.status_code == 404
    # the registry service refuses the account of a person of another region
    assert client.get(f"/agency/accounts/{world.retiree.id}").status_code == 403


def test_the_admin_lists_and_adds_the_agencies_of_a_region(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World, session: Session
) -> None:
    make_web_user("admin", "root")
    sign_in("root")
    regions = client.get("/admin/regions")
    assert world.center.name in text_of(regions.text)
    nameless = post_form(
        client,
        "/admin/regions",
        "/admin/agencies",
        {"name": " ", "kind": "treatment_agency", "region_code": "130600"},
    )
    assert nameless.status_code == 422
    wrong_kind = post_form(
        client,
        "/admin/regions",
        "/admin/agencies",
        {"name": "某机构", "kind": "bank", "region_code": "130600"},
    )
    assert wrong_kind.status_code == 422 and "agency.kind" in wrong_kind.text
    added = post_form(
        client,
        "/admin/regions",
        "/admin/agencies",
        {
            "name": "保定市医疗保障事务中心（就医地）",
            "kind": "treatment_agency",
            "region_code": "130600",
        },
    )
    assert added.status_code == 303
    shown = client.get(added.headers["location"])
    assert "经办机构已添加" in text_of(shown.text)
    assert "保定市医疗保障事务中心（就医地）" in text_of(shown.text)
    agency = session.scalars(
        select(Agency).where(Agency.name.startswith("保定市医疗保障事务中心"))
    ).one()
    assert (agency.kind, agency.region_code) == ("treatment_agency", "130600")


# --- 13. the first visit of /institutions ---------------------------------------------------


def _selected_region(html: str) -> str | None:
    found = re.search(r'<select id="region"[^>]*>(.*?)</select>', html, re.S)
    assert found
    chosen = re.search(r'<option value="(\d*)" selected', found.group(1))
    return chosen.group(1) if chosen else None


def test_institutions_default_to_the_users_own_treatment_region(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    world: World,
    session: Session,
) -> None:
    make_web_user("insured", "wang")
    sign_in("wang")
    # no filing in force: no region chosen (every region)
    assert _selected_region(client.get("/institutions").text) in (None, "")
    today = current_day()
    add_filing(
        session,
        world.retiree,
        category="resettled_retiree",
        dest="130600",
        start=today - timedelta(days=10),
        end=today + timedelta(days=300),
    )
    assert _selected_region(client.get("/institutions").text) == "130600"
    # the address still chooses
    assert _selected_region(client.get("/institutions?region=460200").text) == "460200"

    client.post("/logout", data={"csrf_token": csrf_of(client.get("/me").text)})
    make_web_user("hospital", "bj_window", institution_id=world.beijing_hospital.id)
    sign_in("bj_window")
    assert _selected_region(client.get("/institutions").text) == "110000"
