"""``Claim/$submit``: a hospital's bill, pre-settled (``use: predetermination``) or settled
(``use: claim``) through the hospital window's own services, answered as a
``ClaimResponse``.

How a Claim maps onto the window (docs/fhir.md, "Claim"): the Claim is a whole visit or
stay. ``$submit`` registers it (:func:`yibao.encounters.service.register_encounter`, the
patient by identity number or card, the setting from ``subType``, the start from
``billablePeriod.start``, the deposit from an extension), uploads every ``item`` as one
batch of fee lines (:func:`~yibao.encounters.service.upload_fees`: the line id is the
item's ``sequence``, the code its catalog code), then pre-settles
(:func:`~yibao.encounters.service.pre_settle_encounter`) or settles
(:func:`~yibao.encounters.service.settle_encounter`) on ``billablePeriod.end`` — exactly
the calls of the REST window flow, in the request's one transaction. A predetermination
runs inside a savepoint that is always rolled back: it stores nothing, not even the
encounter. A settlement is exactly-once through :mod:`yibao.settlements.idempotency`,
keyed by the ``Idempotency-Key`` header or else the Claim's first identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B.claim import Claim
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.encounters import service as encounters
from yibao.engine.phrases import Lang
from yibao.fhir import codes
from yibao.fhir.adjudication import (
    Figures,
    figures_of_result,
    figures_of_stored,
    header_adjudications,
    line_adjudications,
    process_notes,
    totals,
)
from yibao.fhir.common import concept, institution_ref, target
from yibao.fhir.errors import FhirProblem
from yibao.registry import access as registry_access
from yibao.registry import service as registry
from yibao.registry.models import Institution
from yibao.settlements import service as settlements

_SETTINGS = ("inpatient", "outpatient")
_TYPE_SETTING = {"institutional": "inpatient", "professional": "outpatient"}
MAX_LINE_ID = 60


@dataclass(frozen=True, slots=True)
class ClaimIntake:
    """What the window's services need, read from a Claim field by field."""

    use: str
    setting: str
    identity_number: str | None
    card_number: str | None
    started_on: date | None
    on: date | None
    lines: list[encounters.FeeLineIn]
    deposit: Decimal
    emergency: bool
    liability: str | None
    diagnosis: str | None
    hospital_ref: str | None
    invoice_no: str | None
    identifier: str | None  # the Claim's first identifier, "system|value"
    msg_id: str | None


def _problem(message: str, where: str, code: str = "fhir.claim") -> FhirProblem:
    return FhirProblem(422, f"{where}: {message}", code=code, expression=[where])


def _setting(claim: Claim) -> str:
    sub = claim.subType
    if sub is not None:
        for c in sub.coding or []:
            if c.system == codes.SETTING and c.code in _SETTINGS:
                return str(c.code)
        raise _problem(
            f"give the setting as a coding of {codes.SETTING} (inpatient or outpatient)",
            "Claim.subType",
        )
    for c in claim.type.coding or []:
        if c.system == codes.HL7_CLAIM_TYPE and c.code in _TYPE_SETTING:
            return _TYPE_SETTING[str(c.code)]
    raise _problem(
        "say whether it is inpatient or outpatient: Claim.subType with "
        f"{codes.SETTING}, or Claim.type institutional (inpatient) / professional (outpatient)",
        "Claim.type",
    )


def _extension(claim: Claim, url: str) -> Any:
    for ext in claim.extension or []:
        if ext.url == url:
            return ext
    return None


def _code(item: Any, index: int) -> str:
    where = f"Claim.item[{index}].productOrService"
    codings = item.productOrService.coding or []
    ours = [c for c in codings if c.system == codes.CATALOG and c.code]
    if not ours:
        ours = [c for c in codings if c.system is None and c.code]
    if len(ours) != 1:
        raise _problem(
            f"give exactly one catalog code (a coding of {codes.CATALOG})",
            where,
            "fhir.claim_item_code",
        )
    return str(ours[0].code)


def _lines(claim: Claim) -> list[encounters.FeeLineIn]:
    if not claim.item:
        raise _problem("a claim needs at least one item", "Claim.item", "fees.empty")
    lines = []
    for index, item in enumerate(claim.item):
        where = f"Claim.item[{index}]"
        quantity = item.quantity.value if item.quantity and item.quantity.value is not None else 1
        if item.unitPrice is None or item.unitPrice.value is None:
            raise _problem("unitPrice is required", f"{where}.unitPrice")
        if item.unitPrice.currency not in (None, codes.CURRENCY):
            raise _problem(f"the currency is {codes.CURRENCY}", f"{where}.unitPrice.currency")
        try:
            qty, price = Decimal(str(quantity)), Decimal(str(item.unitPrice.value))
        except InvalidOperation:
            raise _problem("not a number", where) from None
        line_id = str(item.sequence)
        if len(line_id) > MAX_LINE_ID:
            raise _problem("the sequence is too long", f"{where}.sequence")
        lines.append(encounters.FeeLineIn(line_id, _code(item, index), qty, price))
    return lines


