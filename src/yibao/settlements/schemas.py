"""Request and response shapes of the hospital window. Money is text (yuan, 2 decimals)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Quantity = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
LineId = Annotated[str, Field(min_length=1, max_length=60)]
MsgId = Annotated[str, Field(min_length=1, max_length=60)]
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
    unit_price: Quantity


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


class SettleRequest(BaseModel):
    """Pre-settlement and settlement. ``on`` is the discharge / settlement day."""

    model_config = ConfigDict(extra="forbid")

    on: date | None = None
    liability: str | None = None
    msg_id: MsgId | None = None
    invoice_no: InvoiceNo | None = None


class ReverseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=400)] | None = None
    msg_id: MsgId | None = None


class ReverseByMessage(BaseModel):
    """Reverse what was sent under ``original_msg_id`` (like the national 2601 transaction)."""

    model_config = ConfigDict(extra="forbid")

    original_msg_id: MsgId
    msg_id: MsgId | None = None
    reason: Annotated[str, Field(max_length=400)] | None = None


class SettlementSummary(BaseModel):
    id: int
    kind: str
    state: str
    source: str
    reverses_id: int | None
    encounter_id: int | None
    person_id: int
    institution_id: int | None
    claim_date: date
    setting: str
    insured_region: str
    treatment_region: str
    total: str
    fund_pay_total: str
    account_pay: str
    cash_pay: str


class ClearingTotalsRead(BaseModel):
    year_month: str
    insured_region: str
    treatment_region: str
    settlements: int
    reversals: int
    total: str
    pool_fund_pay: str
    supplementary_pay: str
    assistance_pay: str
    fund_pay_total: str
    account_pay: str
    cash_pay: str
