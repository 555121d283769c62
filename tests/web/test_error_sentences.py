"""A service's refusal reads, on the page, as a sentence in the reader's language for the
person at the desk; the service's own message and its code stay as technical details
(yibao.web.error_messages)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World
from tests.integration.test_reimburse_kit import load_rules
from tests.web.conftest import MakeWebUser, SignIn, WebUser, post_form
from tests.web.test_claim_pages import claim_count, submit_claim
from tests.web.test_filing_pages import apply, filing_id_of, resettlement
from tests.web.test_pages import text_of
from yibao.auth.models import User
from yibao.web import error_messages

STAMPS_ZH = "医院尚未在备案表上盖章：请联系所选医院的医保办盖章后再提交。"
STAMPS_EN = (
    "The hospital has not yet stamped the form: ask the hospital's insurance office to "
    "stamp it, then submit."
)


def english(client: TestClient) -> None:
    client.cookies.set("yibao_lang", "en")


def test_a_filing_without_the_hospitals_stamp_is_refused_in_words(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, world: World
) -> None:
    retiree = make_web_user("insured", "wang")
    sign_in(retiree.login)
    saved = apply(
        client,
        "/me",
        resettlement(world, commitment="yes", signer=world.retiree.name),
        [("identity_copy", "id.pdf"), ("retirement_certificate", "retired.pdf")],
    )
    page = f"/me/filings/{filing_id_of(saved)}"
    refused = post_form(client, page, f"{page}/submit")
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert STAMPS_ZH in words and "技术详情" in words
    # the service's own message and the code stay, folded away, for support staff
    assert "<details" in refused.text and "filing.hospital_stamps_missing" in refused.text
    assert "the form is not yet stamped by" in refused.text and "无法办理" not in words

    english(client)
    again = post_form(client, page, f"{page}/submit")
    assert again.status_code == 422
    assert STAMPS_EN in again.text and "Technical details" in again.text
    assert "filing.hospital_stamps_missing" in again.text and STAMPS_ZH not in again.text


def test_a_login_name_already_taken_is_refused_in_words_and_nothing_is_written(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser, session: Session
) -> None:
    admin = make_web_user("admin", "root")
    sign_in(admin.login)
    form = {"name": "管理员二", "role": "admin", "login": admin.login}
    before = session.scalar(select(func.count()).select_from(User))
    taken = post_form(client, "/admin/users", "/admin/users", form)
    assert taken.status_code == 422
    assert "该登录名已被占用，请另选一个登录名。" in text_of(taken.text)
    assert "user.login_taken" in taken.text and "is taken" in taken.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == before

    english(client)
    again = post_form(client, "/admin/users", "/admin/users", form)
    assert again.status_code == 422
    assert "This login name is already taken: choose another one." in again.text


def test_a_claim_without_the_account_number_is_refused_in_words(
    client: TestClient,
    session: Session,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    world: World,
) -> None:
    load_rules(session)
    session.commit()
    person = make_web_user("insured", "wang")
    sign_in(person.login)
    refused = submit_claim(client, world, account_number="")
    assert refused.status_code == 422
    words = text_of(refused.text)
    assert "请填写收款账号（银行账号或社保卡号）。" in words
    assert "reimbursement.payout" in refused.text and "needs its number" in refused.text
    assert claim_count(session) == 0

    english(client)
    again = submit_claim(client, world, account_number="")
    assert again.status_code == 422
    assert "The payout needs the account number" in again.text and "请填写" not in again.text


def test_an_error_page_says_the_refusal_in_words(
    client: TestClient, sign_in: SignIn, insured: WebUser
) -> None:
    sign_in(insured.login)
    refused = client.get("/agency/filings")
    assert refused.status_code == 403
    words = text_of(refused.text)
    assert "本页面仅供医保经办机构使用，请使用经办机构账号登录。" in words
    assert "技术详情" in words and "web.agency_only" in refused.text

    english(client)
    again = client.get("/agency/filings")
    assert "These pages are for medical insurance agencies" in again.text


def test_a_code_without_a_sentence_shows_the_services_message(
    client: TestClient,
    sign_in: SignIn,
    make_web_user: MakeWebUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sentences = dict(error_messages.SENTENCES)
    del sentences["user.login_taken"]
    monkeypatch.setattr(error_messages, "SENTENCES", sentences)
    admin = make_web_user("admin", "root")
    sign_in(admin.login)
    form = {"name": "管理员二", "role": "admin", "login": admin.login}
    taken = post_form(client, "/admin/users", "/admin/users", form)
    assert taken.status_code == 422
    words = text_of(taken.text)
    assert "无法办理。" in words and "详情：" in words and "技术详情" not in words
    assert "is taken" in words and "user.login_taken" in taken.text


def test_the_categories_that_do_not_fit_say_why_in_words(
    client: TestClient, sign_in: SignIn, make_web_user: MakeWebUser
) -> None:
    retiree = make_web_user("insured", "wang")  # 王退休: Beijing, employee scheme, retired
    sign_in(retiree.login)
    page = client.get("/me/filings/new", params={"destination": "460200"})
    assert page.status_code == 200
    words = text_of(page.text)
    assert "不符合条件的备案类别" in words
    assert "仅限以下类别人员：在职；该人员为：退休。" in words  # posted_worker
    assert "仅限由参保单位派出的人员，该人员没有参保单位。" in words  # posted_worker
    assert "仅限 17 周岁及以下人员" in words  # minor_with_parents
    assert "仅限参加城乡居民医保的人员，该人员参加的是职工医保。" in words  # postnatal mothers
    assert "仅限女性。" in words  # postnatal mothers, and 王退休 is a man
    assert "is for" not in words and "in_service" not in words  # no raw English nor codes

    english(client)
    again = text_of(client.get("/me/filings/new", params={"destination": "460200"}).text)
    assert "Only for persons who are: In service; this person is: Retired." in again
    assert "Only for persons insured in the Resident scheme" in again
