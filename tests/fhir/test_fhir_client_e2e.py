"""End to end with a FHIR client library (fhirpy's sync client) against the demo served
by uvicorn on a free loopback port, as a hospital's FHIR system would talk to Yibao.

The stay: S0005 住院诊查费 (A) 5 × 30.00 = 150.00; D0009 (B, 15% self-paid first)
40 × 65.10 = 2,604.00, of which 390.60 self-paid first; F0010 陪护床位费 (C) 5 × 20.00 =
100.00 fully self-paid. Total 2,854.00; in scope 150.00 + 2,213.40 = 2,363.40.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError, OperationOutcome, ResourceNotFound

from yibao.api.app import create_app
from yibao.clock import china_today
from yibao.config import Settings
from yibao.db import make_engine, session_scope, upgrade_database
from yibao.demo.loader import DemoResult, load_demo
from yibao.fhir import codes


@dataclass
class Served:
    base: str
    demo: DemoResult

    def client(self, role: str) -> SyncFHIRClient:
        return SyncFHIRClient(
            f"{self.base}/fhir/R4", authorization=f"Bearer {self.demo.tokens[role]}"
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("fhir-site")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'demo.db'}", upload_dir=folder / "uploads"
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            demo = load_demo(session, upload_dir=settings.upload_dir, today=china_today())
    finally:
        engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield Served(base=f"http://127.0.0.1:{port}", demo=demo)
    finally:
        server.should_exit = True
        thread.join(10)


def claim(served: Served, *, use: str, identifier: str | None = None) -> dict[str, Any]:
    wang = served.demo.persons["wang"]
    hospital = served.demo.institutions["H460200001"]
    lines = [("S0005", 5, 30), ("D0009", 40, 65.10), ("F0010", 5, 20)]
    body: dict[str, Any] = {
        "resourceType": "Claim",
        "status": "active",
        "type": {"coding": [{"system": codes.HL7_CLAIM_TYPE, "code": "institutional"}]},
        "subType": {"coding": [{"system": codes.SETTING, "code": "inpatient"}]},
        "use": use,
        "patient": {"identifier": {"system": codes.INSURANCE_CARD, "value": wang.card_number}},
        "created": f"{served.demo.today.isoformat()}T10:00:00+08:00",
        "insurer": {"display": "北京市医保中心"},
        "provider": {"identifier": {"system": codes.INSTITUTION, "value": hospital.code}},
        "priority": {"coding": [{"system": codes.HL7_PROCESS_PRIORITY, "code": "normal"}]},
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{wang.id}"}}
        ],
        "item": [
            {
                "sequence": n,
                "productOrService": {"coding": [{"system": codes.CATALOG, "code": code}]},
                "quantity": {"value": qty},
                "unitPrice": {"value": price, "currency": "CNY"},
            }
            for n, (code, qty, price) in enumerate(lines, start=1)
        ],
    }
    if identifier:
        body["identifier"] = [{"system": "urn:oid:2.16.156.1", "value": identifier}]
    return body


def amounts(resource: Any) -> dict[str, Decimal]:
    out = {}
    for adj in resource["adjudication"]:
        code = next(c["code"] for c in adj["category"]["coding"] if c["system"] == codes.FIGURE)
        out[code] = Decimal(str(adj["amount"]["value"])).quantize(Decimal("0.01"))
    return out


def test_a_hospital_system_talks_fhir_to_yibao(served: Served) -> None:
    fhir = served.client("hospital")
    wang = served.demo.persons["wang"]
    statement = fhir.execute("metadata", method="get")
    assert statement["fhirVersion"] == "4.0.1"

    # find the patient by the identity number on the card the patient shows (masked)
    found = (
        fhir.resources("Patient")
        .search(identifier=f"{codes.RESIDENT_ID}|{wang.identity_number}")
        .fetch()
    )
    assert [p.id for p in found] == [str(wang.id)]
    official = next(i for i in found[0]["identifier"] if i["system"] == codes.RESIDENT_ID)
    assert official["value"] != wang.identity_number and "*" in official["value"]

    # is he covered here today? (resettled to Sanya from today: long-term)
    answer = fhir.execute(
        "CoverageEligibilityRequest/$submit",
        data={
            "resourceType": "CoverageEligibilityRequest",
            "status": "active",
            "purpose": ["validation"],
            "patient": {"reference": f"Patient/{wang.id}"},
            "created": f"{served.demo.today.isoformat()}T09:00:00+08:00",
            "insurer": {"display": "北京市医保中心"},
        },
    )
    assert answer["resourceType"] == "CoverageEligibilityResponse"
    assert answer["insurance"][0]["inforce"] is True

    # pre-settle: nothing stored
    pre = fhir.execute("Claim/$submit", data=claim(served, use="predetermination"))
    assert pre["resourceType"] == "ClaimResponse" and "id" not in pre
    figures = amounts(pre)
    assert figures["total"] == Decimal("2854.00")
    assert figures["full_self_pay"] == Decimal("100.00")
    assert figures["pre_self_pay"] == Decimal("390.60")
    assert figures["in_scope"] == Decimal("2363.40")
    assert figures["fund_pay_total"] + figures["personal_burden"] == figures["total"]

    # settle; the same Claim again is answered once
    settled = fhir.execute("Claim/$submit", data=claim(served, use="claim", identifier="E2E-1"))
    assert amounts(settled) == figures  # the same engine on the same stored year
    again = fhir.execute("Claim/$submit", data=claim(served, use="claim", identifier="E2E-1"))
    assert again["id"] == settled["id"]

    # the explanation of benefit is the stored settlement, as the REST API says it
    eob = fhir.reference("ExplanationOfBenefit", settled["id"]).to_resource()
    assert amounts(eob) == figures
    rest = httpx.get(
        f"{served.base}/api/v1/settlements/{settled['id']}",
        headers={"Authorization": f"Bearer {served.demo.tokens['hospital']}"},
    ).json()
    assert {k: Decimal(v) for k, v in rest["amounts"].items()} == figures

    # the patient reads his own; the Beijing hospital may not see this settlement
    mine = served.client("insured").reference("ExplanationOfBenefit", settled["id"]).to_resource()
    assert mine.id == settled["id"]
    with pytest.raises(ResourceNotFound):
        served.client("hospital_bj").reference("ExplanationOfBenefit", settled["id"]).to_resource()
    with pytest.raises(ForbiddenError):
        served.client("hospital_bj").reference("Patient", wang.id).to_resource()
    # a Claim for another institution is refused with an OperationOutcome
    with pytest.raises(ForbiddenError):
        served.client("hospital_bj").execute(
            "Claim/$submit", data=claim(served, use="claim", identifier="E2E-2")
        )
    with pytest.raises(OperationOutcome):
        fhir.execute("Claim/$submit", data={**claim(served, use="claim"), "item": []})
