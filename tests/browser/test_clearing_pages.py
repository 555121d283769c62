"""Clearing, the fund dashboard and the settlement waterfall in a real browser: the Beijing
centre builds last month and asks to confirm its statement to Sanya, a second reviewer
approves it (through the API), the dashboard draws its ECharts charts with the figures in
tables, and 王建国 sees his settlement as a waterfall — a screenshot of every page, axe-core
on every page, and the dashboard once in English."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.browser.conftest import Site, Watched
from tests.browser.test_insured_pages import sign_in
from yibao.db import make_engine, session_scope
from yibao.engine import Claim, ClaimLine
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import record_settlement
from yibao.web.i18n import format_money

LINES = (("S0005", "5", "30"), ("D0009", "40", "65.10"))


def last_month(today: date) -> date:
    """The 15th of the month before ``today``'s (an ended month: it can be confirmed)."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=15)


@pytest.fixture(scope="module")
def stays(site: Site) -> dict[str, int]:
    """王建国 and 李秀英 (insured in Beijing) settled at the Sanya hospital last month, stored
    then (a settlement's clearing month is the month it was stored)."""
    day = last_month(site.demo.today)
    at = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    engine = make_engine(site.app.state.settings.database_url)
    out: dict[str, int] = {}
    try:
        with session_scope(engine) as session:
            hospital = site.demo.institutions["H460200001"]
            for key in ("wang", "li"):
                person = site.demo.persons[key]
                row, _ = record_settlement(
                    session,
                    claim=Claim(
                        claim_id=f"CLEARING-{key}",
                        date=day,
                        setting="inpatient",
                        person=person_info(person),
                        institution=institution_info(hospital),
                        lines=tuple(ClaimLine(c, Decimal(q), Decimal(p)) for c, q, p in LINES),
                    ),
                    person_id=person.id,
                    institution_id=hospital.id,
                    account_person_id=person.id,
                    msg_id=f"CLEARING-{key}",
                    now=at,
                )
                out[key] = row.id
    finally:
        engine.dispose()
    return out


def stored(site: Site, settlement_id: int) -> SettlementRecord:
    engine = make_engine(site.app.state.settings.database_url)
    try:
        with session_scope(engine) as session:
            row = session.get(SettlementRecord, settlement_id)
            assert row is not None
            session.expunge(row)
            return row
    finally:
        engine.dispose()


def test_the_centre_builds_and_confirms_a_month(watched: Watched, stays: dict[str, int]) -> None:
    month = last_month(watched.site.demo.today).strftime("%Y-%m")
    sign_in(watched, "agency")
    page = watched.visit("/agency/clearing", label="clearing")
    assert watched.accessibility_problems() == []

    page.get_by_label("清算月份（年-月）").fill(month)
    page.get_by_role("button", name="生成清算单").click()
    page.wait_for_url(f"**/agency/clearing?month={month}*")
    page.wait_for_load_state("networkidle")
    watched.shot("built")
    body = page.inner_text("body")
    assert "已生成" in body and "三亚市" in body and "草稿" in body
    # the year's chart is drawn (an SVG inside the chart's box) and its table has the month
    assert page.locator("#year-chart svg").count() == 1
    assert month in page.locator("table.months").inner_text()
    assert watched.accessibility_problems() == []

    page.locator("table.statements").get_by_role("link", name="北京市").click()
    page.wait_for_url("**/agency/clearing/statements/*")
    page.wait_for_load_state("networkidle")
    watched.shot("statement")
    body = page.inner_text("body")
    assert "三亚示范中心医院" in body
    wang = stored(watched.site, stays["wang"])
    li = stored(watched.site, stays["li"])
    items = page.locator("table.items").inner_text()
    for row in (wang, li):  # with the demo's own settlements of that month, if any
        assert f"{row.id}\t" in items and format_money(row.total_fen) in items
    assert watched.accessibility_problems() == []

    page.get_by_role("button", name="申请确认本清算单").click()
    page.wait_for_url("**requested=*")
    page.wait_for_load_state("networkidle")
    watched.shot("confirmation-asked")
    assert "等待中心另一名工作人员" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    approval = int(page.url.rsplit("requested=", 1)[1])
    # asked once: the button gives way to the pending request and its link
    assert page.get_by_role("button", name="申请确认本清算单").count() == 0
    pending = page.get_by_role("link", name="查看复核单")
    assert pending.get_attribute("href") == f"/agency/approvals#approval-{approval}"

    second = {"Authorization": f"Bearer {watched.site.demo.tokens['agency_2']}"}
    with httpx.Client(base_url=f"{watched.site.base}/api/v1", headers=second) as api:
        approved = api.post(f"/approvals/{approval}/approve")
        assert approved.status_code == 200, approved.text

    statement = page.url.split("?")[0].removeprefix(watched.site.base)
    page = watched.visit(statement, label="statement-confirmed")
    assert "已确认" in page.inner_text("body")
    assert page.get_by_role("button", name="申请确认本清算单").count() == 0
    assert watched.accessibility_problems() == []


def test_the_dashboard_draws_its_charts(watched: Watched, stays: dict[str, int]) -> None:
    year = last_month(watched.site.demo.today).year
    sign_in(watched, "agency")
    page = watched.visit(f"/agency/dashboard?year={year}", label="dashboard")
    for chart in ("by-month", "by-setting", "by-status", "by-region"):
        assert page.locator(f"#{chart} svg").count() == 1, chart
    regions = page.locator("#by-region-table").inner_text()
    assert "三亚市" in regions
    assert "预付金" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/agency/dashboard?year={year}&lang=en", label="dashboard-en")
    assert "Fund dashboard" in page.inner_text("body")
    assert "By treatment region" in page.inner_text("body")
    assert page.locator("#by-region svg").count() == 1
    assert watched.accessibility_problems() == []


def test_the_insured_person_sees_the_waterfall(watched: Watched, stays: dict[str, int]) -> None:
    sign_in(watched, "insured")
    row = stored(watched.site, stays["wang"])
    page = watched.visit(f"/me/settlements/{row.id}", label="waterfall")
    assert page.locator("#waterfall-chart svg").count() == 1
    table = page.locator("table.waterfall-table").inner_text()
    for fen in (row.total_fen, row.full_self_pay_fen, row.deductible_fen, row.cash_pay_fen):
        assert format_money(fen) in table
    assert "丙类及目录外全自费" in table
    assert watched.accessibility_problems() == []
