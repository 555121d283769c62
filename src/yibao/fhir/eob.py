"""``ExplanationOfBenefit`` ← a stored settlement (结算单), every contract figure with its
reason, per line too (:func:`yibao.settlements.service.settlement_explained`)."""

from __future__ import annotations

from typing import Any

from yibao.clock import as_utc
from yibao.engine.phrases import Lang
from yibao.fhir import codes
from yibao.fhir.adjudication import (
    figures_of_stored,
    header_adjudications,
    item_class,
    line_adjudications,
    process_notes,
    product,
    quantity,
    totals,
    unit_price,
)
from yibao.fhir.claim import settlement_extensions
from yibao.fhir.common import concept, institution_ref, money_text, region_ref
from yibao.registry.models import Institution
from yibao.settlements.models import SettlementRecord

# settled → active; a settlement later reversed → cancelled; the reversal itself → active
_STATUS = {"settled": "active", "reversed": "cancelled", "reversal": "active"}


def eob_resource(
    row: SettlementRecord,
    explained: dict[str, Any],
    *,
    institution: Institution | None,
    lang: Lang,
) -> dict[str, Any]:
    """``explained`` is :func:`settlement_explained` of ``row`` in English (the reasons are
    read from it, then said in ``lang``)."""
    figures = figures_of_stored(explained)
    lines = line_adjudications(figures, lang)
    items = []
    for sequence, (line, adjudications) in enumerate(zip(figures.lines, lines, strict=True), 1):
        item: dict[str, Any] = {
            "sequence": sequence,
            "productOrService": product(line),
            "net": money_text(line.figures["amount"]),
            "adjudication": adjudications,
        }
        if line.line_id:
            item["extension"] = [{"url": codes.EXT_HOSPITAL_REF, "valueString": line.line_id}]
        for key, value in (
            ("category", item_class(line)),
            ("quantity", quantity(line)),
            ("unitPrice", unit_price(line)),
        ):
            if value is not None:
                item[key] = value
        items.append(item)
    provider = (
        institution_ref(institution.id, institution.code, institution.name)
        if institution is not None
        else region_ref(row.insured_region)
    )
    out: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": str(row.id),
        "identifier": [{"system": codes.SETTLEMENT, "value": str(row.id)}],
        "status": _STATUS.get(row.state, "active"),
        "type": concept(
            codes.HL7_CLAIM_TYPE,
            "institutional" if row.setting == "inpatient" else "professional",
        ),
        "subType": concept(codes.SETTING, row.setting),
        "use": "claim",
        "patient": {"reference": f"Patient/{row.person_id}"},
        "billablePeriod": {"start": row.claim_date.isoformat(), "end": row.claim_date.isoformat()},
        "created": as_utc(row.created_at).isoformat(),
        "insurer": region_ref(row.insured_region),
        "provider": provider,
        "outcome": "complete",
        "disposition": f"{row.kind} ({row.source}), state {row.state}",
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{row.person_id}"}}],
        "item": items,
        "adjudication": header_adjudications(figures, lang),
        "total": totals(figures),
        "processNote": process_notes(figures, lang),
    }
    if not out["item"]:
        del out["item"]
    extensions = settlement_extensions(figures) + _deposit(explained)
    if row.invoice_no:
        extensions.append({"url": codes.EXT_INVOICE, "valueString": row.invoice_no})
    if extensions:
        out["extension"] = extensions
    if row.reverses_id is not None:
        out["related"] = [
            {
                "relationship": concept(
                    "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "prior"
                ),
                "reference": {"system": codes.SETTLEMENT, "value": str(row.reverses_id)},
            }
        ]
    return out


def _deposit(explained: dict[str, Any]) -> list[dict[str, Any]]:
    """The inpatient deposit (押金), its refund and the cash still due, as stored."""
    if explained["deposit"] in ("0.00", "0"):
        return []
    return [
        {
            "url": codes.EXT_DEPOSIT,
            "extension": [
                {"url": name, "valueMoney": money_text(explained[name])}
                for name in ("deposit", "deposit_refund", "cash_due")
            ],
        }
    ]
