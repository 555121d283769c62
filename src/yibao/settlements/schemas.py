"""Request and response shapes of stored settlements and their reversal. Money is text
(yuan, 2 decimals); the hospital window's shapes are in :mod:`yibao.encounters.schemas`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MsgId = Annotated[str, Field(min_length=1, max_length=60)]


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
