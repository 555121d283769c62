"""Small pieces every FHIR mapping uses: money, codings, references, the request's body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from yibao.fhir import codes
from yibao.fhir.errors import FHIR_BASE, FhirProblem
from yibao.fhir.render import Model, parse
from yibao.money import from_fen

_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


def money_fen(fen: int) -> dict[str, Any]:
    """A stored amount (whole fen) as FHIR ``Money`` in yuan."""
    return {"value": from_fen(fen), "currency": codes.CURRENCY}


def money_text(text: str) -> dict[str, Any]:
    """An amount the services gave as text (``"600.00"``) as FHIR ``Money``."""
    return {"value": Decimal(text), "currency": codes.CURRENCY}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code)]}
    if text:
        out["text"] = text
    return out


def region_ref(code: str, name: str | None = None) -> dict[str, Any]:
    """A coordination region (统筹区) as a reference by identifier: the payer of a scheme."""
    out: dict[str, Any] = {
        "type": "Organization",
        "identifier": {"system": codes.REGION, "value": code},
    }
    if name:
        out["display"] = f"{name} ({code})"
    return out


def institution_ref(institution_id: int, code: str, name: str) -> dict[str, Any]:
    return {
        "reference": f"Organization/{institution_id}",
        "type": "Organization",
        "identifier": {"system": codes.INSTITUTION, "value": code},
        "display": name,
    }


_LITERAL = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True, slots=True)
class Target:
    """What a ``Reference`` points at: a literal id, or a business identifier."""

    resource_id: int | None = None
    system: str | None = None
    value: str | None = None


def target(reference: Any, *, expected: str, where: str) -> Target:
    """The id (``Patient/12``) or the identifier a ``Reference`` gives, else 422."""
    if reference is None:
        raise FhirProblem(422, f"{where}: a reference is required", code="fhir.reference")
    literal = getattr(reference, "reference", None)
    if literal:
        found = _LITERAL.search(str(literal))
        if found is None or found["type"] != expected:
            raise FhirProblem(
                422,
                f"{where}: {literal!r} is not a reference to a {expected}",
                code="fhir.reference",
                expression=[where],
            )
        if not found["id"].isdigit():
            raise FhirProblem(
                404,
                f"{expected}/{found['id']} not found",
                code="fhir.not_found",
                issue_type="not-found",
                expression=[where],
            )
        return Target(resource_id=int(found["id"]))
    identifier = getattr(reference, "identifier", None)
    if identifier is not None and identifier.value:
        return Target(system=identifier.system, value=str(identifier.value).strip())
    raise FhirProblem(
        422,
        f"{where}: give a literal reference ({expected}/<id>) or an identifier",
        code="fhir.reference",
        expression=[where],
    )


async def read_resource(request: Request, model: type[Model], resource_type: str) -> Model:
    """The request's body as a validated resource of ``resource_type`` (400 when not)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _JSON_TYPES:
        raise FhirProblem(
            415,
            f"send {codes.MEDIA_TYPE} (or application/json), not {content_type or 'nothing'}",
            code="fhir.media_type",
            issue_type="not-supported",
        )
    body = await request.body()
    try:
        resource = parse(model, body)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        path = ".".join(str(part) for part in first.get("loc", ()))
        raise FhirProblem(
            400,
            f"the body is not a valid {resource_type}: {path or 'body'}: {first.get('msg')}",
            code="fhir.invalid_resource",
            issue_type="structure",
            expression=[path] if path else [],
        ) from None
    if getattr(resource, "get_resource_type", lambda: None)() != resource_type:
        raise FhirProblem(
            400,
            f"the body must be a {resource_type}",
            code="fhir.invalid_resource",
            issue_type="structure",
        )
    return resource


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + FHIR_BASE
