"""The rows of a settlement, of its lines and of its reversal, from the engine's result.

No queries here: :mod:`yibao.settlements.service` stores what these build.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from yibao.audit.service import Actor
from yibao.clock import business_month
from yibao.engine import Claim, ClaimLine, Settlement, result_to_dict
from yibao.engine.render import MONEY_FIELDS
from yibao.invoices import normalise_invoice_number
from yibao.money import to_e4, to_fen
from yibao.settlements.models import SettlementLine, SettlementRecord
from yibao.settlements.states import SETTLEMENT_REVERSAL, deposit_outcome

_MONEY = MONEY_FIELDS


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a new settlement comes from: who, which institution and window, which message."""

    source: str
    person_id: int
    account_person_id: int | None
    institution_id: int | None
    encounter_id: int | None
    msg_id: str | None
    invoice_no: str | None


def settlement_record(
    claim: Claim,
    result: Settlement,
    delta: dict[str, Any],
    origin: Origin,
    deposit_fen: int,
    balance_fen: int | None,
    *,
    actor: Actor,
    at: datetime,
) -> SettlementRecord:
    """The row of a new settlement: the engine's result in fen and where it came from."""
    amounts = {f"{name}_fen": to_fen(getattr(result, name)) for name in _MONEY}
    account_pay = amounts["account_pay_fen"]
    if account_pay and (balance_fen is None or balance_fen < account_pay):
        raise AssertionError("the engine paid more from the account than its balance")
    refund, due = deposit_outcome(deposit_fen, amounts["cash_pay_fen"])
    return SettlementRecord(
        kind="settlement",
        state="settled",
        source=origin.source,
        encounter_id=origin.encounter_id,
        person_id=origin.person_id,
        account_person_id=origin.account_person_id if account_pay else None,
        institution_id=origin.institution_id,
        msg_id=origin.msg_id,
        invoice_no=normalise_invoice_number(origin.invoice_no) if origin.invoice_no else None,
        claim_id=claim.claim_id,
        claim_date=claim.date,
        year=claim.date.year,
        year_month=business_month(at),
        setting=claim.setting,
        insured_region=claim.person.insured_region,
        treatment_region=claim.institution.region,
        offsite_status=result.offsite_status,
        policy_id=result.policy_id,
        liability=claim.liability,
        deposit_fen=deposit_fen,
        deposit_refund_fen=refund,
        cash_due_fen=due,
        acc_delta=json.dumps(delta, sort_keys=True),
        result_json=json.dumps(result_to_dict(result, explain=True), ensure_ascii=False),
        created_by=getattr(actor, "id", None),
        created_at=at,
        **amounts,
    )


def line_rows(lines: Sequence[ClaimLine], result: Settlement) -> list[dict[str, Any]]:
    """The rows of a new settlement's lines: each claim line as the engine classified it."""
    return [
        {
            "line_no": index,
            "line_id": line.line_id,
            "code": line.code,
            "name": res.name,
            "item_class": res.item_class,
            "quantity_e4": to_e4(line.quantity),
            "unit_price_e4": to_e4(line.unit_price),
            "amount_fen": to_fen(res.amount),
            "full_self_pay_fen": to_fen(res.full_self_pay),
            "over_limit_self_pay_fen": to_fen(res.over_limit_self_pay),
            "pre_self_pay_fen": to_fen(res.pre_self_pay),
            "in_scope_fen": to_fen(res.in_scope),
            "not_eligible_reason": (res.not_eligible_reason or None)
            and res.not_eligible_reason[:200],
        }
        for index, (line, res) in enumerate(zip(lines, result.lines, strict=True), start=1)
    ]


def reversal_record(
    original: SettlementRecord,
    *,
    msg_id: str | None,
    reason: str | None,
    actor: Actor,
    at: datetime,
) -> SettlementRecord:
    """The reversal's row: the original's facts with every amount negated."""
    negated = {f"{name}_fen": -getattr(original, f"{name}_fen") for name in _MONEY}
    return SettlementRecord(
        kind="reversal",
        state=SETTLEMENT_REVERSAL,
        source=original.source,
        reverses_id=original.id,
        encounter_id=original.encounter_id,
        person_id=original.person_id,
        account_person_id=original.account_person_id,
        institution_id=original.institution_id,
        msg_id=msg_id,
        claim_id=original.claim_id,
        claim_date=original.claim_date,
        year=original.year,
        year_month=business_month(at),
        setting=original.setting,
        insured_region=original.insured_region,
        treatment_region=original.treatment_region,
        offsite_status=original.offsite_status,
        policy_id=original.policy_id,
        liability=original.liability,
        deposit_fen=0,
        deposit_refund_fen=0,
        cash_due_fen=0,
        acc_delta=original.acc_delta,
        result_json=original.result_json,
        reason=(reason or None) and reason[:400],
        created_by=getattr(actor, "id", None),
        created_at=at,
        **negated,
    )


def negated_line_rows(lines: Sequence[SettlementLine]) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "line_id": line.line_id,
            "code": line.code,
            "name": line.name,
            "item_class": line.item_class,
            "quantity_e4": line.quantity_e4,
            "unit_price_e4": line.unit_price_e4,
            "amount_fen": -line.amount_fen,
            "full_self_pay_fen": -line.full_self_pay_fen,
            "over_limit_self_pay_fen": -line.over_limit_self_pay_fen,
            "pre_self_pay_fen": -line.pre_self_pay_fen,
            "in_scope_fen": -line.in_scope_fen,
            "not_eligible_reason": line.not_eligible_reason,
        }
        for line in lines
    ]
