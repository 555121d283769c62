"""Manual reimbursement (零星报销) in a real browser, the seed journey: 陈静 (``insured_chen``)
claims back a stay at the Sanya hospital, typing one fee line and uploading the others as
a CSV file, and uploads every document but the diagnosis certificate; the Beijing centre's
reviewer (``agency``) returns the claim for it; she uploads it and resubmits; the reviewer
starts the review, approves (the engine settles it) and records the payout: paid. A
screenshot of every page, axe-core on every page, and her claim read once in English."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page

from tests.browser.conftest import PDF, Watched, png
from tests.browser.test_insured_pages import sign_in

CSV = "code,quantity,unit_price,service_date\nD0009,40,65.10,\n"
EVERY_DOCUMENT_BUT_DIAGNOSIS = (
    "收据、发票",
    "费用清单",
    "处方",
    "费用明细清单",
    "医院等级证明",
    "住院病历",
    "身份证复印件",
)


def settle(watched: Watched, label: str) -> Page:
    page = watched.page
    page.wait_for_load_state("networkidle")
    watched.shot(label)
    assert watched.accessibility_problems() == []
    return page


def upload(watched: Watched, kind: str, name: str, data: bytes, mime: str) -> None:
    page = watched.page
    page.get_by_label("材料类型").select_option(label=kind)
    page.get_by_label("文件（PDF、JPEG 或 PNG）").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.get_by_role("button", name="上传", exact=True).click()
    page.wait_for_load_state("networkidle")


def switch_user(watched: Watched, login: str) -> None:
    watched.page.context.clear_cookies()
    sign_in(watched, login)


def test_a_claim_returned_for_the_diagnosis_certificate_is_completed_and_paid(
    watched: Watched,
) -> None:
    today = watched.site.demo.today
    admitted, discharged = today - timedelta(days=12), today - timedelta(days=5)

    # --- 陈静 claims ------------------------------------------------------------------
    sign_in(watched, "insured_chen")
    page = watched.visit("/me/claims", label="my-claims")
    assert watched.accessibility_problems() == []
    page.get_by_role("link", name="新建报销申请").click()
    page = settle(watched, "new-claim")
    assert "service_date" in page.inner_text("body")  # the CSV columns are documented

    page.get_by_label("报销情形").select_option(value="offsite_no_direct")
    page.get_by_label("就诊医院").select_option(label="三亚示范中心医院")
    page.get_by_label("入院日期（住院）").fill(admitted.isoformat())
    page.get_by_label("就诊日期（住院为出院日期）").fill(discharged.isoformat())
    page.get_by_label("诊断（ICD-10 编码，多个用逗号分隔）").fill("J18.9")
    page.get_by_label("第 1 张票据 · 发票号").fill("46020026110001")
    page.get_by_label("第 1 张票据 · 金额（元）").fill("2754.00")
    page.get_by_label("个人已付费用总额（元）").fill("2754.00")
    page.get_by_label("第 1 条费用明细 · 目录编码").fill("S0005")
    page.get_by_label("第 1 条费用明细 · 数量").fill("5")
    page.get_by_label("第 1 条费用明细 · 单价（元）").fill("30")
    page.get_by_label("费用明细文件（CSV）").set_input_files(
        files=[{"name": "lines.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_label("银行账户", exact=True).check()
    page.get_by_label("银行账号或存折号").fill("6222020200112233445")
    watched.shot("new-claim-filled")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/me/claims/*")
    page = settle(watched, "claim-submitted")
    claim_path = page.url.split("?", 1)[0].removeprefix(watched.site.base)
    claim_id = claim_path.rsplit("/", 1)[1]
    text = page.inner_text("body")
    assert "已提交" in text and "S0005" in text and "D0009" in text and "2,754.00 元" in text

    upload(watched, "收据、发票", "receipt.png", png(), "image/png")
    for kind in EVERY_DOCUMENT_BUT_DIAGNOSIS[1:]:
        upload(watched, kind, "scan.pdf", PDF, "application/pdf")
    page = settle(watched, "documents-but-diagnosis")
    checklist = page.locator("table.checklist").inner_text()
    assert "疾病诊断证明\t缺少" in checklist
    assert checklist.count("已上传") == len(EVERY_DOCUMENT_BUT_DIAGNOSIS)

    # --- the centre returns it ----------------------------------------------------------
    switch_user(watched, "agency")
    page = watched.visit("/agency/claims", label="queue")
    assert watched.accessibility_problems() == []
    page.get_by_label("报销情形").select_option(value="offsite_no_direct")  # htmx swaps the table
    page.wait_for_load_state("networkidle")
    page.wait_for_url("**case=offsite_no_direct**")
    watched.shot("queue-filtered")
    page.get_by_role("link", name=f"报销申请 {claim_id}", exact=True).click()
    page = settle(watched, "review-submitted")
    assert page.locator("img[src*='/documents/']").count() == 1  # the receipt, inline
    assert page.get_by_label("疾病诊断证明", exact=True).is_checked()  # what is missing, ticked
    page.get_by_label("给申请人的说明（选填）").fill("请补交医院出具的疾病诊断证明。")
    page.get_by_role("button", name="退回补正", exact=True).click()
    page = settle(watched, "review-returned")
    assert "已退回申请人" in page.inner_text("body")

    # --- 陈静 completes and resubmits ----------------------------------------------------
    switch_user(watched, "insured_chen")
    page = watched.visit(claim_path, label="claim-returned")
    assert watched.accessibility_problems() == []
    returned = page.locator("section.returned").inner_text()
    assert "疾病诊断证明" in returned and "请补交医院出具的疾病诊断证明。" in returned
    upload(watched, "疾病诊断证明", "diagnosis.pdf", PDF, "application/pdf")
    page = settle(watched, "diagnosis-uploaded")
    page.get_by_role("button", name="重新提交申请").click()
    page = settle(watched, "claim-resubmitted")
    assert "已重新提交" in page.inner_text("body")

    # --- the centre reviews, approves and pays -------------------------------------------
    switch_user(watched, "agency")
    page = watched.visit(f"/agency/claims/{claim_id}", label="review-resubmitted")
    assert watched.accessibility_problems() == []
    page.get_by_role("button", name="开始审核").click()
    page = settle(watched, "review-under-review")
    assert "审核中" in page.inner_text("body")
    assert "尚未保存" in page.inner_text("body")  # what approving it would pay, explained
    page.get_by_role("button", name="审核通过", exact=True).click()
    page = settle(watched, "review-approved")
    assert "审核通过" in page.locator("section[aria-labelledby='facts-title']").inner_text()
    page.get_by_role("button", name="登记支付").click()
    page = settle(watched, "review-paid")
    assert "已支付" in page.locator("section[aria-labelledby='facts-title']").inner_text()

    # --- 陈静 sees it paid, in Chinese and in English ----------------------------------------
    switch_user(watched, "insured_chen")
    page = watched.visit(claim_path, label="claim-paid")
    assert watched.accessibility_problems() == []
    assert "已支付" in page.inner_text("body")
    assert page.get_by_role("link", name="审核决定书", exact=True).get_attribute("href") == (
        f"/print/claims/{claim_id}/decision"
    )
    page = watched.visit(f"{claim_path}?lang=en", label="claim-paid-en")
    assert page.locator("html").get_attribute("lang") == "en"
    body = page.inner_text("body")
    assert "Paid" in body and "The decision letter" in body
    assert watched.accessibility_problems() == []
