"""The agency's clearing pages (清算): build a month, its statements per region pair, a
statement's settlements, asking to confirm it (a second person approves), the exports —
each through the clearing service with the signed-in agency user as the actor."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser, csrf_of
from tests.web.test_pages import text_of
from yibao.clearing.models import ClearingStatement
from yibao.registry.models import Person

API = "/api/v1"
MAY = datetime(2026, 5, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def may_stays(session: Session, world: World) -> list[Person]:
    """Two Beijing retirees treated in Sanya and one in Baoding, settled in May 2026."""
    load_rules(session, regions=("460200", "110000", "130600"))
    people = [
        add_person(
            session,
            name=f"清算{i}",
            region="110000",
            born=date(1955, 1, 1 + i),
            sequence=71 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        for i in range(3)
    ]
    settle(session, people[0], world.hospital, "SY-1", at=MAY)
    settle(session, people[1], world.hospital, "SY-2", at=MAY)
    settle(session, people[2], world.other_hospital, "BD-1", at=MAY)
    session.commit()
    return people


@pytest.fixture
def centre(make_web_user: MakeWebUser) -> WebUser:
    """A reviewer of the Beijing centre (the debtor)."""
    return make_web_user("agency", "bj_clearing")


def build(client: TestClient, month: str, **extra: str) -> tuple[int, str]:
    token = csrf_of(client.get("/agency/clearing").text)
    answer = client.post(
        "/agency/clearing/build",
        data={"month": month, "csrf_token": token, **extra},
        follow_redirects=False,
    )
    return answer.status_code, answer.headers.get("location", answer.text)


def sanya_statement(session: Session) -> ClearingStatement:
    session.expire_all()
    row = session.scalars(
        select(ClearingStatement).where(
            ClearingStatement.year_month == "2026-05",
            ClearingStatement.treatment_region == "460200",
        )
    ).one()
    return row


def test_the_centre_builds_a_month_and_a_second_person_confirms_it(
    client: TestClient,
    sign_in: SignIn,
    centre: WebUser,
    may_stays: list[Person],
    make_user: MakeUser,
    session: Session,
) -> None:
    sign_in(centre.login)
    status, location = build(client, "2026-05")
    assert status == 303, location
    assert location == "/agency/clearing?month=2026-05&built=2"

    month = client.get(location)
    assert month.status_code == 200
    words = text_of(month.text)
    assert "三亚市" in words and "保定市" in words
    assert "已生成 2 张清算单" in words
    assert "草稿" in words
    # the year's chart: its figures as data, never a script that runs
    assert '<script type="application/json" id="year-chart-data">' in month.text
    assert "/static/vendor/echarts.min.js" in month.text
    row = sanya_statement(session)
    assert f'href="/agency/clearing/statements/{row.id}"' in month.text
    # Sanya's amount due: pool 1,200 + supplementary 1,400 + the personal accounts' 600
    assert (row.pool_fen, row.supplementary_fen, row.account_fen) == (120_000, 140_000, 60_000)
    assert "3,200.00 元" in words

    page = client.get(f"/agency/clearing/statements/{row.id}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "4,720.00 元" in words  # the total bill of the two Sanya stays
    assert f'href="/print/clearing/{row.id}"' in page.text
    assert f'href="/print/clearing/{row.id}.pdf"' in page.text
    assert words.count("三亚市人民医院") == 2  # its two settlements

    token = csrf_of(page.text)
    asked = client.post(
        f"/agency/clearing/statements/{row.id}/confirm",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    approval_id = int(asked.headers["location"].rsplit("=", 1)[1])
    shown = client.get(asked.headers["location"])
    assert "等待中心另一名工作人员" in text_of(shown.text)
    assert sanya_statement(session).state == "draft"  # four eyes: not yet

    second = make_user("agency")  # a second user of the Beijing centre
    approved = client.post(f"{API}/approvals/{approval_id}/approve", headers=second.headers)
    assert approved.status_code == 200, approved.text
    assert sanya_statement(session).state == "confirmed"
    after = client.get(f"/agency/clearing/statements/{row.id}")
    assert "已确认" in text_of(after.text)
    assert "/confirm" not in after.text


def test_the_csv_and_excel_exports_add_up_to_the_statement(
    client: TestClient,
    sign_in: SignIn,
    centre: WebUser,
    may_stays: list[Person],
    session: Session,
) -> None:
    sign_in(centre.login)
    assert build(client, "2026-05")[0] == 303
    row = sanya_statement(session)

    answer = client.get(f"/agency/clearing/statements/{row.id}/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "结算单号" and header[6] == "医疗费总额"
    assert len(body) == 2 and totals[0] == "清算单合计"
    fields = ("total_fen", "pool_fen", "supplementary_fen", "assistance_fen", "account_fen")
    for column, field in zip(range(6, 11), fields, strict=True):
        summed = sum(Decimal(r[column]) for r in body)
        assert summed == Decimal(getattr(row, field)) / 100, field
        assert Decimal(totals[column]) == Decimal(getattr(row, field)) / 100
    assert sum(Decimal(r[11]) for r in body) == Decimal(row.cash_fen) / 100

    book = client.get(f"/agency/clearing/statements/{row.id}/export.xlsx")
    assert book.status_code == 200
    assert book.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    with zipfile.ZipFile(io.BytesIO(book.content)) as xlsx:
        assert "xl/worksheets/sheet1.xml" in xlsx.namelist()
        shared = xlsx.read("xl/sharedStrings.xml").decode()
    assert "三亚市人民医院" in shared and "清算单合计" in shared


def test_another_regions_agency_sees_nothing_of_the_statement(
    client: TestClient,
    sign_in: SignIn,
    centre: WebUser,
    may_stays: list[Person],
    make_web_user: MakeWebUser,
    world: World,
    session: Session,
) -> None:
    sign_in(centre.login)
    assert build(client, "2026-05")[0] == 303
    row = sanya_statement(session)
    client.cookies.clear()

    baoding = make_web_user("agency", "bd_clearing", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    for path in (
        f"/agency/clearing/statements/{row.id}",
        f"/agency/clearing/statements/{row.id}/export.csv",
        f"/agency/clearing/statements/{row.id}/export.xlsx",
    ):
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 404, path
        assert "三亚市人民医院" not in answer.text
    listing = client.get("/agency/clearing?month=2026-05")
    assert f"/agency/clearing/statements/{row.id}" not in listing.text

    # the creditor (Sanya's agency) reads it but never confirms it
    client.cookies.clear()
    sanya = make_web_user("agency", "sy_clearing", agency_id=world.sanya_agency.id)
    sign_in(sanya.login)
    page = client.get(f"/agency/clearing/statements/{row.id}")
    assert page.status_code == 200
    refused = client.post(
        f"/agency/clearing/statements/{row.id}/confirm",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "clearing.not_debtor" in refused.text
    assert sanya_statement(session).state == "draft"


def test_an_open_month_is_not_confirmed_and_bad_input_writes_nothing(
    client: TestClient, sign_in: SignIn, centre: WebUser, session: Session
) -> None:
    sign_in(centre.login)
    status, text = build(client, "May 2026")
    assert status == 422
    assert "请按年-月填写月份" in text_of(text)
    assert session.scalar(select(func.count(ClearingStatement.id))) == 0

    # the current month builds (nothing to clear) but cannot be confirmed yet
    this_month = datetime.now(UTC).strftime("%Y-%m")
    status, location = build(client, this_month, confirm="true")
    assert status == 303, location


def test_a_form_without_its_token_is_refused(
    client: TestClient, sign_in: SignIn, centre: WebUser, session: Session
) -> None:
    sign_in(centre.login)
    answer = client.post(
        "/agency/clearing/build", data={"month": "2026-05"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert session.scalar(select(func.count(ClearingStatement.id))) == 0


def test_other_roles_are_turned_away(client: TestClient, sign_in: SignIn, insured: WebUser) -> None:
    sign_in(insured.login)
    assert client.get("/agency/clearing").status_code == 403
