"""Request and response shapes of the hospital window (医院窗口). Money is text (yuan, 2
decimals); quantities and unit prices carry up to 4 decimals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.encounters.limits import MAX_QUANTITY, MAX_UNIT_PRICE
from yibao.settlements.schemas import MsgId

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Quantity = Annotated[
    Decimal,
    Field(ge=0, le=MAX_QUANTITY, decimal_places=4, description=f"at most {MAX_QUANTITY}"),
]
UnitPrice = Annotated[
    Decimal,
    Field(ge=0, le=MAX_UNIT_PRICE, decimal_places=4, description=f"at most {MAX_UNIT_PRICE}"),
]
LineId = Annotated[str, Field(min_length=1, max_length=60)]
InvoiceNo = Annotated[str, Field(min_length=1, max_length=60, description="发票号 on the receipt")]


class EncounterCreate(BaseModel):
    """Registration (outpatient) or admission (inpatient) by identity number or card."""

    model_config = ConfigDict(extra="forbid")

    identity_number: str | None = None
    card_number: str | None = None
    setting: Literal["inpatient", "outpatient"]
    started_on: date | None = None
    deposit: Money = Decimal("0")
    emergency: bool = False
    liability: str | None = None
    hospital_ref: Annotated[str, Field(max_length=60)] | None = None
    diagnosis: Annotated[str, Field(max_length=20)] | None = None


class FeeLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: LineId
    code: Annotated[str, Field(min_length=1, max_length=60)]
    quantity: Quantity
    unit_price: UnitPrice


class FeeBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: Annotated[list[FeeLineCreate], Field(min_length=1, max_length=2000)]


class FeeLineRead(BaseModel):
    line_id: str
    batch_no: int
    code: str
    quantity: str
    unit_price: str
    state: str


class EncounterRead(BaseModel):
    id: int
    institution_id: int
    person_id: int
    setting: str
    state: str
    hospital_ref: str | None
    started_on: date
    deposit: str
    emergency: bool
    liability: str | None
    fee_lines: list[FeeLineRead] = []
    settlement_id: int | None = None


class EncounterCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=400)]


class SettleRequest(BaseModel):
    """Pre-settlement and settlement. ``on`` is the discharge / settlement day."""

    model_config = ConfigDict(extra="forbid")

    on: date | None = None
    liability: str | None = None
    msg_id: MsgId | None = None
    invoice_no: InvoiceNo | None = None
