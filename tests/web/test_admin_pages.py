"""The administration pages: users (create with role and workplace, reset a password shown
once, unlock), regions, institutions and units — through the users and registry services
with the signed-in admin as the actor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World
from tests.web.conftest import MakeWebUser, SignIn, WebUser, post_form
from tests.web.test_pages import text_of
from yibao.auth import passwords
from yibao.auth.models import User
from yibao.registry.models import Institution, Region, Unit

_SECRET = re.compile(r'<span class="secret">([^<]+)</span>')


@pytest.fixture
def admin(make_web_user: MakeWebUser) -> WebUser:
    return make_web_user("admin", "root")


def test_admin_creates_a_hospital_user_who_signs_in_with_the_temporary_password(
    client: TestClient, sign_in: SignIn, admin: WebUser, world: World, session: Session
) -> None:
    sign_in(admin.login)
    listed = client.get("/admin/users")
    assert listed.status_code == 200 and "新建用户" in text_of(listed.text)

    made = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {
            "name": "三亚医院窗口二",
            "role": "hospital",
            "login": "sy_window2",
            "institution_id": str(world.hospital.id),
            "agency_id": str(world.center.id),  # ignored for a hospital user
        },
    )
    assert made.status_code == 200, made.text
    shown = _SECRET.search(made.text)
    assert shown and "仅显示这一次" in text_of(made.text)
    session.expire_all()
    user = session.scalars(select(User).where(User.login == "sy_window2")).one()
    assert (user.role, user.institution_id, user.agency_id) == ("hospital", world.hospital.id, None)
    # the password is shown nowhere else
    assert shown.group(1) not in client.get(f"/admin/users/{user.id}").text
    assert (
        passwords.sign_in(
            session, login="sy_window2", password=shown.group(1), now=datetime.now(UTC)
        ).user
        is not None
    )

    hospitals = client.get("/admin/users?role=hospital")
    assert "三亚医院窗口二" in text_of(hospitals.text)
    assert "三亚医院窗口二" not in text_of(client.get("/admin/users?role=agency").text)
    partial = client.get("/admin/users?role=hospital", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "三亚医院窗口二" in partial.text


def test_a_user_needs_the_workplace_of_its_role(
    client: TestClient, sign_in: SignIn, admin: WebUser, world: World, session: Session
) -> None:
    sign_in(admin.login)
    before = session.scalar(select(func.count()).select_from(User))
    no_agency = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"name": "审核员", "role": "agency", "login": "rev9"},
    )
    assert no_agency.status_code == 422 and "user.scope_unknown" in no_agency.text
    no_person = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"name": "某人", "role": "insured", "login": "p9", "identity_number": ""},
    )
    assert no_person.status_code == 422 and "须填写本人身份证号码" in no_person.text
    bad_login = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {
            "name": "某人",
            "role": "insured",
            "login": "!!",
            "identity_number": world.worker.identity_number,
        },
    )
    assert bad_login.status_code == 422 and "user.password_invalid" in bad_login.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before

    insured = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {
            "name": "李在职",
            "role": "insured",
            "login": "li_zz",
            "identity_number": world.worker.identity_number,
        },
    )
    assert insured.status_code == 200, insured.text
    session.expire_all()
    assert (
        session.scalars(select(User).where(User.login == "li_zz")).one().person_id
        == world.worker.id
    )


def test_reset_and_unlock(
    client: TestClient,
    sign_in: SignIn,
    admin: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
) -> None:
    clerk = make_web_user("hospital", "clerk")
    user = session.get(User, clerk.id)
    assert user is not None
    user.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    session.commit()

    sign_in(admin.login)
    page = f"/admin/users/{clerk.id}"
    shown = client.get(page)
    assert "已锁定" in text_of(shown.text) and "解锁账号" in text_of(shown.text)
    unlocked = post_form(client, page, f"{page}/unlock", {})
    assert unlocked.status_code == 303
    assert "账号已解锁" in text_of(client.get(unlocked.headers["location"]).text)
    session.expire_all()
    assert session.get(User, clerk.id).locked_until is None  # type: ignore[union-attr]

    reset = post_form(client, page, f"{page}/password", {})
    assert reset.status_code == 200
    found = _SECRET.search(reset.text)
    assert found
    session.expire_all()
    now = datetime.now(UTC)
    assert passwords.sign_in(session, login="clerk", password=clerk.password, now=now).user is None
    assert passwords.sign_in(session, login="clerk", password=found.group(1), now=now).user


def test_regions_institutions_and_units(
    client: TestClient, sign_in: SignIn, admin: WebUser, world: World, session: Session
) -> None:
    sign_in(admin.login)
    assert "三亚市" in text_of(client.get("/admin/regions").text)
    added = post_form(
        client, "/admin/regions", "/admin/regions", {"code": "460300", "name": "三沙市"}
    )
    assert added.status_code == 303
    assert "三沙市" in text_of(client.get(added.headers["location"]).text)
    twice = post_form(
        client, "/admin/regions", "/admin/regions", {"code": "460300", "name": "三沙市"}
    )
    assert twice.status_code == 409 and "region.exists" in twice.text
    bad = post_form(client, "/admin/regions", "/admin/regions", {"code": "46", "name": "错"})
    assert bad.status_code == 422
    session.expire_all()
    assert session.get(Region, "46") is None

    made = post_form(
        client,
        "/admin/institutions",
        "/admin/institutions",
        {
            "code": "H460300001",
            "name": "三沙示范医院",
            "region_code": "460300",
            "kind": "hospital",
            "level": "2",
            "specialty": "general",
            "designated": "on",
        },
    )
    assert made.status_code == 303, made.text
    page = made.headers["location"].split("?")[0]
    assert "三沙示范医院" in text_of(client.get(page).text)
    changed = post_form(
        client,
        page,
        page,
        {
            "name": "三沙示范人民医院",
            "level": "3",
            "specialty": "general",
            "designated": "on",
            "networked": "on",
        },
    )
    assert changed.status_code == 303
    session.expire_all()
    inst = session.scalars(select(Institution).where(Institution.code == "H460300001")).one()
    assert (inst.name, inst.level, inst.networked) == ("三沙示范人民医院", 3, True)
    pharmacy_level = post_form(
        client,
        "/admin/institutions",
        "/admin/institutions",
        {"code": "P1", "name": "药房", "region_code": "460300", "kind": "pharmacy", "level": "2"},
    )
    assert pharmacy_level.status_code == 422 and "institution.level" in pharmacy_level.text
    assert "三沙示范人民医院" in text_of(client.get("/admin/institutions?region=460300").text)

    unit = post_form(
        client,
        "/admin/units",
        "/admin/units",
        {"name": "三沙示范渔业公司", "region_code": "460300"},
    )
    assert unit.status_code == 303
    assert "三沙示范渔业公司" in text_of(client.get("/admin/units").text)
    nameless = post_form(
        client, "/admin/units", "/admin/units", {"name": " ", "region_code": "460300"}
    )
    assert nameless.status_code == 422
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Unit).where(Unit.name == " ")) == 0
    assert "Designated institutions" in client.get("/admin/institutions?lang=en").text


def test_only_admins_and_only_with_the_token(
    client: TestClient,
    sign_in: SignIn,
    admin: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
) -> None:
    make_web_user("agency", "reviewer")
    sign_in("reviewer")
    for path in ("/admin/users", "/admin/regions", "/admin/institutions", "/admin/units"):
        assert client.get(path).status_code == 403, path
    sign_in(admin.login)
    before = session.scalar(select(func.count()).select_from(User))
    refused = client.post(
        "/admin/users",
        data={"name": "x", "role": "admin", "login": "x1"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before
    assert client.get("/admin/users/999999").status_code == 404
