"""Pharmacy sales (定点零售药店购药) against the insurance card.

Catalog drugs only: each line that is not a class A/B drug of the pharmacy region's
catalog is refused with its reason and the rest is settled (outpatient, by the engine).
Buying for another person needs that person's identity record. The card holder's personal
account pays for a spouse, parent or child when the holder's policy allows family sharing
(门诊共济, ``account.family_sharing``); otherwise the account does not pay for others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.encounters.service import FeeLineIn, find_patient
from yibao.engine import Claim, ClaimLine, Settlement, choose_policy
from yibao.errors import NotFound, ValidationFailed
from yibao.identity import mask_identity_number
from yibao.pharmacy import access
from yibao.pharmacy.models import PharmacySale
from yibao.pharmacy.states import refusal_reason, sale_next
from yibao.policies.service import catalog_for
from yibao.registry.models import Account, FamilyLink, Institution, Person
from yibao.settlements import inputs
from yibao.settlements import service as settlements
from yibao.settlements.models import SettlementRecord
from yibao.settlements.repository import settlement_by_msg_id


@dataclass(frozen=True, slots=True)
class Refusal:
    line_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class SaleOutcome:
    sale: PharmacySale
    settlement: SettlementRecord
    result: Settlement
    refused: list[Refusal]
    notes: list[str] = field(default_factory=list)


def screen_lines(
    session: Session, *, region: str, on: date, lines: Sequence[FeeLineIn]
) -> tuple[list[FeeLineIn], list[Refusal]]:
    """Split a basket into sellable lines and refusals, one reason per refused line."""
    catalog = catalog_for(session, region=region, on=on)
    accepted: list[FeeLineIn] = []
    refused: list[Refusal] = []
    seen: set[str] = set()
    for line in lines:
        if line.line_id in seen:
            refused.append(Refusal(line.line_id, line.code, "line id repeated in this sale"))
            continue
        seen.add(line.line_id)
        item = catalog.get(region, line.code)
        reason = refusal_reason(item.kind if item else None, item.item_class if item else None)
        if reason is None and (line.quantity <= 0 or line.unit_price < 0):
            reason = "quantity must be positive and price not negative"
        if reason is None:
            accepted.append(line)
        else:
            refused.append(Refusal(line.line_id, line.code, reason))
    return accepted, refused


def _related(session: Session, a: int, b: int) -> bool:
    link = session.execute(
        select(FamilyLink.id).where(
            or_(
                (FamilyLink.person_id == a) & (FamilyLink.relative_id == b),
                (FamilyLink.person_id == b) & (FamilyLink.relative_id == a),
            )
        )
    ).first()
    return link is not None


def _family_sharing_allowed(
    session: Session, *, holder: Person, pharmacy: Institution, on: date
) -> bool:
    """Whether the holder's own policy lets the account pay for family (policy data)."""
    probe = Claim(
        claim_id="family-sharing-check",
        date=on,
        setting="outpatient",
        person=inputs.person_info(holder),
        institution=inputs.institution_info(pharmacy),
        lines=(),
    )
    rules = inputs.rules_for(
        session,
        insured_region=holder.insured_region,
        treatment_region=pharmacy.region_code,
        on=on,
    )
    policy, _problem = choose_policy(probe, rules.policies)
    return bool(policy and policy.account and policy.account.family_sharing)


