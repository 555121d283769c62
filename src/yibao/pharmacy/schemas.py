"""Request and response shapes of pharmacy sales."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from yibao.encounters.schemas import FeeLineCreate
from yibao.settlements.schemas import MsgId


class SaleCreate(BaseModel):
    """The card holder (card or identity number) and, when buying for another person,
    that person's identity number."""

    model_config = ConfigDict(extra="forbid")

    card_number: str | None = None
    identity_number: str | None = None
    patient_identity_number: str | None = None
    on: date | None = None
    msg_id: MsgId | None = None
    lines: Annotated[list[FeeLineCreate], Field(min_length=1, max_length=500)]


class RefusedLine(BaseModel):
    line_id: str
    code: str
    reason: str


class SaleRead(BaseModel):
    id: int
    state: str
    institution_id: int
    holder_person_id: int
    patient_person_id: int
    account_person_id: int | None
    buyer_identity_masked: str | None
    refused: list[RefusedLine]
    notes: list[str] = []
    settlement: dict[str, object]