def _patient(session: Session, actor: User, claim: Claim) -> tuple[str | None, str | None]:
    """The identity number or card the window registers the patient with."""
    found = target(claim.patient, expected="Patient", where="Claim.patient")
    if found.resource_id is not None:
        person = registry_access.visible_person(session, actor=actor, person_id=found.resource_id)
        return person.identity_number, None
    if found.system == codes.RESIDENT_ID:
        return found.value, None
    if found.system == codes.INSURANCE_CARD:
        return None, found.value
    raise _problem(
        f"identify the patient by {codes.RESIDENT_ID} or {codes.INSURANCE_CARD}",
        "Claim.patient.identifier.system",
    )


def own_institution(session: Session, actor: User, reference: Any, *, where: str) -> Institution:
    """The actor's own institution, which ``reference`` (when given) must name."""
    institution = registry.get_institution(
        session, institution_id=registry_access.institution_of(actor)
    )
    if reference is None:
        return institution
    found = target(reference, expected="Organization", where=where)
    same = (
        found.resource_id == institution.id
        if found.resource_id is not None
        else found.system == codes.INSTITUTION and found.value == institution.code
    )
    if not same:
        raise FhirProblem(
            403,
            f"{where}: a hospital submits for its own institution only "
            f"({codes.INSTITUTION}|{institution.code})",
            code="fhir.other_institution",
            issue_type="forbidden",
            expression=[where],
        )
    return institution


def read_claim(session: Session, actor: User, claim: Claim) -> ClaimIntake:
    use = str(claim.use)
    if use not in ("claim", "predetermination"):
        raise _problem(
            f"use {use!r} is not supported: predetermination pre-settles, claim settles",
            "Claim.use",
            "fhir.claim_use",
        )
    identity_number, card_number = _patient(session, actor, claim)
    period = claim.billablePeriod
    started_on = period.start if period is not None else None
    ended_on = period.end if period is not None else None
    deposit_ext = _extension(claim, codes.EXT_DEPOSIT)
    deposit = Decimal(0)
    if deposit_ext is not None and deposit_ext.valueMoney is not None:
        deposit = Decimal(str(deposit_ext.valueMoney.value or 0))
    emergency_ext = _extension(claim, codes.EXT_EMERGENCY)
    liability_ext = _extension(claim, codes.EXT_LIABILITY)
    invoice_ext = _extension(claim, codes.EXT_INVOICE)
    visit_ext = _extension(claim, codes.EXT_HOSPITAL_REF)
    diagnosis = None
    for dx in claim.diagnosis or []:
        cc = dx.diagnosisCodeableConcept
        if cc is not None and cc.coding:
            diagnosis = cc.coding[0].code
            break
    identifier = None
    msg_id = None
    if claim.identifier:
        first = claim.identifier[0]
        if first.value:
            identifier = f"{first.system or ''}|{first.value}"
            msg_id = str(first.value)
    return ClaimIntake(
        use=use,
        setting=_setting(claim),
        identity_number=identity_number,
        card_number=card_number,
        started_on=_day(started_on),
        on=_day(ended_on),
        lines=_lines(claim),
        deposit=deposit,
        emergency=bool(emergency_ext.valueBoolean) if emergency_ext is not None else False,
        liability=(str(liability_ext.valueCode) if liability_ext is not None else None),
        diagnosis=str(diagnosis) if diagnosis else None,
        hospital_ref=(str(visit_ext.valueString) if visit_ext is not None else None),
        invoice_no=(str(invoice_ext.valueString) if invoice_ext is not None else None),
        identifier=identifier,
        msg_id=msg_id if msg_id and len(msg_id) <= 60 else None,
    )


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True, slots=True)
class Adjudicated:
    figures: Figures
    settlement_id: int | None
    encounter_id: int | None
    person_id: int
    institution: Institution
    claim_date: date


def _register(
    session: Session, actor: User, intake: ClaimIntake, institution: Institution, today: date
) -> int:
    encounter = encounters.register_encounter(
        session,
        institution_id=institution.id,
        setting=intake.setting,
        started_on=intake.started_on or today,
        identity_number=intake.identity_number,
        card_number=intake.card_number,
        deposit=intake.deposit,
        emergency=intake.emergency,
        liability=intake.liability,
        hospital_ref=intake.hospital_ref,
        diagnosis=intake.diagnosis,
        today=today,
        actor=actor,
    )
    encounters.upload_fees(
        session,
        encounter_id=encounter.id,
        institution_id=institution.id,
        lines=intake.lines,
        actor=actor,
    )
    return encounter.id


