"""The agency's pages (经办机构): the filing review queue and one filing's review, four-eyes
approvals, recovery cases and the policy and catalog views — each through the same
services as the API, with the signed-in agency user as the actor."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from tests.web.conftest import MakeWebUser, SignIn, WebUser, csrf_of, post_form
from tests.web.test_pages import text_of
from yibao.approvals.models import Approval
from yibao.audit.models import AuditEntry
from yibao.clock import china_today
from yibao.config import Settings
from yibao.documents.service import Upload
from yibao.filings import service as filings
from yibao.filings.models import Filing
from yibao.filings.service import FilingRequest
from yibao.registry import service as registry
from yibao.registry.models import Person

PDF = b"%PDF-1.4\n% test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def reviewer(make_web_user: MakeWebUser) -> WebUser:
    """A reviewer of the Beijing centre (北京市医保中心)."""
    return make_web_user("agency", "reviewer")


def _file(
    session: Session,
    settings: Settings,
    actor: AuthUser,
    person: Person,
    *,
    category: str = "long_term_resident",
    hospitals: list[int] | None = None,
    submitted_on: date | None = None,
) -> Filing:
    """A filing made and submitted by ``actor`` (street office) through the service."""
    day = submitted_on or china_today()
    filing = filings.create_filing(
        session,
        actor=actor.user,
        request=FilingRequest(
            person_id=person.id,
            category=category,
            destination="460000",
            hospital_ids=hospitals
            if hospitals is not None or category == "other_temporary"
            else [world_hospital(session)],
        ),
        today=day,
    )
    for kind, content_type, data in (
        ("identity_copy", "image/png", PNG),
        ("commitment_letter", "application/pdf", PDF),
    ):
        filings.upload_document(
            session,
            actor=actor.user,
            filing_id=filing.id,
            upload=Upload(
                kind,
                f"{kind}.{content_type.rsplit('/', 1)[1]}",
                content_type,
                data,
                upload_dir=settings.upload_dir,
                max_bytes=10_000,
            ),
        )
    filings.submit_filing(session, actor=actor.user, filing_id=filing.id, today=day)
    session.commit()
    return filing


def world_hospital(session: Session) -> int:
    """The world's Sanya hospital (a long-term filing chooses it)."""
    from yibao.registry.models import Institution

    found = session.scalar(select(Institution.id).where(Institution.code == "H460200001"))
    assert found is not None
    return found


# --- the review queue -----------------------------------------------------------------------


