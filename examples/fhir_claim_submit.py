"""Pre-settle, then settle, an inpatient stay with FHIR ``Claim/$submit`` against Yibao.

A hospital's FHIR system talking to Yibao through a FHIR client library (fhirpy's sync
client: ``pip install fhirpy``). Run it against the demo (``yibao demo`` prints this line
with its own token, card and institution code)::

    python examples/fhir_claim_submit.py --base http://127.0.0.1:8000 \\
        --token yb_... --card BJ0001 --institution H460200001

It sends a ``predetermination`` (nothing is stored), then the same stay as a ``claim``
(settled once: sending it again returns the first answer), and reads the settlement back
as an ``ExplanationOfBenefit``. Every figure printed is Yibao's own. docs/fhir.md says how
each element maps.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from fhirpy import SyncFHIRClient

NS = "urn:yibao:fhir"
FIGURES = (
    "total",
    "in_scope",
    "deductible",
    "pool_fund_pay",
    "supplementary_pay",
    "fund_pay_total",
    "personal_burden",
    "account_pay",
    "cash_pay",
)
# the demo's Sanya catalog: 住院诊查费 (A), a class B drug, 陪护床位费 (C)
STAY = [("S0005", 5, 30), ("D0009", 40, 65.10), ("F0010", 5, 20)]


def claim(use: str, *, card: str, institution: str, identifier: str) -> dict[str, Any]:
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()  # China's day
    return {
        "resourceType": "Claim",
        "identifier": [{"system": "urn:example:his:claim", "value": identifier}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional",
                }
            ]
        },
        "subType": {"coding": [{"system": f"{NS}:CodeSystem:setting", "code": "inpatient"}]},
        "use": use,
        "patient": {"identifier": {"system": f"{NS}:NamingSystem:insurance-card", "value": card}},
        "billablePeriod": {"start": today, "end": today},
        "created": f"{today}T10:00:00+08:00",
        "insurer": {"display": "insured region's centre"},
        "provider": {
            "identifier": {"system": f"{NS}:NamingSystem:institution", "value": institution}
        },
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "basic"}}],
        "extension": [
            {
                "url": f"{NS}:StructureDefinition:deposit",
                "valueMoney": {"value": 5000, "currency": "CNY"},
            }
        ],
        "item": [
            {
                "sequence": n,
                "productOrService": {
                    "coding": [{"system": f"{NS}:CodeSystem:catalog", "code": code}]
                },
                "quantity": {"value": quantity},
                "unitPrice": {"value": price, "currency": "CNY"},
            }
            for n, (code, quantity, price) in enumerate(STAY, start=1)
        ],
    }


def figures(resource: Any) -> dict[str, str]:
    out = {}
    for adjudication in resource.get("adjudication", []):
        for coding in adjudication["category"]["coding"]:
            if coding["system"] == f"{NS}:CodeSystem:settlement-figure":
                out[coding["code"]] = f"{adjudication['amount']['value']:.2f}"
    return out


def show(title: str, resource: Any) -> None:
    print(
        f"== {title}: {resource['resourceType']} {resource.get('id', '(not stored)')} "
        f"outcome {resource.get('outcome')}"
    )
    found = figures(resource)
    for name in FIGURES:
        print(f"   {name:18} {found.get(name, '-'):>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="a hospital user's token (yb_...)")
    parser.add_argument("--card", required=True, help="the patient's insurance card")
    parser.add_argument("--institution", required=True, help="the hospital's code")
    args = parser.parse_args()
    fhir = SyncFHIRClient(f"{args.base}/fhir/R4", authorization=f"Bearer {args.token}")
    print("server:", fhir.execute("metadata", method="get")["fhirVersion"])
    key = f"fhir-example-{uuid.uuid4().hex[:12]}"
    pre = fhir.execute(
        "Claim/$submit",
        data=claim(
            "predetermination", card=args.card, institution=args.institution, identifier=key
        ),
    )
    show("pre-settlement", pre)
    settled = fhir.execute(
        "Claim/$submit",
        data=claim("claim", card=args.card, institution=args.institution, identifier=key),
    )
    show("settlement", settled)
    again = fhir.execute(
        "Claim/$submit",
        data=claim("claim", card=args.card, institution=args.institution, identifier=key),
    )
    print("   sent again: the same settlement", again["id"], "(nothing counted twice)")
    eob = fhir.reference("ExplanationOfBenefit", settled["id"]).to_resource()
    show("explanation of benefit", eob)
    for note in eob.get("processNote", []):
        print("   ·", note["text"])


if __name__ == "__main__":
    main()
