"""Filing applications in a real browser (seed 000 and the national mini program's steps):

1. the street office files a resettlement (异地安置) for a retiree of its district with three
   hospitals; once the three hospitals have stamped the form it submits it, and after the
   Beijing centre's approval (through the API: the review page is another area's) it sees
   the filing approved with its certificate;
2. a person applies online for a long-term filing with a signed personal commitment
   (个人承诺书), submits, and after the approval finds the certificate's links — once in
   English too.

Each test makes its own person (and the third hospital's user), so no other test's data is
touched; a screenshot of every page, and axe-core finding nothing serious on any."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.browser.conftest import Site, Watched
from tests.browser.test_insured_pages import sign_in
from yibao.db import make_engine, session_scope
from yibao.demo.loader import MINIMAL_PDF, demo_password
from yibao.identity import make_identity_number
from yibao.registry import service as registry
from yibao.registry.models import Institution
from yibao.users.service import create_user, set_password


def _api(site: Site, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{site.base}/api/v1",
        headers={"Authorization": f"Bearer {site.demo.tokens[key]}"},
    )


def _make_person(site: Site, *, name: str, born: date, sequence: int, person_type: str) -> str:
    """A Beijing person of the Chaoyang street office's district; their identity number."""
    number = make_identity_number("110105", born, sequence)
    engine = make_engine(site.app.state.settings.database_url)
    try:
        with session_scope(engine) as session:
            registry.register_person(
                session,
                identity_number=number,
                name=name,
                scheme="employee",
                person_type=person_type,
                insured_region="110000",
                actor="test",
            )
    finally:
        engine.dispose()
    return number


def _hospital_token(site: Site, code: str) -> str:
    """A user of the hospital ``code`` (the demo has none for every hospital)."""
    engine = make_engine(site.app.state.settings.database_url)
    try:
        with session_scope(engine) as session:
            institution = session.scalars(select(Institution).where(Institution.code == code)).one()
            issued = create_user(
                session,
                name=f"{institution.name}医保办",
                role="hospital",
                institution_id=institution.id,
                actor="test",
            )
            return issued.token
    finally:
        engine.dispose()


def _insured_login(site: Site, *, identity_number: str, login: str) -> None:
    engine = make_engine(site.app.state.settings.database_url)
    try:
        with session_scope(engine) as session:
            person = registry.find_person_by_identity(session, identity_number=identity_number)
            assert person is not None
            issued = create_user(
                session, name=person.name, role="insured", person_id=person.id, actor="test"
            )
            set_password(
                session,
                user_id=issued.user.id,
                password=demo_password(login),
                login=login,
                actor="test",
            )
    finally:
        engine.dispose()


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "document.pdf"
    path.write_bytes(MINIMAL_PDF)
    return path