def test_the_queue_is_oldest_first_filters_and_pages(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    office = make_user("street_office")
    today = china_today()
    old = _file(session, settings, office, world.retiree, submitted_on=today - timedelta(days=9))
    new = _file(
        session,
        settings,
        office,
        world.worker,
        category="other_temporary",
        submitted_on=today - timedelta(days=2),
    )
    sign_in(reviewer.login)

    queue = client.get("/agency/filings")
    assert queue.status_code == 200
    links = re.findall(r'href="/agency/filings/(\d+)"', queue.text)
    assert links == [str(old.id), str(new.id)]
    words = text_of(queue.text)
    assert "王退休" in words and "李在职" in words and "9 天" in words
    assert world.retiree.identity_number not in queue.text  # masked in the list

    newest = client.get("/agency/filings?order=newest")
    assert re.findall(r'href="/agency/filings/(\d+)"', newest.text) == [str(new.id), str(old.id)]

    temporary = client.get("/agency/filings?category=other_temporary")
    assert re.findall(r'href="/agency/filings/(\d+)"', temporary.text) == [str(new.id)]
    assert (
        re.findall(
            r'href="/agency/filings/(\d+)"', client.get("/agency/filings?state=resubmitted").text
        )
        == []
    )
    assert client.get("/agency/filings?category=nonsense").status_code == 422

    english = client.get("/agency/filings?lang=en")
    assert "The review queue" in english.text and "9 days" in english.text


def test_the_queue_pages_25_at_a_time(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    office = make_user("street_office")
    made = []
    for n in range(26):
        person = registry.register_person(
            session,
            identity_number=_identity(100 + n),
            name=f"测试{n}",
            scheme="employee",
            person_type="retired",
            insured_region="110000",
            actor=office.user,
        )
        made.append(_file(session, settings, office, person, category="other_temporary"))
    sign_in(reviewer.login)
    first = client.get("/agency/filings")
    assert len(re.findall(r'href="/agency/filings/(\d+)"', first.text)) == 25
    assert 'href="/agency/filings?category=&amp;state=&amp;order=oldest&amp;page=2"' in first.text
    second = client.get("/agency/filings?page=2")
    assert re.findall(r'href="/agency/filings/(\d+)"', second.text) == [str(made[-1].id)]


def _identity(sequence: int) -> str:
    from yibao.identity import make_identity_number

    return make_identity_number("110105", date(1955, 1, 1), sequence)


# --- one filing ----------------------------------------------------------------------------


def test_a_reviewer_approves_a_filing_and_sees_its_documents(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    office = make_user("street_office")
    filing = _file(session, settings, office, world.retiree, hospitals=[world.hospital.id])
    sign_in(reviewer.login)
    page = f"/agency/filings/{filing.id}"
    shown = client.get(page)
    assert shown.status_code == 200
    words = text_of(shown.text)
    assert "王退休" in words and "三亚市人民医院" in words and "个人承诺书" in words
    assert "提交审核" in words and "填写申请" in words  # the history
    images = re.findall(rf'<img src="({page}/documents/\d+)"', shown.text)
    assert len(images) == 1  # the PNG as a picture
    image = client.get(images[0])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png"
    # the PDF (the signed commitment letter) in a frame with its title, and a link to it
    frames = re.findall(rf'<iframe src="({page}/documents/\d+)" [^>]*title="[^"]+"', shown.text)
    assert len(frames) == 1
    assert f'<a href="{frames[0]}" target="_blank"' in shown.text
    pdf = client.get(frames[0])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # framed by this site's pages only; never sniffed nor stored
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    assert pdf.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["content-disposition"].startswith("inline")
    # the review page itself may still not be framed at all
    assert shown.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in shown.headers["content-security-policy"]

    approved = post_form(client, page, f"{page}/approve", {})
    assert approved.status_code == 303, approved.text
    session.expire_all()
    row = session.get(Filing, filing.id)
    assert row is not None and row.state == "approved" and row.number
    after = text_of(client.get(page).text)
    assert row.number in after and "审核通过" in after


def test_another_regions_agency_gets_404_on_a_filing_and_its_documents(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    office = make_user("street_office")
    filing = _file(session, settings, office, world.retiree)
    document = filings.filing_documents(session, actor=office.user, filing_id=filing.id)[0]
    baoding = make_web_user("agency", "baoding", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    assert client.get(f"/agency/filings/{filing.id}").status_code == 404
    assert client.get(f"/agency/filings/{filing.id}/documents/{document.id}").status_code == 404
    assert re.findall(r'href="/agency/filings/(\d+)"', client.get("/agency/filings").text) == []
    refused = client.post(
        f"/agency/filings/{filing.id}/approve",
        data={"csrf_token": csrf_of(client.get("/agency/filings").text)},
    )
    assert refused.status_code == 404
    session.expire_all()
    assert session.get(Filing, filing.id).state == "submitted"  # type: ignore[union-attr]


def test_the_creator_may_not_approve_and_sees_why(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    filing = _file(session, settings, reviewer.auth, world.retiree)
    sign_in(reviewer.login)
    page = f"/agency/filings/{filing.id}"
    shown = client.get(page)
    assert "须由本中心其他审核人员审核通过" in text_of(shown.text)
    assert f'action="{page}/approve"' not in shown.text
    refused = post_form(client, page, f"{page}/approve", {})
    assert refused.status_code == 403
    assert "filing.same_user" in refused.text
    assert "该申请由您本人录入，须由其他审核人员审核通过。" in text_of(refused.text)
    session.expire_all()
    assert session.get(Filing, filing.id).state == "submitted"  # type: ignore[union-attr]


def test_return_without_reasons_is_refused_and_writes_nothing(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    filing = _file(session, settings, make_user("street_office"), world.retiree)
    sign_in(reviewer.login)
    page = f"/agency/filings/{filing.id}"
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    refused = post_form(client, page, f"{page}/return", {"note": "请补充"})
    assert refused.status_code == 422
    assert "请至少勾选一项需补正的材料" in text_of(refused.text)
    unknown = post_form(client, page, f"{page}/return", {"missing": ["not_a_kind"]})
    assert unknown.status_code == 422 and "filing.missing_required" in unknown.text
    session.expire_all()
    assert session.get(Filing, filing.id).state == "submitted"  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before

    returned = post_form(
        client, page, f"{page}/return", {"missing": ["residence_proof"], "note": "请补充居住证明"}
    )
    assert returned.status_code == 303
    session.expire_all()
    row = session.get(Filing, filing.id)
    assert row is not None and row.state == "returned"
    assert row.missing_documents == ["residence_proof"]
    history = text_of(client.get(page).text)
    assert "退回补正材料" in history and "居住证明" in history


def test_reject_needs_a_reason(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    filing = _file(session, settings, make_user("street_office"), world.retiree)
    sign_in(reviewer.login)
    page = f"/agency/filings/{filing.id}"
    refused = post_form(client, page, f"{page}/reject", {"reason": "   "})
    assert refused.status_code == 422 and "请填写不予通过的理由" in text_of(refused.text)
    rejected = post_form(client, page, f"{page}/reject", {"reason": "不符合异地长期居住条件"})
    assert rejected.status_code == 303
    assert "不符合异地长期居住条件" in text_of(client.get(page).text)


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_user: MakeUser,
    session: Session,
    settings: Settings,
    world: World,
) -> None:
    filing = _file(session, settings, make_user("street_office"), world.retiree)
    sign_in(reviewer.login)
    answer = client.post(f"/agency/filings/{filing.id}/approve", data={})
    assert answer.status_code == 403
    session.expire_all()
    assert session.get(Filing, filing.id).state == "submitted"  # type: ignore[union-attr]


def test_other_roles_may_not_open_the_agency_pages(
    client: TestClient, sign_in: SignIn, insured: WebUser
) -> None:
    sign_in(insured.login)
    for path in ("/agency/filings", "/agency/approvals", "/agency/recovery", "/agency/policies"):
        assert client.get(path).status_code == 403, path


# --- four eyes ---------------------------------------------------------------------------


def test_a_second_person_approves_a_movement_and_the_requester_cannot(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
    world: World,
) -> None:
    asked = registry.request_account_movement(
        session,
        person_id=world.retiree.id,
        amount=Decimal("500.00"),
        kind="contribution",
        ref="2026-11 单位缴费",
        actor=reviewer.auth.user,
    )
    session.commit()
    sign_in(reviewer.login)
    mine = client.get("/agency/approvals")
    words = text_of(mine.text)
    assert "个人账户手工调整" in words and "向王退休的个人账户划入 500.00 元" in words
    assert "须由另一名工作人员复核" in words
    assert f'action="/agency/approvals/{asked.id}/approve"' not in mine.text
    refused = post_form(client, "/agency/approvals", f"/agency/approvals/{asked.id}/approve", {})
    assert refused.status_code == 403 and "approval.same_user" in refused.text

    second = make_web_user("agency", "second")
    sign_in(second.login)
    page = client.get("/agency/approvals")
    assert f'action="/agency/approvals/{asked.id}/approve"' in page.text
    done = post_form(client, "/agency/approvals", f"/agency/approvals/{asked.id}/approve", {})
    assert done.status_code == 303
    session.expire_all()
    approval = session.get(Approval, asked.id)
    assert approval is not None and approval.state == "approved"
    assert approval.decided_by == second.id
    listed = text_of(client.get("/agency/approvals?state=approved").text)
    assert "1,734.56 元" in listed  # 1,234.56 + 500.00


def test_rejecting_a_request_needs_a_reason(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
    world: World,
) -> None:
    asked = registry.request_account_movement(
        session,
        person_id=world.retiree.id,
        amount=Decimal("-20.00"),
        kind="adjustment",
        ref=None,
        actor=reviewer.auth.user,
    )
    session.commit()
    second = make_web_user("agency", "second")
    sign_in(second.login)
    refused = post_form(
        client, "/agency/approvals", f"/agency/approvals/{asked.id}/reject", {"reason": ""}
    )
    assert refused.status_code == 422 and "请填写不予通过的理由" in text_of(refused.text)
    rejected = post_form(
        client, "/agency/approvals", f"/agency/approvals/{asked.id}/reject", {"reason": "金额有误"}
    )
    assert rejected.status_code == 303
    assert "金额有误" in text_of(client.get("/agency/approvals?state=rejected").text)


def test_another_centre_does_not_see_the_request(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
    world: World,
) -> None:
    asked = registry.request_account_movement(
        session,
        person_id=world.retiree.id,
        amount=Decimal("10.00"),
        kind="contribution",
        ref=None,
        actor=reviewer.auth.user,
    )
    session.commit()
    baoding = make_web_user("agency", "baoding", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    assert "王退休" not in client.get("/agency/approvals").text
    refused = post_form(client, "/agency/approvals", f"/agency/approvals/{asked.id}/approve", {})
    assert refused.status_code == 404


# --- recovery -----------------------------------------------------------------------------


def test_recovery_cases_list_and_close(
    client: TestClient,
    sign_in: SignIn,
    reviewer: WebUser,
    make_web_user: MakeWebUser,
    session: Session,
    world: World,
) -> None:
    from tests.conftest import add_person
    from tests.integration.test_settle_kit import load_rules
    from tests.integration.test_settle_window import admit, settle

    load_rules(session)
    person = add_person(
        session,
        name="钱退休",
        region="110000",
        born=date(1956, 4, 2),
        sequence=41,
        person_type="retired",
        balance_fen=150_000,
    )
    session.commit()
    hospital = make_web_user("hospital", "clerk").auth
    encounter_id = admit(client, hospital, person, liability="third_party_unresolved")
    assert settle(client, hospital, encounter_id, "k-tp").status_code == 201
    sign_in(reviewer.login)
    listed = client.get("/agency/recovery")
    assert listed.status_code == 200
    words = text_of(listed.text)
    assert "钱退休" in words and "1,300.00 元" in words and "追偿中" in words
    found = re.search(r'href="(/agency/recovery/\d+)"', listed.text)
    assert found
    case_page = found.group(1)
    too_much = post_form(client, case_page, f"{case_page}/close", {"recovered": "1300.01"})
    assert too_much.status_code == 422 and "recovery.amount" in too_much.text
    not_a_number = post_form(client, case_page, f"{case_page}/close", {"recovered": "abc"})
    assert not_a_number.status_code == 422 and "追偿金额须为" in text_of(not_a_number.text)
    closed = post_form(
        client, case_page, f"{case_page}/close", {"recovered": "1000", "note": "肇事方保险赔付"}
    )
    assert closed.status_code == 303
    words = text_of(client.get(case_page).text)
    assert "已办结" in words and "300.00 元" in words and "肇事方保险赔付" in words
    assert "钱退休" not in text_of(client.get("/agency/recovery?state=open").text)

    baoding = make_web_user("agency", "baoding", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    assert client.get(case_page).status_code == 404
    assert "钱退休" not in client.get("/agency/recovery").text


# --- policies and catalogs -------------------------------------------------------------------


def test_policies_and_catalogs_are_shown_and_searched(
    client: TestClient, sign_in: SignIn, reviewer: WebUser, session: Session
) -> None:
    from tests.integration.test_settle_kit import load_rules

    load_rules(session)
    session.commit()
    sign_in(reviewer.login)
    shown = client.get("/agency/policies")
    assert shown.status_code == 200
    words = text_of(shown.text)
    assert "政策版本" in words and "生效日期" in words and "现行有效" in words
    link = re.search(r'href="(/agency/policies/catalogs/\d+)"', shown.text)
    assert link, shown.text
    catalog = client.get(link.group(1))
    assert catalog.status_code == 200
    found = client.get(f"{link.group(1)}?q=X001")
    assert "X001" in found.text
    nothing = client.get(f"{link.group(1)}?q=ZZZ-NOTHING")
    assert "没有符合条件的目录条目" in text_of(nothing.text)
    assert client.get("/agency/policies/catalogs/999999").status_code == 404


def test_a_treatment_agency_has_the_menu_pages_without_review_work(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World
) -> None:
    """The Sanya agency (就医地经办机构) reviews no filings and handles no recovery: its
    menu's pages answer and say so (the services decide), they do not fail."""
    sanya = make_web_user("agency", "sanya", agency_id=world.sanya_agency.id)
    sign_in(sanya.login)
    for path, words in (
        ("/agency/filings", "本机构无待审核备案"),
        ("/agency/recovery", "本机构无追偿案件"),
        ("/agency/approvals", "暂无复核事项"),
        ("/agency/policies", "政策版本"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert words in text_of(answer.text), path
