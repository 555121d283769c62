"""The national interface's test kit: a credential for the Sanya hospital, a HIS that signs
and sends envelopes, a fixed gateway clock, and the policy of the figures checked by hand.

Policy (Beijing employees, 2026; like ``tests/integration/test_settle_kit.POLICY`` with the
supplementary item named ``large_amount``, the employees' 大额医疗费用补助): inpatient
deductible 1,000 per admission (500 from the second), one band at 80% (level 3), pool cap
10,000; outpatient deductible 100 a year at 50%, cap 2,000; off-site reductions −10 / −20
points (an unfiled patient is paid at 80 − 20 = 60% inpatient, 50 − 20 = 30% outpatient);
``large_amount`` pays 50% of the personal in-scope share of inpatient stays, cap 1,000;
the account pays every personal part.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import World, add_person
from tests.integration.test_settle_kit import CATALOG_HEADER, CATALOG_ROWS
from yibao.audit.models import AuditEntry
from yibao.config import Settings
from yibao.encounters.models import Encounter, FeeLine
from yibao.nhsa import routes as nhsa_routes
from yibao.nhsa.credentials import issue_credential
from yibao.nhsa.envelope import dumps
from yibao.policies.service import load_catalog_text, load_policy_text
from yibao.reconciliation.models import Reconciliation
from yibao.registry.models import AccountMovement, Person
from yibao.settlements.models import IdempotencyKey, SettlementRecord, YearAccumulator

PATH = "/fsi/api/rsfComIfsService/callService"
NOW = datetime(2026, 5, 12, 1, 30, tzinfo=UTC)  # 09:30 in China, 12 May 2026
SECRET = "test-secret-0123456789abcdef"
PASS_ID = "test-sanya-1"

POLICY = """
id: nhsa-bj-employee-2026
region: "110000"
scheme: employee
person_types: [in_service, retired]
effective_from: 2026-01-01
effective_to: 2026-12-31
inpatient:
  deductible: {mode: per_admission, by_level: {1: 1000, 2: 1000, 3: 1000}, later_admissions_factor: 0.5}
  bands: [{up_to: null, ratio: {1: 0.80, 2: 0.80, 3: 0.80}}]
  annual_cap: 10000
outpatient:
  deductible: {mode: annual, amount: 100}
  bands: [{up_to: null, ratio: {1: 0.50, 2: 0.50, 3: 0.50}}]
  annual_cap: 2000
offsite:
  ratio_reduction: {long_term: 0, temporary: 0.10, unfiled: 0.20}
  reduction_mode: points
supplementary:
  - {name: large_amount, settings: [inpatient], threshold: 0, bands: [{up_to: null, ratio: 0.5}], annual_cap: 1000}
account: {pays: [in_scope_personal, pre_self_pay, over_limit_self_pay, full_self_pay], family_sharing: true}
"""


def load_rules(session: Session) -> None:
    load_policy_text(session, text=POLICY, source="nhsa-test-policy.yaml", actor=None)
    for region in ("460200", "110000", "130600"):
        load_catalog_text(
            session,
            text=CATALOG_HEADER + CATALOG_ROWS.format(r=region),
            source=f"nhsa-test-catalog-{region}.csv",
            effective_from=date(2026, 1, 1),
            actor=None,
        )


def signature(timestamp: str, secret: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{secret}{nonce}{timestamp}".encode()).hexdigest()


@dataclass
class His:
    """A hospital's HIS: signs each request and numbers its messages."""

    client: TestClient
    code: str
    pass_id: str = PASS_ID
    secret: str = SECRET
    area: str = "460200"
    insured_area: str = "110000"
    sequence: int = 0
    nonces: int = 0
    sent: list[str] = field(default_factory=list)
    last_msgid: str = ""

    def msgid(self) -> str:
        self.sequence += 1
        return f"{self.code}20260512093000{self.sequence:04d}"

    def headers(self, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        self.nonces += 1
        stamp = str(int(NOW.timestamp()) if timestamp is None else timestamp)
        nonce = nonce or f"nonce-{self.pass_id}-{self.nonces}"
        return {
            "x-tif-paasid": self.pass_id,
            "x-tif-timestamp": stamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": signature(stamp, self.secret, nonce),
            "content-type": "application/json",
        }

    def envelope(
        self, infno: str, data: Any, *, msgid: str | None = None, **over: Any
    ) -> dict[str, Any]:
        message = {
            "infno": infno,
            "msgid": msgid or self.msgid(),
            "mdtrtarea_admvs": self.area,
            "insuplc_admdvs": self.insured_area,
            "recer_sys_code": "YBHIS",
            "dev_no": "",
            "dev_safe_info": None,
            "cainfo": "",
            "signtype": "SM3",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收费员甲",
            "inf_time": "2026-05-12 09:30:00",
            "fixmedins_code": self.code,
            "fixmedins_name": "三亚市人民医院",
            "sign_no": "",
            "input": data,
        }
        message.update(over)
        return message

    def post(
        self, body: bytes | str, headers: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], str]:
        response = self.client.post(PATH, content=body, headers=headers or self.headers())
        assert response.status_code == 200, response.text
        text = response.text
        self.sent.append(text)
        return json.loads(text, parse_float=Decimal), text

    def send(
        self, infno: str, data: Any, *, msgid: str | None = None, **over: Any
    ) -> dict[str, Any]:
        message = self.envelope(infno, data, msgid=msgid, **over)
        self.last_msgid = message["msgid"]
        answer, _ = self.post(dumps(message))
        return answer

    def ok(self, infno: str, data: Any, *, msgid: str | None = None, **over: Any) -> Any:
        answer = self.send(infno, data, msgid=msgid, **over)
        assert answer["infcode"] == 0, answer["err_msg"]
        return answer["output"]


@pytest.fixture
def gateway_clock(app: Any) -> datetime:
    app.dependency_overrides[nhsa_routes.get_now] = lambda: NOW
    return NOW


@pytest.fixture
def patient(session: Session, world: World) -> Person:
    """A Beijing retiree (insured 110000, not filed) with 1,500.00 on the account."""
    load_rules(session)
    person = add_person(
        session,
        name="钱退休",
        region="110000",
        born=date(1956, 4, 2),
        sequence=41,
        person_type="retired",
        balance_fen=150_000,
        card_number="BJ-T-0041",
    )
    session.commit()
    return person


@pytest.fixture
def his(
    client: TestClient, session: Session, world: World, settings: Settings, gateway_clock: datetime
) -> Iterator[His]:
    issue_credential(
        session,
        institution_id=world.hospital.id,
        secret_key=settings.secret_key,
        pass_id=PASS_ID,
        secret=SECRET,
        actor="test",
    )
    session.commit()
    yield His(client=client, code=world.hospital.code)


COUNTED = (
    Encounter,
    FeeLine,
    SettlementRecord,
    YearAccumulator,
    AccountMovement,
    IdempotencyKey,
    Reconciliation,
    AuditEntry,
)


def counts(session: Session) -> dict[str, int]:
    """Rows of every table a transaction may change."""
    session.expire_all()
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }
