"""Health and the caller's own identity."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from yibao.auth.deps import CurrentUser

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    person_id: int | None
    unit_id: int | None
    agency_id: int | None
    institution_id: int | None
    region_code: str | None


@router.get("/health", response_model=Health)
def health() -> Health:
    """Open to everyone: the service answers."""
    return Health(status="ok")


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The caller's user record and scope."""
    return Me.model_validate(user)
