"""The hospital window's other pages: its settlements (filtered, paged, each with the
reversal with a reason), reconciliation of a day, and the filings waiting for its stamp —
through the same services as the API, with the signed-in hospital as the actor."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.web.conftest import MakeWebUser, SignIn, WebUser, post_form
from tests.web.test_pages import text_of
from tests.web.test_window import clerk
from yibao.clock import business_date
from yibao.filings.models import Filing
from yibao.reconciliation.models import Reconciliation
from yibao.settlements.models import SettlementRecord

__all__ = ["clerk"]


def settle_a_stay(client: TestClient, world: World) -> int:
    """Admit the retiree, bill two lines, settle; the settlement's id (signed in already)."""
    admitted = post_form(
        client,
        "/window",
        "/window/admit",
        {"card_number": world.retiree.card_number or "", "setting": "inpatient", "deposit": "3000"},
    )
    assert admitted.status_code == 303, admitted.text
    page = admitted.headers["location"]
    for code, qty, price in (("X001", "10", "100.00"), ("M001", "2", "80")):
        added = post_form(
            client, page, f"{page}/fees", {"code": code, "quantity": qty, "unit_price": price}
        )
        assert added.status_code == 303, added.text
    settled = post_form(client, page, f"{page}/settle", {})
    assert settled.status_code == 303, settled.text
    found = re.search(r'href="/window/settlements/(\d+)/slip"', client.get(page).text)
    assert found
    return int(found.group(1))


def test_todays_settlements_are_listed_and_one_is_reversed_with_a_reason(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World, session: Session
) -> None:
    sign_in(clerk.login)
    settlement_id = settle_a_stay(client, world)

    listed = client.get("/window/settlements")
    assert listed.status_code == 200
    assert f'href="/window/settlements/{settlement_id}"' in listed.text
    assert world.retiree.name in text_of(listed.text)
    # filters: another day, another state, another setting leave it out; htmx gets the table
    assert (
        f"/window/settlements/{settlement_id}"
        not in client.get("/window/settlements?on=2020-01-01").text
    )
    assert (
        f"/window/settlements/{settlement_id}"
        not in client.get("/window/settlements?state=reversed").text
    )
    assert (
        f"/window/settlements/{settlement_id}"
        not in client.get("/window/settlements?setting=outpatient").text
    )
    partial = client.get("/window/settlements?on=&state=settled", headers={"HX-Request": "true"})
    assert f"/window/settlements/{settlement_id}" in partial.text
    assert "<html" not in partial.text
    bad_day = client.get("/window/settlements?on=yesterday")
    assert bad_day.status_code == 422 and "日期格式应为" in bad_day.text

    detail = client.get(f"/window/settlements/{settlement_id}")
    assert detail.status_code == 200
    words = text_of(detail.text)
    assert "1,160.00 元" in words and "冲正原因" in words
    assert f'href="/window/settlements/{settlement_id}/slip"' in detail.text
    assert world.retiree.identity_number not in detail.text

    page = f"/window/settlements/{settlement_id}"
    no_reason = post_form(client, page, f"{page}/reverse", {"reason": "   "})
    assert no_reason.status_code == 422
    assert "请填写冲正原因" in no_reason.text
    session.expire_all()
    assert session.get(SettlementRecord, settlement_id).state == "settled"  # type: ignore[union-attr]

    reversed_ = post_form(client, page, f"{page}/reverse", {"reason": "患者信息录入错误"})
    assert reversed_.status_code == 303, reversed_.text
    after = client.get(page)
    assert "已冲正" in text_of(after.text) and "冲正原因" not in text_of(after.text)
    session.expire_all()
    reversal = session.scalars(
        select(SettlementRecord).where(SettlementRecord.reverses_id == settlement_id)
    ).one()
    assert reversal.reason == "患者信息录入错误"
    # twice: the service refuses, shown on the page (409), nothing more written
    again = post_form(client, page, f"{page}/reverse", {"reason": "再来一次"})
    assert again.status_code == 409 and 'role="alert"' in again.text

    english = client.get(f"{page}?lang=en")
    assert "Reversed" in english.text and "Settlement" in english.text


def test_another_hospitals_settlement_is_not_found_on_the_window(
    client: TestClient,
    sign_in: SignIn,
    clerk: WebUser,
    make_web_user: MakeWebUser,
    world: World,
) -> None:
    sign_in(clerk.login)
    settlement_id = settle_a_stay(client, world)
    make_web_user("hospital", "other_clerk", institution_id=world.other_hospital.id)
    sign_in("other_clerk")
    assert client.get(f"/window/settlements/{settlement_id}").status_code == 404
    assert f"/window/settlements/{settlement_id}" not in client.get("/window/settlements?on=").text
    refused = post_form(
        client,
        "/window/settlements",
        f"/window/settlements/{settlement_id}/reverse",
        {"reason": "不是本院的"},
    )
    assert refused.status_code == 404