def sell(
    session: Session,
    *,
    institution_id: int,
    lines: Sequence[FeeLineIn],
    identity_number: str | None = None,
    card_number: str | None = None,
    patient_identity_number: str | None = None,
    msg_id: str | None = None,
    on: date | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> SaleOutcome:
    """Settle a pharmacy basket for the card holder or, with their identity, another person."""
    pharmacy = session.get(Institution, institution_id)
    if pharmacy is None or pharmacy.kind != "pharmacy":
        raise ValidationFailed("sales are made by designated pharmacies", code="pharmacy.required")
    if not pharmacy.designated:
        raise ValidationFailed(f"{pharmacy.name} is not designated", code="pharmacy.required")
    holder = find_patient(session, identity_number=identity_number, card_number=card_number)
    patient = holder
    if patient_identity_number:
        try:
            patient = find_patient(session, identity_number=patient_identity_number)
        except NotFound:
            raise ValidationFailed(
                "buying for another person requires that person's identity record; "
                "no insured person has that identity number",
                code="pharmacy.patient_unknown",
            ) from None
    at = now or datetime.now(UTC)
    day = on or at.date()
    accepted, refused = screen_lines(session, region=pharmacy.region_code, on=day, lines=lines)
    if not accepted:
        raise ValidationFailed(
            "nothing in this basket can be sold against the card",
            code="pharmacy.nothing_sellable",
            refused=[_refusal_dict(r) for r in refused],
        )
    notes: list[str] = []
    account_person_id: int | None
    if patient.id == holder.id:
        account_person_id = holder.id
    elif _related(session, holder.id, patient.id) and _family_sharing_allowed(
        session, holder=holder, pharmacy=pharmacy, on=day
    ):
        account_person_id = holder.id
        notes.append("the card holder's personal account pays for a family member (门诊共济)")
    else:
        account_person_id = None
        notes.append(
            "the card holder's account may not pay for this person "
            "(not a family member, or the holder's policy does not share the account)"
        )
    if account_person_id is not None and session.get(Account, account_person_id) is None:
        account_person_id = None
    if msg_id is not None and settlement_by_msg_id(
        session, institution_id=pharmacy.id, msg_id=msg_id
    ):
        raise ValidationFailed(
            f"message id {msg_id!r} was already used", code="settlement.duplicate_msg_id"
        )
    claim = Claim(
        claim_id=f"pharmacy-{pharmacy.id}-{msg_id or at.strftime('%Y%m%d%H%M%S%f')}",
        date=day,
        setting="outpatient",
        person=inputs.person_info(patient),
        institution=inputs.institution_info(pharmacy),
        lines=tuple(
            ClaimLine(
                code=line.code,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_id=line.line_id,
            )
            for line in accepted
        ),
        filing=inputs.filing_for(
            session, person_id=patient.id, on=day, treatment_region=pharmacy.region_code
        ),
    )
    stored, result = settlements.record_settlement(
        session,
        claim=claim,
        person_id=patient.id,
        source="pharmacy",
        institution_id=pharmacy.id,
        account_person_id=account_person_id,
        msg_id=msg_id,
        actor=actor,
        now=at,
    )
    sale = PharmacySale(
        institution_id=pharmacy.id,
        settlement_id=stored.id,
        holder_person_id=holder.id,
        patient_person_id=patient.id,
        account_person_id=stored.account_person_id,
        buyer_identity_masked=mask_identity_number(patient.identity_number)
        if patient.id != holder.id
        else None,
        state="settled",
        refused=json.dumps([_refusal_dict(r) for r in refused], ensure_ascii=False),
        created_at=at,
    )
    session.add(sale)
    session.flush()
    record(
        session,
        actor=actor,
        action="pharmacy.sell",
        entity="pharmacy_sale",
        entity_id=sale.id,
        before=None,
        after={"settlement_id": stored.id, "refused": len(refused), "for_other": patient != holder},
        at=at,
    )
    return SaleOutcome(sale, stored, result, refused, notes)


def _refusal_dict(refusal: Refusal) -> dict[str, Any]:
    return {"line_id": refusal.line_id, "code": refusal.code, "reason": refusal.reason}


def get_sale(session: Session, *, sale_id: int, institution_id: int | None) -> PharmacySale:
    return access.readable_sale(
        session.get(PharmacySale, sale_id), ref=sale_id, institution_id=institution_id
    )


def mark_reversed(session: Session, *, settlement_id: int) -> None:
    """Called by the settlement reversal: the sale's drugs were returned (退药)."""
    sale = session.execute(
        select(PharmacySale).where(PharmacySale.settlement_id == settlement_id)
    ).scalar_one_or_none()
    if sale is not None:
        sale.state = sale_next(sale.state, "reverse")