def predetermine(
    session: Session,
    actor: User,
    intake: ClaimIntake,
    institution: Institution,
    *,
    today: date,
    local_use_while_filed: bool | None,
) -> Adjudicated:
    """Pre-settlement (预结算) of the whole Claim; nothing is stored."""
    savepoint = session.begin_nested()
    try:
        encounter_id = _register(session, actor, intake, institution, today)
        person_id = encounters.own_encounter(
            session, encounter_id=encounter_id, institution_id=institution.id
        ).person_id
        result = encounters.pre_settle_encounter(
            session,
            encounter_id=encounter_id,
            institution_id=institution.id,
            on=intake.on or today,
            liability=intake.liability,
            local_use_while_filed=local_use_while_filed,
            today=today,
        )
    finally:
        savepoint.rollback()
    sent = {line.line_id: (_plain(line.quantity), _plain(line.unit_price)) for line in intake.lines}
    return Adjudicated(
        figures=figures_of_result(result, quantities=sent),
        settlement_id=None,
        encounter_id=None,
        person_id=person_id,
        institution=institution,
        claim_date=intake.on or today,
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def settle(
    session: Session,
    actor: User,
    intake: ClaimIntake,
    institution: Institution,
    *,
    today: date,
    now: datetime,
    local_use_while_filed: bool | None,
) -> Adjudicated:
    """Discharge settlement (出院结算) of the whole Claim, stored."""
    encounter_id = _register(session, actor, intake, institution, today)
    stored, _result = encounters.settle_encounter(
        session,
        encounter_id=encounter_id,
        institution_id=institution.id,
        on=intake.on or today,
        liability=intake.liability,
        msg_id=intake.msg_id,
        invoice_no=intake.invoice_no,
        local_use_while_filed=local_use_while_filed,
        actor=actor,
        now=now,
    )
    explained = settlements.settlement_explained(session, record_=stored, lang="en")
    return Adjudicated(
        figures=figures_of_stored(explained),
        settlement_id=stored.id,
        encounter_id=encounter_id,
        person_id=stored.person_id,
        institution=institution,
        claim_date=stored.claim_date,
    )


def claim_response(
    adjudicated: Adjudicated,
    intake: ClaimIntake,
    claim: Claim,
    *,
    lang: Lang,
    created: datetime,
) -> dict[str, Any]:
    figures = adjudicated.figures
    institution = adjudicated.institution
    settled = figures.status == "settled"
    lines = line_adjudications(figures, lang) if settled else []
    out: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": claim.type.model_dump(mode="json", exclude_none=True),
        "subType": concept(codes.SETTING, intake.setting),
        "use": intake.use,
        "patient": {"reference": f"Patient/{adjudicated.person_id}"},
        "created": created.isoformat(),
        "insurer": {"display": "Yibao"},
        "requestor": institution_ref(institution.id, institution.code, institution.name),
        "outcome": "complete" if settled else "error",
        "disposition": (
            ("settled" if intake.use == "claim" else "pre-settled, nothing stored")
            if settled
            else f"rejected: {figures.reason}"
        ),
        "processNote": process_notes(figures, lang),
    }
    if claim.identifier:
        out["request"] = {
            "type": "Claim",
            "identifier": claim.identifier[0].model_dump(mode="json", exclude_none=True),
        }
    if adjudicated.settlement_id is not None:
        out["id"] = str(adjudicated.settlement_id)
        out["identifier"] = [{"system": codes.SETTLEMENT, "value": str(adjudicated.settlement_id)}]
    extensions = settlement_extensions(figures)
    if extensions:
        out["extension"] = extensions
    if settled:
        out["item"] = [
            {"itemSequence": _sequence(line.line_id, index), "adjudication": adjudications}
            for index, (line, adjudications) in enumerate(
                zip(figures.lines, lines, strict=True), start=1
            )
        ]
        out["adjudication"] = header_adjudications(figures, lang)
        out["total"] = totals(figures)
    else:
        out["error"] = [{"code": concept(codes.REASON, "rejected", figures.reason or "rejected")}]
    return out


def settlement_extensions(figures: Figures) -> list[dict[str, Any]]:
    """The off-site status the engine found and the policy it applied."""
    out: list[dict[str, Any]] = []
    if figures.offsite_status:
        out.append(
            {
                "url": codes.EXT_OFFSITE_STATUS,
                "valueCoding": {"system": codes.OFFSITE_STATUS, "code": figures.offsite_status},
            }
        )
    if figures.policy_id:
        out.append({"url": codes.EXT_POLICY, "valueString": figures.policy_id})
    return out


def _sequence(line_id: str | None, index: int) -> int:
    if line_id is not None and line_id.isdigit() and int(line_id) > 0:
        return int(line_id)
    return index
