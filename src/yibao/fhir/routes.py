"""The FHIR R4 face under ``/fhir/R4``: thin routes over the same services as the REST API.

Every route is declared with :func:`fhir_route`, which records what it does for FHIR
(resource, interaction or operation, search parameters) on the route itself; the
``CapabilityStatement`` at ``/fhir/R4/metadata`` is built from this table, so it lists
exactly what is served. The routes are outside ``/api/v1`` and its OpenAPI document (FHIR
has its own statement). Callers authenticate with the platform's bearer tokens; each
service decides what the caller may see and do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request, Response
from fhir.resources.R4B.claim import Claim
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from sqlalchemy.orm import Session

from yibao.auth.deps import CurrentUser, SessionDep
from yibao.auth.models import User
from yibao.clearing import service as clearing
from yibao.engine.phrases import Lang, choose_language
from yibao.errors import NotFound, ValidationFailed
from yibao.fhir import claim as claims
from yibao.fhir import codes, eligibility
from yibao.fhir.capability import FHIR_KEY, capability_statement
from yibao.fhir.common import base_url, read_resource
from yibao.fhir.eob import eob_resource
from yibao.fhir.errors import FHIR_BASE, FhirProblem
from yibao.fhir.patient import coverage_resource, patient_resource
from yibao.fhir.payment import payment_resource
from yibao.fhir.persons import lookup
from yibao.fhir.render import dump
from yibao.filings.coverage import filings_in_force
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.registry.models import Person
from yibao.settlements import idempotency
from yibao.settlements import service as settlements
from yibao.settlements.routes import Now, Today

FHIR_JSON: Final = f"{codes.MEDIA_TYPE}; charset=utf-8"
_ACCEPTED: Final = (
    "*/*",
    "application/*",
    "application/json",
    codes.MEDIA_TYPE,
    "application/json+fhir",
)
_FORMATS: Final = ("json", "application/json", codes.MEDIA_TYPE, "application/json+fhir")
DEFAULT_COUNT: Final = 50
MAX_COUNT: Final = 500


def check_format(request: Request) -> None:
    """JSON only: ``_format`` and ``Accept`` must allow it (406 otherwise)."""
    wanted = request.query_params.get("_format")
    if wanted is not None and wanted.split(";")[0].strip().lower() not in _FORMATS:
        raise FhirProblem(
            406,
            f"_format {wanted!r}: only JSON is served",
            code="fhir.format",
            issue_type="not-supported",
        )
    accept = request.headers.get("accept")
    if accept:
        kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
        if not any(kind in _ACCEPTED for kind in kinds):
            raise FhirProblem(
                406,
                f"Accept {accept!r}: only {codes.MEDIA_TYPE} (or application/json) is served",
                code="fhir.format",
                issue_type="not-supported",
            )


router = APIRouter(
    prefix=FHIR_BASE,
    include_in_schema=False,
    dependencies=[Depends(check_format)],
)


def fhir_route(
    path: str,
    method: str,
    *,
    resource: str,
    interaction: str | None = None,
    operation: str | None = None,
    search: Sequence[tuple[str, str, str]] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve ``path`` and record it in the capability table: ``interaction`` (read,
    search-type) or ``operation`` (``$name``), with its ``search`` parameters
    (name, type, documentation)."""

    def add(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            response_class=Response,
            include_in_schema=False,
            openapi_extra={
                FHIR_KEY: {
                    "resource": resource,
                    "interaction": interaction,
                    "operation": operation,
                    "search": [list(p) for p in search],
                }
            },
        )
        return endpoint

    return add


def answer(resource_type: str, data: dict[str, Any], *, status: int = 200) -> Response:
    return Response(content=dump(resource_type, data), status_code=status, media_type=FHIR_JSON)


def language(request: Request) -> Lang:
    return choose_language(None, request.headers.get("accept-language"))


def _local_use(request: Request) -> bool | None:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "policy_local_use_while_filed", None)


