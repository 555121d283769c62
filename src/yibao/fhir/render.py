"""Reading and writing FHIR JSON, every resource validated by the ``fhir.resources`` models.

The models are the R4B package of ``fhir.resources`` (FHIR 4.3.0, the technical correction
of R4 4.0.1 whose financial and administrative resources used here have the same elements
as R4's; docs/fhir.md says which). Incoming bodies are parsed from their text by the
models, so decimals stay decimals (never a binary float). Outgoing resources are checked
against the same models and written from Yibao's own values: money is a ``Decimal``
written as its exact text (``600.00``), never through a float.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any, TypeVar

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

Model = TypeVar("Model", bound=FHIRAbstractModel)

# An unguessable marker: a Decimal is written as this string, then the string (quotes
# included) is replaced by the number's own text.
_MARK = f"yibao-decimal-{secrets.token_hex(8)}:"
_MARKED = re.compile(r'"' + re.escape(_MARK) + r'(-?\d+(?:\.\d+)?)"')


def _marked(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{format(value, 'f')}"
    if isinstance(value, dict):
        return {key: _marked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marked(item) for item in value]
    return value


def model_class(resource_type: str) -> type[FHIRAbstractModel]:
    return get_fhir_model_class(resource_type)


def check(resource_type: str, data: dict[str, Any]) -> None:
    """Raise ``ValueError`` when ``data`` is not a valid ``resource_type``: an outgoing
    resource that does not validate is a bug of the face, never sent."""
    if data.get("resourceType") != resource_type:
        raise ValueError(f"resourceType {data.get('resourceType')!r} is not {resource_type}")
    try:
        model_class(resource_type).model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"invalid outgoing {resource_type}: {exc}") from None


def dump(resource_type: str, data: dict[str, Any]) -> str:
    """``data`` as FHIR JSON text, after validating it as ``resource_type``."""
    check(resource_type, data)
    text = json.dumps(_marked(data), ensure_ascii=False, separators=(",", ":"))
    return _MARKED.sub(lambda found: found.group(1), text)


def parse(model: type[Model], body: bytes) -> Model:
    """A resource from its JSON text (``ValidationError`` when it is not one)."""
    return model.model_validate_json(body)
