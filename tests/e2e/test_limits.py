"""Limits over HTTP: a body too large is refused before it is read (declared or chunked);
invoices, fee lines and documents past their limits are refused with 422 naming the limit and
its value; each limit is configurable (``YIBAO_LIMIT_...``) and said as a sentence on the pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from tests.conftest import AuthUser, MakeUser, World, add_person
from tests.integration import test_reimburse_kit, test_settle_kit
from tests.integration.test_settle_window import admit
from yibao.api.app import create_app
from yibao.auth.deps import get_session
from yibao.config import Settings
from yibao.documents.models import Document
from yibao.encounters.models import FeeLine
from yibao.limits import MIB, PROBLEM, Limits, use_limits
from yibao.registry.models import Person
from yibao.reimbursements.models import ReimbursementClaim
from yibao.web.error_messages import SENTENCES
from yibao.web.i18n import load_translations

API = "/api/v1"
PDF = b"%PDF-1.4\n% a scanned document\n" + b"0" * 40
LIMIT_CODES = (
    "limit.body_bytes",
    "limit.documents_per_owner",
    "limit.document_bytes_per_owner",
    "limit.invoices_per_claim",
    "limit.lines_per_claim",
    "limit.fee_lines_per_encounter",
)

ClientWith = Callable[..., TestClient]


@pytest.fixture
def client_with(
    settings: Settings, engine: Engine, session: Session
) -> Iterator[Callable[..., TestClient]]:
    """``client_with(invoices_per_claim=3)``: a client of an app started with those limits
    (the others at their defaults), sharing the test's transaction as ``client`` does."""
    opened: list[TestClient] = []

    def _make(**limits: Any) -> TestClient:
        application = create_app(
            settings.model_copy(update={"limits": Limits(**limits)}), engine=engine
        )

        def _test_session() -> Iterator[Session]:
            session.commit()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

        application.dependency_overrides[get_session] = _test_session
        test_client = TestClient(application, raise_server_exceptions=True)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield _make
    for test_client in opened:
        test_client.__exit__(None, None, None)
    use_limits(Limits())  # the next tests see the defaults


@pytest.fixture
def claimant(session: Session, world: World) -> Person:
    test_reimburse_kit.load_rules(session)
    person = add_person(
        session,
        name="孙退休",
        region="110000",
        born=date(1957, 8, 8),
        sequence=61,
        person_type="retired",
        balance_fen=0,
    )
    session.commit()
    return person


@pytest.fixture
def office(make_user: MakeUser, world: World) -> AuthUser:
    """The street office that hands claims in for people of its region."""
    return make_user("street_office", agency_id=world.street_office.id, region_code="110000")


def claim_body(person: Person, world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": person.id,
        "case_type": "offsite_no_direct",
        "setting": "inpatient",
        "institution_id": world.hospital.id,
        "admitted_on": "2026-05-01",
        "treatment_date": "2026-05-10",
        "total": "2360.00",
        "diagnoses": ["I21.0"],
        "invoices": [{"number": "4602-0000-1111", "amount": "2360.00"}],
        "lines": [{"code": "X001", "quantity": "10", "unit_price": "100.00"}],
        "payout": {"method": "passbook", "account_number": "6217000011112222"},
    }
    body.update(overrides)
    return body


def invoices(count: int) -> list[dict[str, str]]:
    return [{"number": f"4602-{n:08d}", "amount": "1.00"} for n in range(count)]


