"""Users as the API shows them (never a token hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["insured", "unit", "street_office", "agency", "hospital", "admin"]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    person_id: int | None
    unit_id: int | None
    agency_id: int | None
    institution_id: int | None
    region_code: str | None
    active: bool
    created_at: datetime


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    person_id: int | None = None
    unit_id: int | None = None
    agency_id: int | None = None
    institution_id: int | None = None
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")


class UserCreated(UserRead):
    token: str = Field(description="The bearer token; shown this once, stored only hashed")
