"""The agency's fund dashboard (基金看板) and the settlement waterfall on the insured
person's settlement page: figures summed by the services, charts drawn from data blocks,
every figure also in a table."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World, add_person
from tests.integration.test_clearing_statements import settle
from tests.integration.test_reimburse_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser
from tests.web.test_clearing_pages import MAY
from tests.web.test_pages import text_of
from yibao.money import from_fen
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import settlement_waterfall
from yibao.web.i18n import format_money
from yibao.web.rendering import STATIC_DIR as STATIC

# What echarts.min.js names: the XML namespaces of the SVG it draws, and licence links.
ECHARTS_ADDRESSES = {
    "http://www.apache.org/licenses/LICENSE-2.0",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/XML/1998/namespace",
    "https://github.com/ecomfe/zrender/blob/master/LICENSE",
}


@pytest.fixture
def stays(session: Session, world: World) -> list[SettlementRecord]:
    """Two Beijing persons treated in Sanya and one in Baoding, settled in May 2026."""
    load_rules(session, regions=("460200", "110000", "130600"))
    people = [
        add_person(
            session,
            name=f"看板{i}",
            region="110000",
            born=date(1956, 2, 1 + i),
            sequence=81 + 2 * i,
            person_type="retired",
            balance_fen=30_000,
        )
        for i in range(3)
    ]
    rows = [
        settle(session, people[0], world.hospital, "DB-1", at=MAY),
        settle(session, people[1], world.hospital, "DB-2", at=MAY),
        settle(session, people[2], world.other_hospital, "DB-3", at=MAY),
    ]
    session.commit()
    return rows


def table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """The rows of a table by its first cell: the words of each cell."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL)
    assert found, table_id
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(0), re.DOTALL):
        cells = [text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
        if cells and not row.lstrip().startswith('<th scope="col"'):
            rows[cells[0]] = cells[1:]
    return rows


def test_the_dashboard_sums_the_regions_settlements(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    stays: list[SettlementRecord],
    session: Session,
) -> None:
    centre = make_web_user("agency", "bj_dash")
    sign_in(centre.login)
    page = client.get("/agency/dashboard?year=2026")
    assert page.status_code == 200
    for chart in ("by-month", "by-setting", "by-status", "by-region"):
        assert f'<script type="application/json" id="{chart}-data">' in page.text

    sanya = [r for r in stays if r.treatment_region == "460200"]
    by_region = table_rows(page.text, "by-region-table")
    assert set(by_region) == {"三亚市", "保定市"}
    settlements, reversals, total, pool, *_rest, funds = by_region["三亚市"]
    assert (settlements, reversals) == ("2", "0")
    assert total == format_money(sum(r.total_fen for r in sanya))
    assert pool == format_money(sum(r.pool_fund_pay_fen for r in sanya))
    assert funds == format_money(sum(r.fund_pay_total_fen for r in sanya))

    by_month = table_rows(page.text, "by-month-table")
    assert by_month["2026-05"][0] == "3"
    assert by_month["2026-06"][0] == "0"
    data = json.loads(
        re.search(r'id="by-region-data">(.*?)</script>', page.text, re.DOTALL).group(1)  # type: ignore[union-attr]
    )
    assert data["categories"] == ["保定市", "三亚市"] or data["categories"] == ["三亚市", "保定市"]
    pools = dict(zip(data["categories"], data["series"][0]["values"], strict=True))
    assert Decimal(pools["三亚市"]) == from_fen(sum(r.pool_fund_pay_fen for r in sanya))

    # what Sanya advanced and no confirmed statement holds yet; no advance fund is invented
    advance = table_rows(page.text, "advance-table")
    due = sum(r.fund_pay_total_fen + r.account_pay_fen for r in sanya)
    assert advance["三亚市"][-1] == format_money(due)
    assert "预付金额度" in text_of(page.text)
    assert "70%" in text_of(page.text)


def test_another_region_sees_none_of_it(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    world: World,
    stays: list[SettlementRecord],
) -> None:
    baoding = make_web_user("agency", "bd_dash", agency_id=world.baoding_center.id)
    sign_in(baoding.login)
    page = client.get("/agency/dashboard?year=2026")
    assert page.status_code == 200
    assert "2026 年暂无结算" in text_of(page.text)
    assert 'id="advance-table"' not in page.text


def test_bad_year_and_other_roles(
    client: TestClient, sign_in: SignIn, insured: WebUser, make_web_user: MakeWebUser
) -> None:
    sign_in(insured.login)
    assert client.get("/agency/dashboard").status_code == 403
    client.cookies.clear()
    centre = make_web_user("agency", "bj_dash2")
    sign_in(centre.login)
    bad = client.get("/agency/dashboard?year=abc", headers={"Accept": "text/html"})
    assert bad.status_code == 400
    assert "<html" in bad.text and "year" in bad.text
    assert client.get("/agency/dashboard").status_code == 200


def test_the_settlement_page_shows_its_waterfall(
    client: TestClient,
    sign_in: SignIn,
    insured: WebUser,
    world: World,
    session: Session,
) -> None:
    load_rules(session, regions=("460200", "110000"))
    row = settle(session, world.retiree, world.hospital, "WF-1", at=MAY)
    session.commit()
    sign_in(insured.login)
    page = client.get(f"/me/settlements/{row.id}")
    assert page.status_code == 200
    assert "从医疗费用到现金支付" in page.text
    assert '<script type="application/json" id="waterfall-chart-data">' in page.text
    assert "/static/js/charts.js" in page.text
    data = json.loads(
        re.search(r'id="waterfall-chart-data">(.*?)</script>', page.text, re.DOTALL).group(1)  # type: ignore[union-attr]
    )
    stored = {s["key"]: s["amount"] for s in data["steps"] if s["key"] != "band"}
    for key, amount in stored.items():
        assert Decimal(amount) == from_fen(getattr(row, f"{key}_fen")), key
    words = text_of(page.text)
    assert "丙类及目录外全自费" in words and "起付线（个人支付）" in words
    assert format_money(row.cash_pay_fen) in words


def test_the_waterfall_steps_are_the_stored_figures_with_the_engines_reasons(
    session: Session, world: World
) -> None:
    load_rules(session, regions=("460200", "110000"))
    row = settle(session, world.retiree, world.hospital, "WF-2", at=MAY)
    steps = settlement_waterfall(row, lang="zh")
    keys = [s["key"] for s in steps]
    assert keys[:6] == [
        "total",
        "full_self_pay",
        "over_limit_self_pay",
        "pre_self_pay",
        "in_scope",
        "deductible",
    ]
    assert keys[-6:] == [
        "pool_fund_pay",
        "supplementary_pay",
        "assistance_pay",
        "personal_burden",
        "account_pay",
        "cash_pay",
    ]
    for step in steps:
        if step["key"] != "band":
            assert Decimal(step["amount"]) == from_fen(getattr(row, f"{step['key']}_fen"))
    bands = [s for s in steps if s["key"] == "band"]
    assert bands, "the engine's band parts"
    assert all(s["rate"].endswith("%") and s["reasons"][0].startswith("分段") for s in bands)
    deductible = steps[5]
    assert deductible["reasons"] and deductible["reasons"][0].startswith("起付线")
    assert session.scalar(select(func.count(SettlementRecord.id))) == 1


def test_given_the_steps_the_waterfall_shows_each_band_and_its_ratio(
    app: object, session: Session, world: World
) -> None:
    """The partial with ``waterfall`` (the service's steps, as the settlement page passes
    them once it does): each band with its ratio and the engine's own sentence."""
    load_rules(session, regions=("460200", "110000"))
    row = settle(session, world.retiree, world.hospital, "WF-3", at=MAY)
    steps = settlement_waterfall(row, lang="zh")
    band = next(s for s in steps if s["key"] == "band")
    renderer = app.state.pages  # type: ignore[attr-defined]
    html = renderer.render(
        "zh",
        "_waterfall.html",
        {"row": row, "s": {"amounts": {}}, "waterfall": steps, "csrf_token": ""},
    )
    words = text_of(html)
    assert f"分段 {band['start']}–{band['end']} 元，按 {band['rate']} 支付" in words
    assert band["reasons"][0] in words
    assert format_money(row.pool_fund_pay_fen) in words
    data = json.loads(
        re.search(r'id="waterfall-chart-data">(.*?)</script>', html, re.DOTALL).group(1)  # type: ignore[union-attr]
    )
    assert [s["amount"] for s in data["steps"]] == [s["amount"] for s in steps]


def test_echarts_is_the_vendored_copy_and_names_no_address_to_load(client: TestClient) -> None:
    """The npm package's file as it is (its digest in the vendor README), with its licence;
    the only addresses in it are XML namespaces (SVG output) and licence links, never a
    script or style loaded from elsewhere."""
    vendor = STATIC / "vendor"
    script = vendor / "echarts.min.js"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()
    assert digest in (vendor / "README.md").read_text(encoding="utf-8")
    assert "Apache License" in (vendor / "echarts.LICENSE").read_text(encoding="utf-8")
    addresses = set(re.findall(r"https?://[^\s\"')]*", script.read_text(encoding="utf-8")))
    assert addresses <= ECHARTS_ADDRESSES
    served = client.get("/static/vendor/echarts.min.js")
    assert served.status_code == 200 and served.content == script.read_bytes()
    charts = client.get("/static/js/charts.js")
    assert charts.status_code == 200 and not re.search(r"https?://", charts.text)