def assert_limit_problem(response: Any, *, status: int, code: str, limit: str, value: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["limit"] == limit and problem["limit_value"] == value
    assert str(value) in problem["detail"] and Limits.variable(limit) in problem["detail"]


def claims(session: Session) -> int:
    return int(session.scalar(select(func.count(ReimbursementClaim.id))) or 0)


# --- the body ----------------------------------------------------------------------------


def test_a_50_mib_json_body_is_refused_before_it_is_read(
    client: TestClient,
    users: dict[str, AuthUser],
    monkeypatch: pytest.MonkeyPatch,
    session: Session,
) -> None:
    reads: list[str] = []
    original = Request.body

    async def counted(self: Request) -> bytes:
        reads.append(self.url.path)
        return await original(self)

    monkeypatch.setattr(Request, "body", counted)
    item = b'{"number": "1", "amount": "1"},'
    body = b'{"invoices": [' + item * (50 * MIB // len(item) + 1) + b"{}]}"
    assert len(body) > 50 * MIB
    response = client.post(
        f"{API}/reimbursements",
        content=body,
        headers={**users["unit"].headers, "Content-Type": "application/json"},
    )
    assert_limit_problem(
        response, status=413, code="limit.body_bytes", limit="body_bytes", value=16 * MIB
    )
    assert reads == []  # never read, let alone parsed
    assert claims(session) == 0


def test_a_chunked_body_is_counted_as_it_streams(
    client_with: ClientWith,
    office: AuthUser,
    claimant: Person,
    world: World,
    session: Session,
) -> None:
    client = client_with(body_bytes=64 * 1024)
    sent: list[int] = []

    def chunks(data: bytes, size: int) -> Iterator[bytes]:
        for start in range(0, len(data), size):
            sent.append(start)
            yield data[start : start + size]

    headers = {**office.headers, "Content-Type": "application/json"}
    big = json.dumps(claim_body(claimant, world, invoices=invoices(3000))).encode()
    assert len(big) > 64 * 1024
    response = client.post(f"{API}/reimbursements", content=chunks(big, 4096), headers=headers)
    assert_limit_problem(
        response, status=413, code="limit.body_bytes", limit="body_bytes", value=64 * 1024
    )
    assert "content-length" not in response.request.headers  # it was sent chunked
    assert claims(session) == 0
    # a chunked body within the limit goes through
    small = json.dumps(claim_body(claimant, world)).encode()
    response = client.post(f"{API}/reimbursements", content=chunks(small, 100), headers=headers)
    assert response.status_code == 201, response.text
    assert claims(session) == 1


def test_the_body_limit_is_configurable_and_a_body_within_it_is_accepted(
    client_with: ClientWith, office: AuthUser, claimant: Person, world: World
) -> None:
    client = client_with(body_bytes=2048)
    body = claim_body(claimant, world)
    assert (
        client.post(f"{API}/reimbursements", json=body, headers=office.headers).status_code == 201
    )
    body = claim_body(claimant, world, invoices=invoices(60))
    response = client.post(f"{API}/reimbursements", json=body, headers=office.headers)
    assert_limit_problem(
        response, status=413, code="limit.body_bytes", limit="body_bytes", value=2048
    )


# --- a claim's invoices and lines --------------------------------------------------------


def test_a_claim_with_20000_invoices_is_refused_naming_the_limit(
    client: TestClient,
    office: AuthUser,
    claimant: Person,
    world: World,
    session: Session,
) -> None:
    body = claim_body(claimant, world, invoices=invoices(20_000))
    response = client.post(f"{API}/reimbursements", json=body, headers=office.headers)
    assert_limit_problem(
        response, status=422, code="limit.invoices_per_claim", limit="invoices_per_claim", value=300
    )
    assert "invoices of this claim: 20000, more than 300 allowed" in response.json()["detail"]
    assert claims(session) == 0


def test_invoices_and_lines_per_claim_are_configurable(
    client_with: ClientWith,
    office: AuthUser,
    claimant: Person,
    world: World,
    session: Session,
) -> None:
    client = client_with(invoices_per_claim=3, lines_per_claim=2)
    unit = office.headers
    at_limit = claim_body(
        claimant,
        world,
        invoices=invoices(3),
        lines=[{"code": "X001", "quantity": "1", "unit_price": "1.00"}] * 2,
    )
    assert client.post(f"{API}/reimbursements", json=at_limit, headers=unit).status_code == 201
    response = client.post(
        f"{API}/reimbursements",
        json=claim_body(claimant, world, invoices=invoices(4)),
        headers=unit,
    )
    assert_limit_problem(
        response, status=422, code="limit.invoices_per_claim", limit="invoices_per_claim", value=3
    )
    lines = [{"code": "X001", "quantity": "1", "unit_price": "1.00"}] * 3
    response = client.post(
        f"{API}/reimbursements", json=claim_body(claimant, world, lines=lines), headers=unit
    )
    assert_limit_problem(
        response, status=422, code="limit.lines_per_claim", limit="lines_per_claim", value=2
    )
    assert claims(session) == 1  # nothing half-written by the refusals


# --- documents of a claim ----------------------------------------------------------------


def upload(client: TestClient, who: AuthUser, claim_id: int, name: str) -> Any:
    return client.post(
        f"{API}/reimbursements/{claim_id}/documents",
        data={"doc_type": "receipt"},
        files={"file": (name, PDF, "application/pdf")},
        headers=who.headers,
    )


def documents(session: Session) -> int:
    return int(session.scalar(select(func.count(Document.id))) or 0)


def test_documents_per_claim_are_limited_in_count(
    client_with: ClientWith,
    office: AuthUser,
    claimant: Person,
    world: World,
    session: Session,
) -> None:
    client = client_with(documents_per_owner=2)
    unit = office
    claim = client.post(
        f"{API}/reimbursements", json=claim_body(claimant, world), headers=unit.headers
    )
    claim_id = claim.json()["id"]
    assert upload(client, unit, claim_id, "a.pdf").status_code == 201
    assert upload(client, unit, claim_id, "b.pdf").status_code == 201
    response = upload(client, unit, claim_id, "c.pdf")
    assert_limit_problem(
        response, status=422, code="limit.documents_per_owner", limit="documents_per_owner", value=2
    )
    assert "documents of this claim: 3, more than 2 allowed" in response.json()["detail"]
    assert documents(session) == 2


def test_documents_per_claim_are_limited_in_bytes(
    client_with: ClientWith,
    office: AuthUser,
    claimant: Person,
    world: World,
    session: Session,
) -> None:
    client = client_with(document_bytes_per_owner=2 * len(PDF) + 10)
    unit = office
    claim = client.post(
        f"{API}/reimbursements", json=claim_body(claimant, world), headers=unit.headers
    )
    claim_id = claim.json()["id"]
    assert upload(client, unit, claim_id, "a.pdf").status_code == 201
    assert upload(client, unit, claim_id, "b.pdf").status_code == 201
    response = upload(client, unit, claim_id, "c.pdf")
    assert_limit_problem(
        response,
        status=422,
        code="limit.document_bytes_per_owner",
        limit="document_bytes_per_owner",
        value=2 * len(PDF) + 10,
    )
    assert documents(session) == 2


# --- fee lines of an encounter -----------------------------------------------------------


@pytest.fixture
def inpatient(session: Session, world: World) -> Person:
    test_settle_kit.load_rules(session)
    person = add_person(
        session,
        name="钱住院",
        region="110000",
        born=date(1956, 4, 2),
        sequence=62,
        person_type="retired",
        balance_fen=0,
    )
    session.commit()
    return person


def test_fee_lines_per_encounter_count_the_active_lines(
    client_with: ClientWith,
    make_user: MakeUser,
    inpatient: Person,
    session: Session,
) -> None:
    limit = len(test_settle_kit.STAY) + 1
    client = client_with(fee_lines_per_encounter=limit)
    hospital = make_user("hospital")
    encounter_id = admit(client, hospital, inpatient)  # STAY: one place left
    url = f"{API}/encounters/{encounter_id}/fees"
    two = [
        {"line_id": f"N{n}", "code": "X001", "quantity": "1", "unit_price": "1.00"} for n in (1, 2)
    ]
    response = client.post(url, json={"lines": two}, headers=hospital.headers)
    assert_limit_problem(
        response,
        status=422,
        code="limit.fee_lines_per_encounter",
        limit="fee_lines_per_encounter",
        value=limit,
    )
    count = select(func.count(FeeLine.id)).where(FeeLine.encounter_id == encounter_id)
    assert session.scalar(count) == len(test_settle_kit.STAY)
    # a withdrawn line no longer counts
    withdrawn = client.delete(f"{url}/L1", headers=hospital.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    response = client.post(url, json={"lines": two}, headers=hospital.headers)
    assert response.status_code == 201, response.text


# --- said on the pages -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_limit_has_its_sentence_in_both_languages(lang: str) -> None:
    said = load_translations("zh" if lang == "zh" else "en")
    for code in LIMIT_CODES:
        sentence = said.gettext(SENTENCES[code])
        assert sentence and (sentence != SENTENCES[code]) == (lang == "zh"), code


def test_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_LIMIT_INVOICES_PER_CLAIM", "7")
    monkeypatch.setenv("YIBAO_LIMIT_BODY_BYTES", "4096")
    limits = Settings().limits
    assert limits.invoices_per_claim == 7 and limits.body_bytes == 4096
    assert limits.fee_lines_per_encounter == Limits().fee_lines_per_encounter == 10_000
    monkeypatch.setenv("YIBAO_LIMIT_BODY_BYTES", "0")
    with pytest.raises(ValueError, match="body_bytes"):
        Settings()
