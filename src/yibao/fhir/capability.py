"""The ``CapabilityStatement``, built from the FHIR router's own route table.

Each route of :mod:`yibao.fhir.routes` carries what it does for FHIR (``x-fhir`` in its
``openapi_extra``); this module only reads the table, so the statement lists exactly
what is served and cannot drift from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute

from yibao.fhir import codes

FHIR_KEY = "x-fhir"
SOFTWARE_VERSION = "0.1.0"
# The standard definition of Claim/$submit; the eligibility operation is Yibao's own.
OPERATION_DEFINITIONS = {
    ("Claim", "submit"): "http://hl7.org/fhir/OperationDefinition/Claim-submit",
    ("CoverageEligibilityRequest", "submit"): (
        "urn:yibao:fhir:OperationDefinition:CoverageEligibilityRequest-submit"
    ),
}


def route_table(routes: Sequence[BaseRoute]) -> list[dict[str, Any]]:
    """What each FHIR route declares, in the router's order (the fallback declares none)."""
    table = []
    for route in routes:
        extra = getattr(route, "openapi_extra", None) or {}
        entry = extra.get(FHIR_KEY)
        if entry is not None:
            table.append(
                {
                    **entry,
                    "path": getattr(route, "path", ""),
                    "methods": sorted(getattr(route, "methods", ()) or ()),
                }
            )
    return table


def capability_statement(routes: Sequence[BaseRoute], base: str) -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {}
    for entry in route_table(routes):
        kind = entry["resource"]
        if kind == "CapabilityStatement":
            continue
        resource = resources.setdefault(kind, {"type": kind})
        if entry["interaction"]:
            resource.setdefault("interaction", []).append({"code": entry["interaction"]})
        if entry["operation"]:
            name = entry["operation"]
            resource.setdefault("operation", []).append(
                {"name": name, "definition": OPERATION_DEFINITIONS[(kind, name)]}
            )
        for name, kind_of, doc in entry["search"]:
            resource.setdefault("searchParam", []).append(
                {"name": name, "type": kind_of, "documentation": doc}
            )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "publisher": "Yibao",
        "kind": "instance",
        "software": {"name": "Yibao", "version": SOFTWARE_VERSION},
        "implementation": {
            "description": "Yibao off-site medical insurance (异地就医): FHIR R4 face",
            "url": base,
        },
        "fhirVersion": codes.FHIR_VERSION,
        "format": [codes.MEDIA_TYPE, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Thin adapter over Yibao's services; see docs/fhir.md.",
                "security": {
                    "cors": False,
                    "service": [{"text": "Bearer"}],
                    "description": "Authorization: Bearer yb_... (the platform's user "
                    "tokens); each service decides what the caller may see and do.",
                },
                "resource": list(resources.values()),
            }
        ],
    }
