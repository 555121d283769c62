"""The advance fund (预付金) on the agency's fund dashboard: the amount in force per
treatment region, the part in use, its share and its warning (a mark and words: 预警 from
70%, 严重预警 from 90%), and the form with which the insured region's centre asks to record
a new amount — approved by a second person under 复核."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser, csrf_of
from tests.web.test_dashboard_pages import table_rows
from tests.web.test_pages import text_of
from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.clearing import advance
from yibao.clearing.models import AdvanceFund
from yibao.clock import china_today
from yibao.web.i18n import format_date, format_money

ACTION = "/agency/dashboard/advance-funds"


def last_month() -> datetime:
    """The 15th of last month (China time), 10:00: within the last two complete months."""
    day = (china_today().replace(day=1) - timedelta(days=1)).replace(day=15)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


@pytest.fixture
def stays(session: Session, world: World) -> None:
    """Two Beijing retirees' stays in Sanya last month: the funds paid 2 × 1,300.00 and
    the personal accounts 2 × 300.00, so 3,200.00 is in use and 2,600.00 is suggested."""
    load_rules(session, regions=("460200", "110000", "130600"))
    for i in range(2):
        person = add_person(
            session,
            name=f"预付页{i}",
            region="110000",
            born=date(1952, 5, 1 + i),
            sequence=171 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        settle(session, person, world.hospital, f"AFWEB-{i}", at=last_month())
    session.commit()


@pytest.fixture
def centre(make_web_user: MakeWebUser) -> WebUser:
    return make_web_user("agency", "bj_adv")


@pytest.fixture
def second(make_web_user: MakeWebUser) -> WebUser:
    return make_web_user("agency", "bj_adv_2")


def recorded(session: Session, first: WebUser, other: WebUser, amount: str) -> None:
    asked = advance.request_advance_fund(
        session,
        actor=first.auth.user,
        treatment_region="460200",
        amount=Decimal(amount),
        effective_from=china_today() - timedelta(days=40),
    )
    approvals.approve(session, actor=other.auth.user, approval_id=asked.id)
    session.commit()


def sanya_row(page: Response) -> list[str]:
    assert page.status_code == 200, page.text
    return table_rows(page.text, "advance-table")["三亚市"]


def post(client: TestClient, **data: str) -> Response:
    token = csrf_of(client.get("/agency/dashboard").text)
    return client.post(ACTION, data={**data, "csrf_token": token}, follow_redirects=False)


def test_the_warning_is_a_mark_and_words(
    client: TestClient,
    sign_in: SignIn,
    session: Session,
    stays: None,
    centre: WebUser,
    second: WebUser,
) -> None:
    sign_in(centre.login)
    insured, amount, since, share, level, entries, _month, suggested, in_use = sanya_row(
        client.get("/agency/dashboard")
    )
    assert (insured, amount, share, level) == ("北京市", "—", "—", "○ 未登记预付金")
    assert in_use == format_money(320_000) and entries == "2"
    assert suggested.startswith(format_money(260_000))

    recorded(session, centre, second, "4000.00")  # 3,200 of 4,000: 80%
    page = client.get("/agency/dashboard")
    _, amount, since, share, level, *_rest, in_use = sanya_row(page)
    assert amount == format_money(400_000) and share == "80.0%"
    assert level == "▲ 预警"
    assert since == format_date(china_today() - timedelta(days=40), "zh")
    assert 'class="level level-warning"' in page.text
    assert "使用达到 70% 时预警" in text_of(page.text)
    assert "达到 90% 时严重预警" in text_of(page.text)

    recorded(session, centre, second, "3500.00")  # 91.4%
    page = client.get("/agency/dashboard")
    _, amount, _, share, level, *_ = sanya_row(page)
    assert (amount, share, level) == (format_money(350_000), "91.4%", "■ 严重预警")

    recorded(session, centre, second, "10000.00")  # 32%
    assert sanya_row(client.get("/agency/dashboard"))[4] == "● 正常"

    english = client.get("/agency/dashboard?lang=en")
    assert table_rows(english.text, "advance-table")["三亚市"][4] == "● Normal"
    assert "From 70% in use a warning is raised" in text_of(english.text)


def test_the_centre_asks_and_a_second_person_approves(
    client: TestClient,
    sign_in: SignIn,
    session: Session,
    stays: None,
    centre: WebUser,
    second: WebUser,
) -> None:
    sign_in(centre.login)
    page = client.get("/agency/dashboard?record=460200")
    form = re.search(r'<form[^>]*id="advance-form".*?</form>', page.text, re.DOTALL)
    assert form is not None
    assert 'value="2600.00"' in form.group(0)  # the suggested amount, filled in
    assert "三亚市建议额度：2,600.00 元" in text_of(form.group(0))
    assert '<label for="advance-amount">' in form.group(0)

    answer = post(
        client,
        treatment_region="460200",
        amount="4000.00",
        effective_from="2026-06-01",
        note="第二季度预付金",
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert re.fullmatch(r"/agency/dashboard\?requested=\d+#advance", location), location
    shown = client.get(location)
    words = text_of(shown.text)
    assert "待本中心另一名工作人员复核" in words
    assert 'href="/agency/approvals"' in shown.text
    assert session.scalar(select(func.count(AdvanceFund.id))) == 0  # not yet recorded

    asked = session.scalars(select(Approval).where(Approval.kind == advance.ADVANCE_FUND)).one()
    mine = text_of(client.get("/agency/approvals").text)
    assert "登记异地就医预付金" in mine
    assert "登记北京市向三亚市拨付的预付金：4,000.00 元，自2026年6月1日起执行。" in mine
    assert "备注：第二季度预付金" in mine
    refused = client.post(
        f"/agency/approvals/{asked.id}/approve",
        data={"csrf_token": csrf_of(client.get("/agency/approvals").text)},
        follow_redirects=False,
    )
    assert refused.status_code == 403  # the one who asked never approves

    sign_in(second.login)
    done = client.post(
        f"/agency/approvals/{asked.id}/approve",
        data={"csrf_token": csrf_of(client.get("/agency/approvals").text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    row = session.scalars(select(AdvanceFund)).one()
    assert (row.amount_fen, row.recorded_by, row.approved_by) == (400_000, centre.id, second.id)
    assert sanya_row(client.get("/agency/dashboard"))[1] == format_money(400_000)


@pytest.mark.parametrize(
    ("data", "says", "status"),
    [
        ({"amount": "四千"}, "预付金金额应为以元为单位的数字", 422),
        ({"amount": "-100"}, "预付金金额不得为负数", 422),
        ({"amount": "100.001"}, "金额最多保留两位小数", 422),
        ({"effective_from": "2026-13-01"}, "请填写该金额的生效日期", 422),
        ({"treatment_region": ""}, "请选择预付金拨付的就医地", 422),
        ({"treatment_region": "110000"}, "预付金只能拨付给其他统筹区", 422),
    ],
)
def test_bad_input_is_said_and_nothing_is_asked(
    client: TestClient,
    sign_in: SignIn,
    session: Session,
    world: World,
    centre: WebUser,
    data: dict[str, str],
    says: str,
    status: int,
) -> None:
    sign_in(centre.login)
    fields = {"treatment_region": "460200", "amount": "1000", "effective_from": "2026-07-01"}
    answer = post(client, **{**fields, **data})
    assert answer.status_code == status
    assert says in text_of(answer.text)
    assert 'id="advance-form"' in answer.text  # the form again, with what was typed
    if "amount" in data:
        assert f'value="{data["amount"]}"' in answer.text
    assert session.scalar(select(func.count(Approval.id))) == 0


def test_a_form_without_its_token_is_refused(
    client: TestClient, sign_in: SignIn, session: Session, world: World, centre: WebUser
) -> None:
    sign_in(centre.login)
    answer = client.post(
        ACTION, data={"treatment_region": "460200", "amount": "1000"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert session.scalar(select(func.count(Approval.id))) == 0


def test_the_treatment_agency_sees_the_fund_it_holds_and_records_none(
    client: TestClient,
    sign_in: SignIn,
    session: Session,
    world: World,
    stays: None,
    centre: WebUser,
    second: WebUser,
    make_web_user: MakeWebUser,
) -> None:
    recorded(session, centre, second, "4000.00")
    sanya = make_web_user("agency", "sy_adv", agency_id=world.sanya_agency.id)
    sign_in(sanya.login)
    page = client.get("/agency/dashboard")
    (beijing,) = table_rows(page.text, "advance-table").items()  # by the paying region
    assert beijing[0] == "北京市" and beijing[1][0] == "三亚市" and beijing[1][4] == "▲ 预警"
    assert 'id="advance-form"' not in page.text
    answer = post(client, treatment_region="460200", amount="1000")
    assert answer.status_code == 403
    assert "预付金由拨付预付金的参保地医保经办机构登记" in text_of(answer.text)

    baoding = make_web_user("agency", "bd_adv", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    page = client.get("/agency/dashboard")
    assert 'id="advance-table"' not in page.text  # nothing of Beijing's
    assert 'id="advance-form"' in page.text  # it may record its own


def test_other_roles_are_turned_away(
    client: TestClient, sign_in: SignIn, insured: WebUser, session: Session
) -> None:
    sign_in(insured.login)
    answer = post_as_anyone(client)
    assert answer.status_code == 403
    assert session.scalar(select(func.count(Approval.id))) == 0


def post_as_anyone(client: TestClient) -> Response:
    token = csrf_of(client.get("/me").text)
    return client.post(
        ACTION,
        data={"treatment_region": "460200", "amount": "1000", "csrf_token": token},
        follow_redirects=False,
    )
