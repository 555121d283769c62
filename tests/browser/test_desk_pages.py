"""The hospital window's other pages in a real browser: the Sanya second hospital's clerk
admits 周海, bills, pre-settles, settles, opens the slip, finds the settlement among today's
and reverses it with a reason; then reconciles the day and looks for referrals to stamp — a
screenshot of every page, axe-core finding no serious or critical problem, one visit in
English."""

from __future__ import annotations

from tests.browser.conftest import Watched
from tests.browser.test_insured_pages import sign_in


def test_the_window_settles_then_reverses_and_reconciles(watched: Watched) -> None:
    sign_in(watched, "hospital_sy2")
    page = watched.visit("/window", label="window")
    page.get_by_label("社保卡号").fill(watched.site.demo.persons["zhou"].card_number or "")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "周海" in page.inner_text("body")
    page.get_by_label("押金（元，住院）").fill("2000")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/window/encounters/*")
    for code, quantity, price in (("S0005", "5", "30"), ("D0009", "10", "65.10")):
        page.get_by_label("目录编码").fill(code)
        page.get_by_label("数量").fill(quantity)
        page.get_by_label("单价（元）").fill(price)
        page.get_by_role("button", name="添加", exact=True).click()
        page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="预结算").click()
    page.wait_for_load_state("networkidle")
    watched.shot("pre-settled")
    page.get_by_role("button", name="结算", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "已结算" in page.inner_text("body")
    page.get_by_role("link", name="结算单", exact=True).click()
    page.wait_for_url("**/slip")
    page.wait_for_load_state("networkidle")
    watched.shot("slip")
    slip_url = page.url
    settlement_id = slip_url.rstrip("/").split("/")[-2]

    page = watched.visit("/window/settlements", label="settlements-today")
    assert watched.accessibility_problems() == []
    assert "周海" in page.inner_text("body")
    page.get_by_label("类型").select_option("outpatient")  # htmx filter: not an outpatient
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state("networkidle")
    watched.shot("settlements-outpatient")
    assert f"/window/settlements/{settlement_id}" not in page.content()
    page.get_by_label("类型").select_option("inpatient")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name=f"结算记录 {settlement_id}", exact=True).click()
    page.wait_for_url(f"**/window/settlements/{settlement_id}")
    page.wait_for_load_state("networkidle")
    watched.shot("settlement")
    assert watched.accessibility_problems() == []

    page.get_by_label("冲正原因").fill("录入的药品数量有误，冲正后重新结算")
    page.get_by_role("button", name="确认冲正").click()
    page.wait_for_load_state("networkidle")
    watched.shot("reversed")
    text = page.inner_text("body")
    assert "已冲正" in text and "冲正本笔结算" not in text
    assert watched.accessibility_problems() == []

    page = watched.visit("/window/reconciliation", label="reconciliation")
    assert watched.accessibility_problems() == []
    page.get_by_label("结算及冲正笔数").fill("1")
    page.get_by_label("医疗费总额（元）").fill("800.00")
    page.get_by_label("基金支付金额（元）").fill("500.00")
    page.set_input_files(
        "#details",
        files=[
            {
                "name": "details.csv",
                "mimeType": "text/csv",
                "buffer": b"ref,total,fund_pay\nHIS-NOT-IN-YIBAO,800.00,500.00\n",
            }
        ],
    )
    page.get_by_role("button", name="开始对账").click()
    page.wait_for_url("**/window/reconciliation/*")
    page.wait_for_load_state("networkidle")
    watched.shot("reconciliation-result")
    text = page.inner_text("body")
    assert "差异明细" in text and "HIS-NOT-IN-YIBAO" in text and "本院明细有，平台无记录" in text
    assert watched.accessibility_problems() == []

    page = watched.visit("/window/referrals", label="referrals")
    assert "待本院办理" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/window/settlements/{settlement_id}?lang=en", label="settlement-en")
    assert "Reversed" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    watched.visit("/window/settlements?lang=zh", label="back-to-chinese")
