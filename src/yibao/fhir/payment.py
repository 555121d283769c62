"""``PaymentReconciliation`` ← a confirmed clearing statement (清算单): what the insured
region's centre repays the treatment region for a month, per fund, as the clearing
service stored it (:func:`yibao.clearing.service.get_statement`,
:func:`~yibao.clearing.service.amount_due_fen`)."""

from __future__ import annotations

import calendar
from typing import Any

from yibao.clearing.models import ClearingStatement
from yibao.clearing.service import amount_due_fen
from yibao.clock import as_utc, business_date
from yibao.fhir import codes
from yibao.fhir.common import concept, money_fen, region_ref
from yibao.money import from_fen

# The funds the statement repays: each is one detail (the cash share was paid by the
# persons at the hospital and is not owed; it is shown as a note).
_FUNDS = (
    ("pool", "pool_fen", "统筹基金"),
    ("supplementary", "supplementary_fen", "大病保险/大额补助"),
    ("assistance", "assistance_fen", "医疗救助"),
    ("account", "account_fen", "个人账户"),
)


def payment_resource(row: ClearingStatement) -> dict[str, Any]:
    assert row.confirmed_at is not None
    year, month = (int(part) for part in row.year_month.split("-"))
    last_day = calendar.monthrange(year, month)[1]
    out: dict[str, Any] = {
        "resourceType": "PaymentReconciliation",
        "id": str(row.id),
        "identifier": [{"system": codes.STATEMENT, "value": str(row.id)}],
        "status": "active",
        "period": {"start": f"{row.year_month}-01", "end": f"{row.year_month}-{last_day:02d}"},
        "created": as_utc(row.confirmed_at).isoformat(),
        "paymentIssuer": region_ref(row.insured_region),
        "outcome": "complete",
        "disposition": f"clearing statement {row.year_month} {row.insured_region}→"
        f"{row.treatment_region}: {row.settlements} settlements, {row.reversals} reversals, "
        f"confirmed",
        "paymentDate": business_date(as_utc(row.confirmed_at)).isoformat(),
        "paymentAmount": money_fen(amount_due_fen(row)),
        "detail": [
            {
                "type": concept(codes.FUND, code, label),
                "payee": region_ref(row.treatment_region),
                "amount": money_fen(getattr(row, column)),
            }
            for code, column, label in _FUNDS
        ],
        "processNote": [
            {"type": "display", "text": f"total of the settlements: {from_fen(row.total_fen)}"},
            {"type": "display", "text": f"paid in cash by the persons: {from_fen(row.cash_fen)}"},
        ],
    }
    return out