def test_a_reversal_without_the_forms_token_is_refused(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World, session: Session
) -> None:
    sign_in(clerk.login)
    settlement_id = settle_a_stay(client, world)
    refused = client.post(
        f"/window/settlements/{settlement_id}/reverse",
        data={"reason": "没有令牌"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(SettlementRecord, settlement_id).state == "settled"  # type: ignore[union-attr]


def test_reconciliation_shows_matched_or_every_difference(
    client: TestClient, sign_in: SignIn, clerk: WebUser, world: World, session: Session
) -> None:
    sign_in(clerk.login)
    settlement_id = settle_a_stay(client, world)
    form = client.get("/window/reconciliation")
    assert form.status_code == 200
    assert "ref" in form.text and 'href="/window/reconciliation/example.csv"' in form.text
    example = client.get("/window/reconciliation/example.csv")
    assert example.status_code == 200 and example.text.startswith("ref,total,fund_pay")
    row = session.get(SettlementRecord, settlement_id)
    assert row is not None
    ref = row.msg_id or f"S{row.id}"
    total, fund = row.total_fen / 100, row.fund_pay_total_fen / 100
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    day = business_date(row.created_at).isoformat()
    matched = client.post(
        "/window/reconciliation",
        data={"csrf_token": token, "day": day},
        files={"details": ("d.csv", f"ref,total,fund_pay\n{ref},{total:.2f},{fund:.2f}\n")},
        follow_redirects=False,
    )
    assert matched.status_code == 303, matched.text
    result = client.get(matched.headers["location"])
    assert "对账一致" in text_of(result.text)

    differs = client.post(
        "/window/reconciliation",
        data={"csrf_token": token, "day": day, "count": "2", "total": "100.00", "fund_pay": "0"},
        files={"details": ("d.csv", "ref,total,fund_pay\nWEB-NOT-OURS,100.00,0.00\n")},
        follow_redirects=False,
    )
    assert differs.status_code == 303, differs.text
    words = text_of(client.get(differs.headers["location"]).text)
    assert "差异明细" in words and "WEB-NOT-OURS" in words and ref in words
    assert "平台有记录，本院明细缺少" in words and "汇总不一致" in words

    before = session.scalar(select(func.count()).select_from(Reconciliation))
    half_totals = client.post(
        "/window/reconciliation",
        data={"csrf_token": token, "day": day, "count": "2"},
        follow_redirects=False,
    )
    assert half_totals.status_code == 422 and "请完整填写汇总笔数" in half_totals.text
    bad_file = client.post(
        "/window/reconciliation",
        data={"csrf_token": token, "day": day},
        files={"details": ("d.csv", "ref,total\nA,1\n")},
        follow_redirects=False,
    )
    assert bad_file.status_code == 422 and "fund_pay" in bad_file.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Reconciliation)) == before


def test_the_window_stamps_a_referral_it_issued(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
) -> None:
    desk = make_user("street_office")
    made = client.post(
        "/api/v1/filings",
        json={
            "person_id": world.retiree.id,
            "category": "referral",
            "destination": "460200",
            "referral_hospital_id": world.beijing_hospital.id,
        },
        headers=desk.headers,
    )
    assert made.status_code == 201, made.text
    filing_id = made.json()["id"]
    make_web_user("hospital", "bj_clerk", institution_id=world.beijing_hospital.id)
    sign_in("bj_clerk")
    listed = client.get("/window/referrals")
    assert listed.status_code == 200
    assert f"/window/referrals/{filing_id}/referral-stamp" in listed.text
    stamped = post_form(
        client, "/window/referrals", f"/window/referrals/{filing_id}/referral-stamp", {}
    )
    assert stamped.status_code == 303, stamped.text
    after = client.get(stamped.headers["location"])
    assert f"/window/referrals/{filing_id}/referral-stamp" not in after.text
    assert "已盖章确认" in text_of(after.text)
    session.expire_all()
    assert session.get(Filing, filing_id).referral_stamp == "stamped"  # type: ignore[union-attr]
    twice = post_form(
        client, "/window/referrals", f"/window/referrals/{filing_id}/referral-stamp", {}
    )
    assert twice.status_code in (403, 409) and 'role="alert"' in twice.text


def test_other_roles_may_not_open_these_pages(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser
) -> None:
    make_web_user("insured", "wang")
    sign_in("wang")
    for path in ("/window/settlements", "/window/reconciliation", "/window/referrals"):
        assert client.get(path).status_code == 403, path
