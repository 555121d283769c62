"""Shapes of recovery cases."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class CaseClose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recovered: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    note: Annotated[str, Field(max_length=400)] | None = None


class CaseRead(BaseModel):
    id: int
    settlement_id: int
    person_id: int
    insured_region: str
    treatment_region: str
    amount: str
    recovered: str
    outstanding: str
    state: str
    note: str | None
    opened_at: datetime
    closed_at: datetime | None
