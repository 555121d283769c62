"""``CoverageEligibilityRequest/$submit`` → ``CoverageEligibilityResponse``: is this person
covered for direct settlement at this institution on this day (today unless
``servicedDate`` says), with the filing in force
(:func:`yibao.encounters.eligibility.check_eligibility`). Nothing is stored."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.encounters.eligibility import Eligibility, check_eligibility
from yibao.fhir import codes
from yibao.fhir.claim import own_institution
from yibao.fhir.common import concept, institution_ref, region_ref, target
from yibao.fhir.errors import FhirProblem
from yibao.fhir.patient import filing_extension
from yibao.fhir.persons import find_person
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.registry.models import Institution


def _institution(session: Session, actor: User, request: CoverageEligibilityRequest) -> Institution:
    reference = request.facility or request.provider
    where = (
        "CoverageEligibilityRequest.facility"
        if request.facility
        else ("CoverageEligibilityRequest.provider")
    )
    if registry_access.own_institution(actor) is not None:
        return own_institution(session, actor, reference, where=where)
    if reference is None:
        raise FhirProblem(
            422,
            "CoverageEligibilityRequest.facility: name the institution (Organization/<id>)",
            code="fhir.eligibility_institution",
            expression=["CoverageEligibilityRequest.facility"],
        )
    found = target(reference, expected="Organization", where=where)
    if found.resource_id is None:
        raise FhirProblem(
            422,
            f"{where}: name the institution by a literal reference (Organization/<id>)",
            code="fhir.eligibility_institution",
            expression=[where],
        )
    return registry.get_institution(session, institution_id=found.resource_id)


def _serviced(request: CoverageEligibilityRequest, today: date) -> date:
    value: Any = request.servicedDate
    if value is None and request.servicedPeriod is not None:
        value = request.servicedPeriod.start
    if value is None:
        return today
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def check(
    session: Session,
    actor: User,
    request: CoverageEligibilityRequest,
    *,
    today: date,
    local_use_while_filed: bool | None,
) -> Eligibility:
    person = find_person(
        session, actor, request.patient, where="CoverageEligibilityRequest.patient"
    )
    institution = _institution(session, actor, request)
    return check_eligibility(
        session,
        actor=actor,
        person=person,
        institution_id=institution.id,
        on=_serviced(request, today),
        local_use_while_filed=local_use_while_filed,
    )


def response_resource(
    answer: Eligibility,
    request: CoverageEligibilityRequest,
    *,
    region_name: str | None,
    created: datetime,
) -> dict[str, Any]:
    person, institution = answer.person, answer.institution
    insurance: dict[str, Any] = {
        "coverage": {"reference": f"Coverage/{person.id}"},
        "inforce": answer.covered,
        "extension": [
            {
                "url": codes.EXT_OFFSITE_STATUS,
                "valueCoding": {"system": codes.OFFSITE_STATUS, "code": answer.offsite_status},
            }
        ],
    }
    if answer.filing is not None:
        insurance["extension"].append(
            filing_extension(answer.filing, answer.filing_covers_institution)
        )
        period = {"start": answer.filing.valid_from.isoformat()}
        if answer.filing.valid_to is not None:
            period["end"] = answer.filing.valid_to.isoformat()
        insurance["benefitPeriod"] = period
    out: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": [str(p) for p in request.purpose or ()],
        "patient": {"reference": f"Patient/{person.id}"},
        "servicedDate": answer.on.isoformat(),
        "created": created.isoformat(),
        "request": _request_ref(request),
        "outcome": "complete",
        "disposition": f"{answer.reason}; {answer.offsite_reason}",
        "insurer": region_ref(person.insured_region, region_name),
        "requestor": institution_ref(institution.id, institution.code, institution.name),
        "insurance": [insurance],
    }
    if not answer.covered:
        out["error"] = [{"code": concept(codes.ELIGIBILITY, answer.code, answer.reason)}]
    return out


def _request_ref(request: CoverageEligibilityRequest) -> dict[str, Any]:
    if request.identifier:
        return {
            "type": "CoverageEligibilityRequest",
            "identifier": request.identifier[0].model_dump(mode="json", exclude_none=True),
        }
    return {"type": "CoverageEligibilityRequest", "display": "the request answered here"}
