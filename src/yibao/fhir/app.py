"""Adding the FHIR face to the platform's FastAPI app (the API's ``create_app`` calls this)."""

from __future__ import annotations

from fastapi import FastAPI

import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed)
from yibao.fhir.errors import install_fhir_errors
from yibao.fhir.routes import router


def install_fhir(app: FastAPI) -> None:
    """The routes under ``/fhir/R4``, outside ``/api/v1`` and its OpenAPI document, and
    their errors as ``OperationOutcome``. Call last: it wraps the error handlers of the
    API and of the pages for the requests under ``/fhir/R4``."""
    app.include_router(router, include_in_schema=False)
    install_fhir_errors(app)