def _id(value: str, resource: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise FhirProblem(
            404, f"{resource}/{value} not found", code="fhir.not_found", issue_type="not-found"
        )
    return int(value)


# --- search ---------------------------------------------------------------------------

_PAGING = (
    ("_count", "number", f"page size, 1 to {MAX_COUNT} (default {DEFAULT_COUNT})"),
    ("_offset", "number", "how many matches to skip (Yibao's paging)"),
)


def _search_params(request: Request, allowed: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    known = {*allowed, "_count", "_offset", "_format"}
    for key, value in request.query_params.multi_items():
        if key not in known:
            raise FhirProblem(
                400,
                f"search parameter {key!r} is not supported here; supported: "
                f"{', '.join(sorted(known))}",
                code="fhir.unknown_parameter",
                issue_type="not-supported",
                expression=[key],
            )
        if key in params:
            raise FhirProblem(
                400,
                f"search parameter {key!r} is repeated",
                code="fhir.repeated_parameter",
                expression=[key],
            )
        params[key] = value
    return params


def _paging(params: dict[str, str]) -> tuple[int, int]:
    def number(name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise FhirProblem(
                400,
                f"{name} must be a whole number from {low} to {high}",
                code="fhir.invalid_parameter",
                expression=[name],
            )
        return int(raw)

    return number("_count", DEFAULT_COUNT, 1, MAX_COUNT), number("_offset", 0, 0, 10**9)


def bundle(
    request: Request,
    resources: Sequence[tuple[str, dict[str, Any]]],
    *,
    count: int,
    offset: int,
    total: int | None = None,
) -> Response:
    base = base_url(request)
    self_url = str(request.url)
    links = [{"relation": "self", "url": self_url}]
    if len(resources) == count:
        nxt = request.url.include_query_params(_offset=offset + count, _count=count)
        links.append({"relation": "next", "url": str(nxt)})
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{kind}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for kind, resource in resources
        ],
    }
    if total is not None:
        data["total"] = total
    if not data["entry"]:
        del data["entry"]
    return answer("Bundle", data)


# --- metadata -------------------------------------------------------------------------


@fhir_route("/metadata", "GET", resource="CapabilityStatement")
def metadata(request: Request) -> Response:
    """What this server does, built from the route table (no token needed)."""
    return answer("CapabilityStatement", capability_statement(router.routes, base_url(request)))


# --- Patient --------------------------------------------------------------------------


def _patient(session: Session, user: User, person: Person) -> dict[str, Any]:
    _, full = registry_access.identity_number_for(session, user, person)
    return patient_resource(person, full_identity=full)


@fhir_route("/Patient/{patient_id}", "GET", resource="Patient", interaction="read")
def read_patient(patient_id: str, session: SessionDep, user: CurrentUser) -> Response:
    person = registry_access.visible_person(
        session, actor=user, person_id=_id(patient_id, "Patient")
    )
    return answer("Patient", _patient(session, user, person))


_PATIENT_SEARCH = (
    (
        "identifier",
        "token",
        f"{codes.RESIDENT_ID}|<identity number> (validated, GB 11643) or "
        f"{codes.INSURANCE_CARD}|<card number>",
    ),
    ("name", "string", "part of the name"),
)


def _by_identifier(session: Session, user: User, raw: str) -> list[Person]:
    system, _, value = raw.rpartition("|")
    if not value.strip():
        raise FhirProblem(
            400,
            "identifier: give system|value",
            code="fhir.invalid_parameter",
            expression=["identifier"],
        )
    try:
        return [
            lookup(session, user, system=system or None, value=value.strip(), where="identifier")
        ]
    except NotFound:
        return []
    except (ValueError, ValidationFailed) as exc:  # not an identity number (GB 11643)
        raise FhirProblem(
            400, f"identifier: {exc}", code="fhir.invalid_parameter", expression=["identifier"]
        ) from None


@fhir_route(
    "/Patient",
    "GET",
    resource="Patient",
    interaction="search-type",
    search=(*_PATIENT_SEARCH, *_PAGING),
)
def search_patients(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    params = _search_params(request, ("identifier", "name"))
    count, offset = _paging(params)
    if "identifier" in params:
        persons = _by_identifier(session, user, params["identifier"])
        if "name" in params:
            persons = [p for p in persons if params["name"] in p.name]
        persons = persons[offset : offset + count]
    else:
        persons = list(
            registry.list_persons(
                session, actor=user, name=params.get("name"), limit=count, offset=offset
            )
        )
    return bundle(
        request,
        [("Patient", _patient(session, user, p)) for p in persons],
        count=count,
        offset=offset,
    )


# --- Coverage -------------------------------------------------------------------------


def _coverage(session: Session, user: User, person: Person, today: Any) -> dict[str, Any]:
    return coverage_resource(
        person,
        region_name=registry.get_region(session, code=person.insured_region).name,
        filings=filings_in_force(session, actor=user, person=person, on=today),
    )


@fhir_route("/Coverage/{coverage_id}", "GET", resource="Coverage", interaction="read")
def read_coverage(
    coverage_id: str, session: SessionDep, user: CurrentUser, today: Today
) -> Response:
    person = registry_access.visible_person(
        session, actor=user, person_id=_id(coverage_id, "Coverage")
    )
    return answer("Coverage", _coverage(session, user, person, today))


@fhir_route(
    "/Coverage",
    "GET",
    resource="Coverage",
    interaction="search-type",
    search=(
        ("beneficiary", "reference", "Patient/<id>"),
        ("patient", "reference", "Patient/<id> (same as beneficiary)"),
        *_PAGING,
    ),
)
def search_coverage(
    request: Request, session: SessionDep, user: CurrentUser, today: Today
) -> Response:
    params = _search_params(request, ("beneficiary", "patient"))
    count, offset = _paging(params)
    wanted = params.get("beneficiary") or params.get("patient")
    if wanted is not None:
        ref = wanted.removeprefix("Patient/")
        try:
            persons = [
                registry_access.visible_person(session, actor=user, person_id=_id(ref, "Patient"))
            ][offset : offset + count]
        except (NotFound, FhirProblem):
            persons = []
    else:
        persons = list(registry.list_persons(session, actor=user, limit=count, offset=offset))
    return bundle(
        request,
        [("Coverage", _coverage(session, user, p, today)) for p in persons],
        count=count,
        offset=offset,
    )


# --- eligibility ----------------------------------------------------------------------


async def eligibility_body(request: Request) -> CoverageEligibilityRequest:
    return await read_resource(request, CoverageEligibilityRequest, "CoverageEligibilityRequest")


async def claim_body(request: Request) -> Claim:
    return await read_resource(request, Claim, "Claim")


@fhir_route(
    "/CoverageEligibilityRequest/$submit",
    "POST",
    resource="CoverageEligibilityRequest",
    operation="submit",
)
def submit_eligibility(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    today: Today,
    now: Now,
    resource: Annotated[CoverageEligibilityRequest, Depends(eligibility_body)],
) -> Response:
    checked = eligibility.check(
        session, user, resource, today=today, local_use_while_filed=_local_use(request)
    )
    region = registry.get_region(session, code=checked.person.insured_region)
    return answer(
        "CoverageEligibilityResponse",
        eligibility.response_resource(checked, resource, region_name=region.name, created=now),
    )


# --- Claim ----------------------------------------------------------------------------


@fhir_route("/Claim/$submit", "POST", resource="Claim", operation="submit")
def submit_claim(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    today: Today,
    now: Now,
    resource: Annotated[Claim, Depends(claim_body)],
) -> Response:
    institution = claims.own_institution(session, user, resource.provider, where="Claim.provider")
    intake = claims.read_claim(session, user, resource)
    lang = language(request)
    if intake.use == "predetermination":
        done = claims.predetermine(
            session,
            user,
            intake,
            institution,
            today=today,
            local_use_while_filed=_local_use(request),
        )
        return answer(
            "ClaimResponse", claims.claim_response(done, intake, resource, lang=lang, created=now)
        )
    key = request.headers.get(idempotency.HEADER)
    if key is None and intake.identifier is not None:
        key = f"fhir:Claim:{intake.identifier}"
    checked = idempotency.check_key(key)

    def operation() -> tuple[int, str]:
        done = claims.settle(
            session,
            user,
            intake,
            institution,
            today=today,
            now=now,
            local_use_while_filed=_local_use(request),
        )
        text = dump(
            "ClaimResponse", claims.claim_response(done, intake, resource, lang=lang, created=now)
        )
        return 200, text

    # the Claim as parsed (not its bytes: spacing or key order make no other request);
    # a retry in another language gets the first answer, as the REST settle does
    digest = idempotency.request_hash(
        "POST",
        f"{FHIR_BASE}/Claim/$submit",
        {"claim": resource.model_dump_json(exclude_none=True)},
    )
    stored = idempotency.run_once(
        session, user_id=user.id, key=checked, digest=digest, operation=operation
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(
        content=stored.body, status_code=stored.status_code, media_type=FHIR_JSON, headers=headers
    )


# --- ExplanationOfBenefit -------------------------------------------------------------


def _eob(session: Session, user: User, row: Any, lang: Lang) -> dict[str, Any]:
    explained = settlements.settlement_explained(session, record_=row, lang="en")
    institution = (
        registry.get_institution(session, institution_id=row.institution_id)
        if row.institution_id is not None
        else None
    )
    return eob_resource(row, explained, institution=institution, lang=lang)


@fhir_route(
    "/ExplanationOfBenefit/{eob_id}", "GET", resource="ExplanationOfBenefit", interaction="read"
)
def read_eob(eob_id: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    row = settlements.get_settlement(
        session, actor=user, settlement_id=_id(eob_id, "ExplanationOfBenefit")
    )
    return answer("ExplanationOfBenefit", _eob(session, user, row, language(request)))


@fhir_route(
    "/ExplanationOfBenefit",
    "GET",
    resource="ExplanationOfBenefit",
    interaction="search-type",
    search=_PAGING,
)
def search_eob(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    params = _search_params(request, ())
    count, offset = _paging(params)
    rows = settlements.list_settlements(session, actor=user, limit=count, offset=offset)
    lang = language(request)
    return bundle(
        request,
        [("ExplanationOfBenefit", _eob(session, user, r, lang)) for r in rows],
        count=count,
        offset=offset,
    )


# --- PaymentReconciliation ------------------------------------------------------------


@fhir_route(
    "/PaymentReconciliation/{statement_id}",
    "GET",
    resource="PaymentReconciliation",
    interaction="read",
)
def read_payment(statement_id: str, session: SessionDep, user: CurrentUser) -> Response:
    ref = _id(statement_id, "PaymentReconciliation")
    row = clearing.get_statement(session, actor=user, statement_id=ref)
    if row.state != "confirmed" or row.confirmed_at is None:
        raise NotFound(
            f"clearing statement {ref} is not confirmed: it is a draft, no reconciliation yet",
            code="clearing.not_confirmed",
        )
    return answer("PaymentReconciliation", payment_resource(row))


@fhir_route(
    "/PaymentReconciliation",
    "GET",
    resource="PaymentReconciliation",
    interaction="search-type",
    search=_PAGING,
)
def search_payments(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    params = _search_params(request, ())
    count, offset = _paging(params)
    rows = [
        r
        for r in clearing.list_statements(session, actor=user)
        if r.state == "confirmed" and r.confirmed_at is not None
    ]
    page = rows[offset : offset + count]
    return bundle(
        request,
        [("PaymentReconciliation", payment_resource(r)) for r in page],
        count=count,
        offset=offset,
        total=len(rows),
    )


# --- anything else ----------------------------------------------------------------------


def not_supported(rest: str, request: Request) -> Response:
    raise FhirProblem(
        404,
        f"{request.method} {FHIR_BASE}/{rest} is not supported; see {FHIR_BASE}/metadata",
        code="fhir.not_supported",
        issue_type="not-supported",
    )


def install_fallback() -> None:
    """Last: every other address under the base is an ``OperationOutcome`` 404."""
    router.add_api_route(
        "/{rest:path}",
        not_supported,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
        response_class=Response,
    )


install_fallback()