def test_the_street_office_files_a_resettlement_with_three_hospitals(
    watched: Watched, pdf: Path
) -> None:
    site = watched.site
    number = _make_person(
        site, name="周安置", born=date(1957, 2, 14), sequence=713, person_type="retired"
    )
    sign_in(watched, "street_office")
    page = watched.visit("/office/filings", label="office-filings")
    assert watched.accessibility_problems() == []
    page.get_by_role("link", name="代为办理备案").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("身份证号").fill(number)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/office/filings/new?person_id=*")
    page.wait_for_load_state("networkidle")
    watched.shot("person-found")
    assert "周安置" in page.inner_text("body") and number not in page.content()
    assert watched.accessibility_problems() == []

    page.get_by_label("就医地（省或市）").select_option("460200")
    page.wait_for_load_state("networkidle")
    page.get_by_role("radio", name="异地安置退休人员").check()
    page.wait_for_load_state("networkidle")
    page.get_by_text("三亚示范中心医院").wait_for()
    watched.shot("category-chosen")
    assert watched.accessibility_problems() == []

    # a specialised hospital alone is refused as it is picked
    page.get_by_role("checkbox", name="三亚示范中医院").check()
    page.get_by_text("所选定点医院不符合规定").wait_for()
    watched.shot("hospital-refused")
    for name in ("三亚示范中心医院", "三亚示范第二人民医院"):
        page.get_by_role("checkbox", name=name).check()
    page.get_by_text("所选定点医院符合规定").wait_for()
    watched.shot("three-hospitals")
    assert watched.accessibility_problems() == []

    for label in ("身份证复印件", "居住证明（居住证、户口簿）", "退休证"):
        page.get_by_label(label, exact=False).first.set_input_files(str(pdf))
    page.get_by_label("联系电话").fill("13700137000")
    page.get_by_label("就医地居住地址").fill("三亚市吉阳区示范安置小区 3 栋")
    page.get_by_role("button", name="保存并提交").click()
    page.wait_for_url("**/office/filings/*?not_submitted=*")
    page.wait_for_load_state("networkidle")
    watched.shot("draft-awaiting-stamps")
    text = page.inner_text("body")
    assert "申请已保存为草稿" in text and text.count("尚未盖章") == 3
    assert watched.accessibility_problems() == []
    filing_id = int(page.url.split("/office/filings/")[1].split("?")[0])

    # each chosen hospital's medical insurance office stamps the form (seed 000)
    third = _hospital_token(site, "H460200002")
    for token in (site.demo.tokens["hospital"], site.demo.tokens["hospital_sy2"], third):
        stamped = httpx.post(
            f"{site.base}/api/v1/filings/{filing_id}/hospital-stamp",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert stamped.status_code == 200, stamped.text
    page = watched.visit(f"/office/filings/{filing_id}", label="stamped")
    assert "尚未盖章" not in page.inner_text("body")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state("networkidle")
    watched.shot("submitted")
    assert "已提交" in page.inner_text("body")
    assert watched.accessibility_problems() == []

    with _api(site, "agency") as api:
        approved = api.post(f"/filings/{filing_id}/approve")
        assert approved.status_code == 200, approved.text
    page = watched.visit(f"/office/filings/{filing_id}", label="approved")
    text = page.inner_text("body")
    assert "已备案" in text and "BA110000-" in text
    assert page.get_by_role("link", name="查看备案凭证").get_attribute("href") == (
        f"/print/filings/{filing_id}/certificate"
    )
    assert watched.accessibility_problems() == []
    page = watched.visit("/office/filings", label="office-list")
    assert "周安置" in page.inner_text("body")


def test_a_person_applies_online_with_a_personal_commitment(watched: Watched, pdf: Path) -> None:
    site = watched.site
    number = _make_person(
        site, name="吴长住", born=date(1972, 10, 3), sequence=425, person_type="in_service"
    )
    _insured_login(site, identity_number=number, login="insured_wu")
    sign_in(watched, "insured_wu")
    page = watched.visit("/me/filings", label="my-filings")
    assert watched.accessibility_problems() == []
    page.get_by_role("link", name="申请异地就医备案").first.click()
    page.wait_for_url("**/me/filings/new")
    page.wait_for_load_state("networkidle")
    watched.shot("form")
    assert watched.accessibility_problems() == []

    page.get_by_label("就医地（省或市）").select_option("460200")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("radio", name="异地安置退休人员").count() == 0  # not retired
    page.get_by_role("radio", name="异地长期居住人员").check()
    page.get_by_text("三亚示范中心医院").wait_for()
    page.get_by_role("checkbox", name="三亚示范中心医院").check()
    page.get_by_text("所选定点医院符合规定").wait_for()
    page.get_by_label("身份证复印件").set_input_files(str(pdf))
    page.get_by_role("checkbox", name="本人签署个人承诺书").check()
    page.get_by_label("签名：参保人姓名").fill("吴长住")
    page.get_by_label("联系电话").fill("13600136000")
    page.get_by_label("就医地居住地址").fill("三亚市天涯区示范路 18 号")
    watched.shot("form-filled")
    assert watched.accessibility_problems() == []
    page.get_by_role("button", name="保存并提交").click()
    page.wait_for_url("**/me/filings/*")
    page.wait_for_load_state("networkidle")
    watched.shot("submitted")
    text = page.inner_text("body")
    assert "已提交" in text and "个人承诺书" in text and "申请已保存为草稿" not in text
    assert watched.accessibility_problems() == []
    filing_id = int(page.url.rsplit("/", 1)[1])

    with _api(site, "agency") as api:
        approved = api.post(f"/filings/{filing_id}/approve")
        assert approved.status_code == 200, approved.text
    page = watched.visit(f"/me/filings/{filing_id}", label="approved")
    assert "已备案" in page.inner_text("body")
    assert page.get_by_role("link", name="下载备案凭证（PDF）").get_attribute("href") == (
        f"/print/filings/{filing_id}/certificate.pdf"
    )
    assert "起恢复在参保地就医" in page.inner_text("body")  # the cancel form says when
    assert watched.accessibility_problems() == []

    page = watched.visit(f"/me/filings/{filing_id}?lang=en", label="approved-en")
    assert "Show the filing certificate" in page.inner_text("body")
    assert watched.accessibility_problems() == []
    page = watched.visit("/institutions?region=460200&kind=hospital", label="institutions-en")
    assert "三亚示范私立医院" in page.inner_text("body")
    page.get_by_label("Level").select_option("3")
    page.wait_for_load_state("networkidle")
    watched.shot("institutions-level-3")
    assert "三亚示范私立医院" not in page.inner_text("body")  # a level-2 hospital
    assert watched.accessibility_problems() == []
    watched.visit("/institutions?lang=zh", label="institutions")
    assert watched.accessibility_problems() == []
