"""What a person trips over on the pages, fixed (the polish round, part A): the window's
slip carries the printed version's number and code, a filing offers its submission only
once it can succeed, the printouts are linked where they are read, a certificate's check
names its hospitals, a statement asked to be confirmed says so instead of asking again."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.integration.test_settle_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser, csrf_of, post_form
from tests.web.test_agency_pages import _file
from tests.web.test_clearing_pages import build, sanya_statement
from tests.web.test_clearing_pages import centre as centre
from tests.web.test_clearing_pages import may_stays as may_stays
from tests.web.test_desk_pages import settle_a_stay
from tests.web.test_filing_pages import apply, filing_id_of, resettlement
from tests.web.test_pages import hospital as hospital
from tests.web.test_pages import settle, text_of
from tests.web.test_printouts import (
    approved_filing,
    code_on,
    settle_by_api,
    submitted_claim,
)
from yibao.approvals.models import Approval
from yibao.clock import business_date
from yibao.config import Settings
from yibao.registry.models import Person
from yibao.reimbursements import service as reimbursements

API = "/api/v1"


# --- 1. the window's slip is the printed slip -------------------------------------------------


def test_the_window_slip_carries_the_number_and_the_code_of_the_pdf(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
) -> None:
    load_rules(session)
    session.commit()
    settlement_id = settle_by_api(client, make_user("hospital"), world.retiree.card_number or "")
    make_web_user("hospital", "clerk")
    sign_in("clerk")
    slip = client.get(f"/window/settlements/{settlement_id}/slip")
    assert slip.status_code == 200, slip.text
    words = text_of(slip.text)
    number = re.search(r"JS\d{6}-\d{8}", words)
    assert number, words  # the document number, not the settlement's id
    assert f"编号 {settlement_id}" not in words
    assert "三亚市人民医院" in words and "验证码" in words  # the issuer and the code
    assert 'src="data:image/svg+xml' in slip.text  # the QR code of the check page
    code = code_on(slip.text)
    printed = client.get(f"/print/settlements/{settlement_id}/slip")
    assert code_on(printed.text) == code and number.group(0) in text_of(printed.text)
    assert f'href="/print/settlements/{settlement_id}/slip.pdf"' in slip.text
    assert "/static/js/print.js" in slip.text

    client.cookies.clear()
    checked = text_of(client.get(f"/verify/{code}").text)
    assert "真实有效" in checked and number.group(0) in checked


# --- 3. submit only when it can succeed -------------------------------------------------------


def test_a_filing_offers_its_submission_once_the_hospital_has_stamped(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    make_user: MakeUser,
    world: World,
) -> None:
    sign_in(insured.login)
    saved = apply(
        client,
        "/me",
        resettlement(world, commitment="yes", signer=world.retiree.name),
        [("identity_copy", "id.pdf"), ("retirement_certificate", "retired.pdf")],
    )
    filing_id = filing_id_of(saved)
    detail = client.get(f"/me/filings/{filing_id}")
    words = text_of(detail.text)
    assert f'action="/me/filings/{filing_id}/submit"' not in detail.text
    assert "以下材料和盖章齐全后，方可提交审核" in words
    assert "三亚市人民医院医保办在申请表上盖章" in words
    assert "所需材料已齐全" in words and "尚缺医院盖章" in words
    english = text_of(client.get(f"/me/filings/{filing_id}?lang=en").text)
    assert "the stamp of the medical insurance office of 三亚市人民医院" in english
    client.get(f"/me/filings/{filing_id}?lang=zh")

    stamped = client.post(
        f"{API}/filings/{filing_id}/hospital-stamp", headers=make_user("hospital").headers
    )
    assert stamped.status_code == 200, stamped.text
    ready = client.get(f"/me/filings/{filing_id}")
    words = text_of(ready.text)
    assert f'action="/me/filings/{filing_id}/submit"' in ready.text
    assert "方可提交审核" not in words and "尚缺医院盖章" not in words
    submitted = post_form(client, f"/me/filings/{filing_id}", f"/me/filings/{filing_id}/submit")
    assert submitted.status_code == 303, submitted.text
    assert "已提交" in text_of(client.get(f"/me/filings/{filing_id}").text)


# --- 6. the printouts are linked where they are read ------------------------------------------


def test_the_settlement_page_links_its_slip(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
) -> None:
    load_rules(session)
    session.commit()
    settlement_id = settle_by_api(client, make_user("hospital"), world.retiree.card_number or "")
    sign_in(insured.login)
    page = client.get(f"/me/settlements/{settlement_id}")
    assert page.status_code == 200
    assert f'href="/print/settlements/{settlement_id}/slip.pdf"' in page.text
    assert client.get(f"/print/settlements/{settlement_id}/slip.pdf").status_code == 200
    words = text_of(page.text)
    assert "结算记录" in words and "结算单（PDF）" in words
    make_web_user("insured", "li", person_id=world.worker.id)
    sign_in("li")  # another person: neither the page nor the slip
    assert client.get(f"/me/settlements/{settlement_id}").status_code == 404
    assert client.get(f"/print/settlements/{settlement_id}/slip.pdf").status_code == 404


def test_a_returned_claim_links_its_notice_and_a_decided_one_its_letter(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
    tmp_path: Path,
) -> None:
    load_rules(session)
    reviewer = make_user("agency").user
    returned = submitted_claim(session, world, make_user, tmp_path)
    reimbursements.return_claim(
        session, actor=reviewer, claim_id=returned, missing=["diagnosis_certificate"]
    )
    rejected = submitted_claim(session, world, make_user, tmp_path)
    reimbursements.start_review(session, actor=reviewer, claim_id=rejected)
    reimbursements.reject_claim(session, actor=reviewer, claim_id=rejected, reason="发票不符")
    pending = submitted_claim(session, world, make_user, tmp_path)
    session.commit()

    sign_in(insured.login)
    mine = client.get(f"/me/claims/{returned}")
    assert f'href="/print/claims/{returned}/decision"' in mine.text
    assert "补正材料通知书" in text_of(mine.text)
    assert "补正材料通知书" in text_of(client.get(f"/print/claims/{returned}/decision").text)
    assert f'href="/print/claims/{rejected}/decision"' in client.get(f"/me/claims/{rejected}").text
    assert "/decision" not in client.get(f"/me/claims/{pending}").text

    make_web_user("agency", "bj_reviewer")
    sign_in("bj_reviewer")
    agency_returned = client.get(f"/agency/claims/{returned}")
    assert f'href="/print/claims/{returned}/decision.pdf"' in agency_returned.text
    assert "补正材料通知书" in text_of(agency_returned.text)
    decided = client.get(f"/agency/claims/{rejected}")
    assert f'href="/print/claims/{rejected}/decision"' in decided.text
    assert "/decision" not in client.get(f"/agency/claims/{pending}").text


# --- 10. a certificate's check names its hospitals ----------------------------------------------


def test_the_check_of_a_certificate_lists_its_hospitals(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
    tmp_path: Path,
) -> None:
    filing = approved_filing(session, world, make_user, tmp_path)
    sign_in(insured.login)
    code = code_on(client.get(f"/print/filings/{filing.id}/certificate").text)
    client.cookies.clear()
    checked = client.get(f"/verify/{code}")
    words = text_of(checked.text)
    assert checked.status_code == 200 and "真实有效" in words
    assert "备案定点医疗机构" in words
    assert world.hospital.name in words
    assert world.other_hospital.name not in words  # only the filing's own
    english = text_of(client.get(f"/verify/{code}?lang=en").text)
    assert "Hospitals of this filing" in english and world.hospital.name in english


# --- 12. a statement asked to be confirmed says so -----------------------------------------------


def pending_approvals(session: Session) -> int:
    session.expire_all()
    return (
        session.scalar(
            select(func.count())
            .select_from(Approval)
            .where(Approval.kind == "clearing.confirm", Approval.state == "pending")
        )
        or 0
    )


def test_asking_again_to_confirm_shows_the_pending_request(
    client: TestClient,
    sign_in: SignIn,
    centre: WebUser,
    may_stays: list[Person],
    make_user: MakeUser,
    session: Session,
) -> None:
    sign_in(centre.login)
    assert build(client, "2026-05")[0] == 303
    row = sanya_statement(session)
    page = client.get(f"/agency/clearing/statements/{row.id}")
    assert f'action="/agency/clearing/statements/{row.id}/confirm"' in page.text
    asked = client.post(
        f"/agency/clearing/statements/{row.id}/confirm",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    approval_id = int(asked.headers["location"].rsplit("=", 1)[1])
    assert pending_approvals(session) == 1

    again = client.get(f"/agency/clearing/statements/{row.id}")  # a later visit
    words = text_of(again.text)
    assert f'action="/agency/clearing/statements/{row.id}/confirm"' not in again.text
    assert "等待中心另一名工作人员" in words and f"复核单 {approval_id}" in words
    assert f'href="/agency/approvals#approval-{approval_id}"' in again.text
    assert "申请时间" in words
    listed = client.get("/agency/approvals")
    assert f'id="approval-{approval_id}"' in listed.text

    # a second press from a page still open elsewhere: the same request, not a new one
    stale = client.post(
        f"/agency/clearing/statements/{row.id}/confirm",
        data={"csrf_token": csrf_of(again.text)},
        follow_redirects=False,
    )
    assert stale.status_code == 303
    assert stale.headers["location"].endswith(f"requested={approval_id}")
    assert pending_approvals(session) == 1

    second = make_user("agency")
    approved = client.post(f"{API}/approvals/{approval_id}/approve", headers=second.headers)
    assert approved.status_code == 200, approved.text
    after = text_of(client.get(f"/agency/clearing/statements/{row.id}").text)
    assert "已确认" in after and "等待中心另一名工作人员" not in after


# --- 2. the reconciliation's two tables in one order -------------------------------------------


def test_both_reconciliation_tables_put_the_hospitals_figures_first(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    world: World,
    session: Session,
) -> None:
    load_rules(session)
    session.commit()
    make_web_user("hospital", "recon_clerk")
    sign_in("recon_clerk")
    settle_a_stay(client, world)
    form = client.get("/window/reconciliation")
    differs = client.post(
        "/window/reconciliation",
        data={
            "csrf_token": csrf_of(form.text),
            "day": business_date(datetime.now(UTC)).isoformat(),
            "count": "2",
            "total": "100.00",
            "fund_pay": "0",
        },
        files={"details": ("d.csv", "ref,total,fund_pay\nWEB-NOT-OURS,123.45,0.00\n")},
        follow_redirects=False,
    )
    assert differs.status_code == 303, differs.text
    page = client.get(differs.headers["location"]).text
    tables = page.split("<table")[1:]
    assert len(tables) == 2
    for table in tables:
        head = table.split("</thead>")[0]
        assert head.index("本院数据") < head.index("平台记录"), head
    # the hospital's own figure of the line Yibao does not know stands under 本院数据
    row = next(r for r in tables[1].split("<tr") if "WEB-NOT-OURS" in r)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[0].strip() == "123.45 元", row


# --- 4. the filing form names what its check does; 5. the queue's link column -------------------


def test_the_filing_form_checks_the_chosen_hospitals_under_their_own_heading(
    client: TestClient, sign_in: SignIn, insured: WebUser, world: World
) -> None:
    sign_in(insured.login)
    form = client.get(
        "/me/filings/new", params={"destination": "460200", "category": "resettled_retiree"}
    )
    words = text_of(form.text)
    assert "4 定点医院" in words and "4 定点医药机构" not in words
    assert "检查所选医院" in words and "检查所填内容" not in words
    # the button sits in step 4, after the hospitals it checks
    step = form.text.split('id="step-hospitals"')[1].split("</section>")[0]
    assert 'name="action" value="check"' in step
    checked = apply(
        client, "/me", resettlement(world, action="check", hospital_ids=[str(world.pharmacy.id)])
    )
    assert checked.status_code == 200 and "定点医院" in text_of(checked.text)


def test_the_review_queues_link_column_has_its_own_name(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    _file(session, settings, make_user("street_office"), world.retiree)
    make_web_user("agency", "queue_reviewer")
    sign_in("queue_reviewer")
    queue = client.get("/agency/filings")
    head = queue.text.split("<thead>")[1].split("</thead>")[0]
    assert '<span class="visually-hidden">操作</span>' in head
    assert "未结算" not in head


# --- 14. the window's settlements: the day as a date ---------------------------------------------


def test_the_settlement_list_heading_says_the_day_in_words(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    hospital: AuthUser,
    world: World,
) -> None:
    settle(client, hospital, world.retiree, key="polish-14")
    make_web_user("hospital", "list_clerk")
    sign_in("list_clerk")
    page = client.get("/window/settlements", params={"on": "2026-05-10"})
    heading = text_of(page.text.split('id="list-title"')[1].split("</h2>")[0])
    assert "2026年5月10日" in heading and "2026-05-10" not in heading
    table = client.get(
        "/window/settlements", params={"on": "2026-05-10"}, headers={"HX-Request": "true"}
    )
    assert "2026年5月10日" in text_of(table.text)


# --- 15. words; 16. what the reimbursed amount holds ---------------------------------------------


def test_one_word_for_each_thing(
    client: TestClient, sign_in: SignIn, insured: WebUser, make_web_user: MakeWebUser
) -> None:
    sign_in(insured.login)
    english = text_of(client.get("/me/filings/new?destination=460200&lang=en").text)
    assert "Resettled retiree" in english and "yidi anzhi" not in english
    client.get("/me?lang=zh")
    make_web_user("hospital", "words_clerk")
    sign_in("words_clerk")
    form = text_of(client.get("/window/reconciliation").text)
    assert "报文号" in form and "报文ID" not in form


def test_the_reimbursed_amount_says_what_it_holds(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    make_user: MakeUser,
    world: World,
    session: Session,
    tmp_path: Path,
) -> None:
    load_rules(session)
    reviewer = make_user("agency").user
    claim_id = submitted_claim(session, world, make_user, tmp_path)
    reimbursements.start_review(session, actor=reviewer, claim_id=claim_id)
    reimbursements.approve_claim(session, actor=reviewer, claim_id=claim_id)
    session.commit()
    sign_in(insured.login)
    words = text_of(client.get(f"/me/claims/{claim_id}").text)
    assert "报销金额" in words and "即医保基金支付部分加个人账户支付部分" in words
