"""Finding the person a reference or an identifier names, through the registry's checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.errors import ValidationFailed
from yibao.fhir import codes
from yibao.fhir.common import target
from yibao.fhir.errors import FhirProblem
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.registry.models import Person


def lookup(session: Session, actor: User, *, system: str | None, value: str, where: str) -> Person:
    """The person with this identity number or card, as :func:`registry.lookup_person`
    lets the actor find them (a hospital holding the document finds anyone)."""
    if system in (codes.RESIDENT_ID, None, ""):
        try:
            return registry.lookup_person(
                session, actor=actor, identity_number=value, card_number=None
            )
        except ValueError as exc:  # not an identity number (GB 11643)
            raise ValidationFailed(
                f"{where}: {exc}", code="person.identity_invalid", field=where
            ) from None
    if system == codes.INSURANCE_CARD:
        return registry.lookup_person(session, actor=actor, identity_number=None, card_number=value)
    raise FhirProblem(
        422,
        f"{where}: identify the person by {codes.RESIDENT_ID} or {codes.INSURANCE_CARD}",
        code="fhir.identifier_system",
        expression=[where],
    )


def find_person(session: Session, actor: User, reference: Any, *, where: str) -> Person:
    found = target(reference, expected="Patient", where=where)
    if found.resource_id is not None:
        return registry_access.visible_person(session, actor=actor, person_id=found.resource_id)
    assert found.value is not None
    return lookup(session, actor, system=found.system, value=found.value, where=where)
