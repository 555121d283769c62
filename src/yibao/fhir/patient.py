"""``Patient`` ← a person of the registry (参保人), and ``Coverage`` ← their insurance.

What a caller sees of a person is what the registry lets them see
(:func:`yibao.registry.access.visible_person`, ``list_persons``, ``lookup_person``); the
identity number is in full only where :func:`yibao.registry.access.may_see_full_identity`
says so, masked otherwise, and a masked resource carries the HL7 security label
``MASKED``. The filings in force on a ``Coverage`` are those
:func:`yibao.filings.coverage.filings_in_force` gives the caller.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from yibao.engine import FilingInfo
from yibao.fhir import codes
from yibao.fhir.common import coding, concept, region_ref
from yibao.identity import mask_identity_number
from yibao.registry.models import Person

_GENDER = {"M": "male", "F": "female"}


def patient_resource(person: Person, *, full_identity: bool) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [
        {
            "use": "official",
            "system": codes.RESIDENT_ID,
            "value": (
                person.identity_number
                if full_identity
                else mask_identity_number(person.identity_number)
            ),
        },
        {"use": "secondary", "system": codes.PERSON, "value": str(person.id)},
    ]
    if person.card_number:
        identifiers.append(
            {"use": "usual", "system": codes.INSURANCE_CARD, "value": person.card_number}
        )
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.id),
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "text": person.name}],
        "gender": _GENDER.get(person.sex, "unknown"),
        "birthDate": person.birth_date.isoformat(),
    }
    if not full_identity:
        out["meta"] = {
            "security": [
                coding(codes.HL7_V3_OBSERVATION_VALUE, "MASKED", "masked"),
            ]
        }
    return out


def filing_extension(filing: FilingInfo, covers_institution: bool | None) -> dict[str, Any]:
    """The filing in force (备案) as a complex extension: category, destination, validity."""
    parts: list[dict[str, Any]] = [
        {"url": "category", "valueCoding": coding(codes.FILING_CATEGORY, filing.type)},
        {
            "url": "destination",
            "valueIdentifier": {"system": codes.REGION, "value": filing.destination},
        },
        {"url": "validity", "valuePeriod": _period(filing.valid_from, filing.valid_to)},
        {"url": "longTerm", "valueBoolean": filing.is_long_term},
    ]
    if covers_institution is not None:
        parts.append({"url": "coversInstitution", "valueBoolean": covers_institution})
    return {"url": codes.EXT_FILING, "extension": parts}


def _period(start: date, end: date | None) -> dict[str, Any]:
    out = {"start": start.isoformat()}
    if end is not None:
        out["end"] = end.isoformat()
    return out


def coverage_resource(
    person: Person,
    *,
    region_name: str | None,
    filings: list[tuple[FilingInfo, bool | None]],
) -> dict[str, Any]:
    """The person's insurance: the scheme, the insured region as the payer, the person
    type, and each filing in force given (an extension and a ``class``)."""
    classes: list[dict[str, Any]] = [
        {
            "type": concept(codes.HL7_COVERAGE_CLASS, "plan"),
            "value": person.scheme,
            "name": f"{person.scheme} scheme of {person.insured_region}",
        },
        {
            "type": concept(codes.HL7_COVERAGE_CLASS, "subplan"),
            "value": person.person_type,
            "name": f"person type {person.person_type}",
        },
    ]
    for filing, _covers in filings:
        classes.append(
            {
                "type": concept(codes.HL7_COVERAGE_CLASS, "class"),
                "value": filing.type,
                "name": f"off-site filing ({filing.type}) to {filing.destination}, valid "
                f"{filing.valid_from.isoformat()}..{_iso(filing.valid_to)}",
            }
        )
    out: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": str(person.id),
        "status": "active",
        "type": concept(codes.SCHEME, person.scheme),
        "beneficiary": {"reference": f"Patient/{person.id}", "display": person.name},
        "relationship": concept(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"
        ),
        "payor": [region_ref(person.insured_region, region_name)],
        "class": classes,
        "extension": [filing_extension(f, covers) for f, covers in filings],
    }
    if person.card_number:
        out["subscriberId"] = person.card_number
    if not out["extension"]:
        del out["extension"]
    return out


def _iso(day: date | None) -> str:
    return day.isoformat() if day is not None else "open"
