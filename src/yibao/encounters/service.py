"""The hospital window (医院窗口): registration and admission, fee details, pre-settlement
and discharge settlement of an encounter.

Encounters sit above settlements: money is computed by the engine only, through
:func:`yibao.settlements.service.record_settlement` (and ``preview_settlement``), and a
reversal of the encounter's settlement reopens it through
:mod:`yibao.encounters.handlers`, never by settlements importing this package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.auth.models import User
from yibao.clock import business_date
from yibao.encounters import access
from yibao.encounters import repository as repo
from yibao.encounters.limits import (
    MAX_ENCOUNTER_TOTAL,
    MAX_LINE_AMOUNT,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
)
from yibao.encounters.models import Encounter, FeeLine
from yibao.encounters.states import (
    ENCOUNTER_OPEN,
    FEE_ACTIVE,
    encounter_next,
    fee_line_next,
)
from yibao.engine import Claim, ClaimLine, FilingInfo, Settlement
from yibao.engine.models import LONG_TERM_FILINGS, SETTINGS
from yibao.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yibao.filings import repository as filings_repo
from yibao.filings.service import local_use_suspended
from yibao.identity import validate_identity_number
from yibao.limits import check_limit
from yibao.money import from_e4, to_e4, to_fen
from yibao.policies.service import catalog_for
from yibao.registry.models import Institution, Person
from yibao.settlements.inputs import check_liability, filing_for, institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import preview_settlement, record_settlement

# --- encounters at the hospital window -------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeLineIn:
    line_id: str
    code: str
    quantity: Decimal
    unit_price: Decimal
    # The hospital's own code of the item (医疗机构目录编码), kept beside the catalog code.
    hospital_code: str | None = None


def find_patient(
    session: Session, *, identity_number: str | None = None, card_number: str | None = None
) -> Person:
    """The insured person by identity number or insurance card (one of the two)."""
    if bool(identity_number) == bool(card_number):
        raise ValidationFailed(
            "give exactly one of identity_number and card_number", code="person.lookup"
        )
    if identity_number:
        try:
            number = validate_identity_number(identity_number)
        except ValueError as exc:
            raise ValidationFailed(str(exc), code="person.identity_invalid") from None
        person = repo.person_by_identity(session, number)
    else:
        assert card_number is not None
        person = repo.person_by_card(session, card_number)
    if person is None:
        raise NotFound("no insured person with that identity or card", code="person.not_found")
    return person


def _institution(session: Session, institution_id: int, *, kind: str) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None or institution.kind != kind:
        raise Forbidden(f"institution {institution_id} is not a {kind}", code=f"{kind}.required")
    if not institution.designated:
        raise Forbidden(
            f"{institution.name} is not designated (定点)", code="institution.not_designated"
        )
    return institution


def register_encounter(
    session: Session,
    *,
    institution_id: int,
    setting: str,
    started_on: date,
    identity_number: str | None = None,
    card_number: str | None = None,
    deposit: Decimal = Decimal(0),
    emergency: bool = False,
    liability: str | None = None,
    hospital_ref: str | None = None,
    diagnosis: str | None = None,
    today: date | None = None,
    actor: Actor = None,
) -> Encounter:
    """Outpatient registration (门诊登记) or inpatient admission (入院登记) with the deposit.

    The day cannot lie in the future (China time), and a person is admitted as an
    inpatient at one hospital at a time.
    """
    if setting not in SETTINGS:
        raise ValidationFailed(f"unknown setting {setting!r}", code="encounter.setting")
    if deposit < 0:
        raise ValidationFailed("a deposit cannot be negative", code="encounter.deposit")
    _not_in_future(started_on, today, "started_on", code="encounter.date_future")
    institution = _institution(session, institution_id, kind="hospital")
    person = find_patient(session, identity_number=identity_number, card_number=card_number)
    if setting == "inpatient":
        open_stay = repo.open_admission(session, person_id=person.id)
        if open_stay is not None:
            raise Conflict(
                f"the patient is already admitted (encounter {open_stay.id} since "
                f"{open_stay.started_on.isoformat()}, not settled); discharge or cancel it first",
                code="encounter.already_admitted",
            )
    if hospital_ref is not None and repo.hospital_ref_taken(
        session, institution_id=institution_id, hospital_ref=hospital_ref
    ):
        raise ValidationFailed(
            f"visit number {hospital_ref!r} is already registered", code="encounter.duplicate"
        )
    encounter = Encounter(
        institution_id=institution.id,
        person_id=person.id,
        setting=setting,
        state=ENCOUNTER_OPEN,
        hospital_ref=hospital_ref,
        started_on=started_on,
        deposit_fen=to_fen(deposit),
        emergency=emergency,
        liability=check_liability(liability),
        diagnosis=diagnosis,
        created_by=getattr(actor, "id", None),
    )
    session.add(encounter)
    session.flush()
    record(
        session,
        actor=actor,
        action="encounter.register",
        entity="encounter",
        entity_id=encounter.id,
        before=None,
        after={"setting": setting, "person_id": person.id, "deposit": str(deposit)},
    )
    return encounter


def _not_in_future(day: date, today: date | None, field: str, *, code: str) -> None:
    today = today or business_date(datetime.now(UTC))
    if day > today:
        raise ValidationFailed(
            f"{field}: {day.isoformat()} is in the future (today is {today.isoformat()})",
            code=code,
            field=field,
        )


def cancel_encounter(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    reason: str,
    actor: Actor = None,
) -> Encounter:
    """Cancel a registration or admission made by mistake (登记撤销), with the reason; only
    while no settlement of it stands (a settled one is reversed first)."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    if not reason.strip():
        raise ValidationFailed("a cancellation needs a reason", code="encounter.reason")
    before = encounter.state
    repo.set_encounter_state(session, encounter, encounter_next(encounter.state, "cancel"))
    record(
        session,
        actor=actor,
        action="encounter.cancel",
        entity="encounter",
        entity_id=encounter.id,
        before={"state": before},
        after={"state": encounter.state, "reason": reason.strip()[:400]},
    )
    return encounter


def list_encounters(
    session: Session,
    *,
    actor: User | str,
    started_from: date | None = None,
    started_to: date | None = None,
    state: str | None = None,
    setting: str | None = None,
    person_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Encounter]:
    """A hospital's encounters (an admin's: all), newest first, filtered and paged."""
    return repo.list_encounters(
        session,
        institution_id=access.encounter_scope(actor),
        started_from=started_from,
        started_to=started_to,
        state=state,
        setting=setting,
        person_id=person_id,
        limit=limit,
        offset=offset,
    )


def own_encounter(
    session: Session, *, encounter_id: int, institution_id: int | None, lock: bool = False
) -> Encounter:
    encounter = repo.get_encounter(session, encounter_id, lock=lock)
    if institution_id is not None and encounter.institution_id != institution_id:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    return encounter


def upload_fees(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    lines: Sequence[FeeLineIn],
    actor: Actor = None,
) -> list[FeeLine]:
    """A batch of fee details; refused as a whole when a line id repeats or a code is unknown."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    encounter_next(encounter.state, "upload_fees")
    if not lines:
        raise ValidationFailed("a batch needs at least one line", code="fees.empty")
    _check_line_count(session, encounter.id, adding=len(lines))
    seen: set[str] = set()
    repeated: list[str] = []
    for line in lines:
        if line.line_id in seen:
            repeated.append(line.line_id)
        seen.add(line.line_id)
    repeated += sorted(repo.existing_line_ids(session, encounter.id, [x.line_id for x in lines]))
    if repeated:
        raise ValidationFailed(
            f"line ids already used: {', '.join(sorted(set(repeated)))}",
            code="fees.duplicate_line_id",
            line_ids=sorted(set(repeated)),
        )
    institution = session.get(Institution, encounter.institution_id)
    assert institution is not None
    catalog = catalog_for(session, region=institution.region_code, on=encounter.started_on)
    unknown = [
        line.line_id for line in lines if catalog.get(institution.region_code, line.code) is None
    ]
    if unknown:
        raise ValidationFailed(
            f"codes not in the catalog of {institution.region_code}, lines {', '.join(unknown)}",
            code="catalog.unknown_code",
            line_ids=unknown,
        )
    _check_amounts(session, encounter.id, lines)
    batch_no = 1 + max(
        (fl.batch_no for fl in repo.fee_lines(session, encounter.id, active_only=False)),
        default=0,
    )
    rows = [
        FeeLine(
            encounter_id=encounter.id,
            line_id=line.line_id,
            batch_no=batch_no,
            code=line.code,
            quantity_e4=to_e4(line.quantity),
            unit_price_e4=to_e4(line.unit_price),
            state=FEE_ACTIVE,
            hospital_code=line.hospital_code,
        )
        for line in lines
    ]
    session.add_all(rows)
    session.flush()
    record(
        session,
        actor=actor,
        action="encounter.upload_fees",
        entity="encounter",
        entity_id=encounter.id,
        before=None,
        after={"batch_no": batch_no, "lines": len(rows)},
    )
    return rows


def _check_line_count(session: Session, encounter_id: int, *, adding: int) -> None:
    """The encounter's active fee lines, the batch included, within
    ``fee_lines_per_encounter`` (:mod:`yibao.limits`); withdrawn lines do not count."""
    check_limit(
        repo.active_line_count(session, encounter_id) + adding,
        limit="fee_lines_per_encounter",
        what="active fee lines of this encounter",
        code="limit.fee_lines_per_encounter",
    )


def _check_amounts(session: Session, encounter_id: int, lines: Sequence[FeeLineIn]) -> None:
    """Every line and the encounter's total within :mod:`yibao.encounters.limits`."""
    total = sum(
        (
            from_e4(qty) * from_e4(price)
            for _, _, qty, price in repo.active_line_values(session, encounter_id)
        ),
        Decimal(0),
    )
    for index, line in enumerate(lines):
        where = f"lines[{index}] (line {line.line_id})"
        if line.quantity < 0 or line.unit_price < 0:
            raise ValidationFailed(f"{where}: negative quantity or price", code="fees.negative")
        if line.quantity > MAX_QUANTITY or line.unit_price > MAX_UNIT_PRICE:
            raise ValidationFailed(
                f"{where}: quantity at most {MAX_QUANTITY}, unit price at most {MAX_UNIT_PRICE}",
                code="fees.too_large",
            )
        amount = line.quantity * line.unit_price
        if amount > MAX_LINE_AMOUNT:
            raise ValidationFailed(
                f"{where}: amount {amount:.2f} is above the limit of {MAX_LINE_AMOUNT} a line",
                code="fees.too_large",
            )
        total += amount
    if total > MAX_ENCOUNTER_TOTAL:
        raise ValidationFailed(
            f"lines: the encounter would total {total:.2f}, above the limit of "
            f"{MAX_ENCOUNTER_TOTAL}",
            code="fees.encounter_too_large",
        )


def withdraw_fee(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    line_id: str,
    actor: Actor = None,
) -> FeeLine:
    """Withdraw one uploaded line (明细撤销) before settlement."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    encounter_next(encounter.state, "withdraw_fee")
    line = repo.fee_line(session, encounter_id=encounter.id, line_id=line_id)
    if line is None:
        raise NotFound(f"no fee line {line_id!r} in this encounter", code="fees.not_found")
    line.state = fee_line_next(line.state, "withdraw")
    record(
        session,
        actor=actor,
        action="encounter.withdraw_fee",
        entity="encounter",
        entity_id=encounter.id,
        before={"line_id": line_id, "state": FEE_ACTIVE},
        after={"line_id": line_id, "state": line.state},
    )
    session.flush()
    return line


def _home_filing(
    session: Session, *, person: Person, on: date, local_use_while_filed: bool | None
) -> FilingInfo | None:
    """For treatment at home: the long-term filing that applies, so the engine applies the
    policy's ``home_benefits_while_filed``; refused when the filing rules suspend the card
    at home while filed off-site (seed 001)."""
    if local_use_suspended(
        session, person_id=person.id, on=on, local_use_while_filed=local_use_while_filed
    ):
        raise ValidationFailed(
            "the card is suspended at home while a long-term off-site filing applies",
            code="settlement.local_use_suspended",
        )
    for filing in filings_repo.applying(session, person_id=person.id, on=on):
        if filing.category in LONG_TERM_FILINGS and filing.valid_from is not None:
            return FilingInfo(
                type=filing.category,
                destination=filing.destination,
                valid_from=filing.valid_from,
                valid_to=filing.valid_to,
            )
    return None


@dataclass(frozen=True, slots=True)
class EncounterClaim:
    claim: Claim
    person: Person
    institution: Institution
    account_person_id: int | None


def encounter_claim(
    session: Session,
    *,
    encounter: Encounter,
    on: date | None = None,
    liability: str | None = None,
    local_use_while_filed: bool | None = None,
    person: Person | None = None,
    institution: Institution | None = None,
    has_filings: bool = True,
    today: date | None = None,
) -> EncounterClaim:
    """The engine's claim from an encounter, its active fee lines and the database:
    the person, the institution, and the filing that applies on the day.

    ``has_filings=False`` (the caller knows the patient never filed) skips the filing
    look-ups: with no filing there is none that applies and none that suspends the card.
    """
    person = person or session.get(Person, encounter.person_id)
    institution = institution or session.get(Institution, encounter.institution_id)
    assert person is not None and institution is not None
    day = on or encounter.started_on
    if day < encounter.started_on:
        raise ValidationFailed(
            "the settlement date is before the admission", code="settlement.date"
        )
    _not_in_future(day, today, "on", code="settlement.date_future")
    lines = tuple(
        ClaimLine(code=code, quantity=from_e4(qty), unit_price=from_e4(price), line_id=line_id)
        for line_id, code, qty, price in repo.active_line_values(session, encounter.id)
    )
    if not lines:
        raise ValidationFailed("no fee details uploaded", code="settlement.no_lines")
    offsite = person.insured_region != institution.region_code
    if offsite and not institution.networked:
        raise ValidationFailed(
            f"{institution.name} is not networked for off-site direct settlement; "
            "the patient pays in full and claims manual reimbursement",
            code="settlement.not_networked",
        )
    filing: FilingInfo | None
    if not has_filings:
        filing = None
    elif offsite:
        filing = filing_for(
            session, person_id=person.id, on=day, treatment_region=institution.region_code
        )
    else:
        filing = _home_filing(
            session, person=person, on=day, local_use_while_filed=local_use_while_filed
        )
    claim = Claim(
        claim_id=f"encounter-{encounter.id}",
        date=day,
        setting="inpatient" if encounter.setting == "inpatient" else "outpatient",
        person=person_info(person),
        institution=institution_info(institution),
        lines=lines,
        filing=filing,
        emergency=encounter.emergency,
        liability=check_liability(liability if liability is not None else encounter.liability),
    )
    # The patient's own account pays (none, or no balance: nothing is paid from it).
    return EncounterClaim(claim, person, institution, person.id)


def pre_settle_encounter(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    on: date | None = None,
    liability: str | None = None,
    local_use_while_filed: bool | None = None,
    today: date | None = None,
) -> Settlement:
    """Pre-settlement (预结算): the full result, nothing stored."""
    encounter = own_encounter(session, encounter_id=encounter_id, institution_id=institution_id)
    encounter_next(encounter.state, "pre_settle")
    ec = encounter_claim(
        session,
        encounter=encounter,
        on=on,
        liability=liability,
        local_use_while_filed=local_use_while_filed,
        today=today,
    )
    return preview_settlement(
        session, claim=ec.claim, person_id=ec.person.id, account_person_id=ec.account_person_id
    )


def settle_encounter(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    on: date | None = None,
    liability: str | None = None,
    local_use_while_filed: bool | None = None,
    msg_id: str | None = None,
    invoice_no: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> tuple[SettlementRecord, Settlement]:
    """Discharge settlement (出院结算): store the result; the encounter is then settled.
    One path for every face: :func:`settle_encounter_checked` with the day given."""
    settled = settle_encounter_checked(
        session,
        encounter_id=encounter_id,
        institution_id=institution_id,
        check=lambda _encounter: on,
        liability=liability,
        local_use_while_filed=local_use_while_filed,
        msg_id=msg_id,
        invoice_no=invoice_no,
        actor=actor,
        now=now,
    )
    return settled.record, settled.result


@dataclass(frozen=True, slots=True)
class EncounterSettled:
    """A discharge settlement just stored, with the encounter, the patient and the hospital
    it was computed for (read once, under the encounter's lock)."""

    record: SettlementRecord
    result: Settlement
    encounter: Encounter
    person: Person
    institution: Institution


_MSG_ID_CONSTRAINT = ("uq_settlements_msg_id", "settlements.institution_id, settlements.msg_id")


def settle_encounter_checked(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    check: Callable[[Encounter], date | None] | None = None,
    liability: str | None = None,
    local_use_while_filed: bool | None = None,
    msg_id: str | None = None,
    invoice_no: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> EncounterSettled:
    """:func:`settle_encounter` for a face that checks the encounter itself (the national
    interface: its setting, its patient), in one read of the encounter:

    - ``check`` gets the locked encounter, the institution's own, before anything else;
      it may refuse (raise) and returns the settlement day (None: as ``on=None``);
    - a ``msg_id`` the institution used before is refused (``settlement.duplicate_msg_id``)
      by the unique constraint ``uq_settlements_msg_id`` when the settlement is stored,
      without a select first; the transaction is then rolled back, as after any error;
    - the patient and the hospital come back with the record and the result.
    """
    parties = repo.encounter_with_parties(session, encounter_id)
    encounter, person, institution = parties.encounter, parties.person, parties.institution
    if institution_id is not None and encounter.institution_id != institution_id:
        raise NotFound(f"encounter {encounter_id} not found", code="encounter.not_found")
    on = check(encounter) if check is not None else None
    new_state = encounter_next(encounter.state, "settle")
    ec = encounter_claim(
        session,
        encounter=encounter,
        on=on,
        liability=liability,
        local_use_while_filed=local_use_while_filed,
        person=person,
        institution=institution,
        has_filings=parties.has_filings,
        today=business_date(now) if now is not None else None,
    )
    try:
        stored, result = record_settlement(
            session,
            claim=ec.claim,
            person_id=ec.person.id,
            source="direct",
            institution_id=encounter.institution_id,
            account_person_id=ec.account_person_id,
            encounter_id=encounter.id,
            msg_id=msg_id,
            invoice_no=invoice_no,
            deposit_fen=encounter.deposit_fen,
            actor=actor,
            now=now,
        )
    except IntegrityError as exc:
        if msg_id is not None and any(name in str(exc.orig) for name in _MSG_ID_CONSTRAINT):
            raise ValidationFailed(
                f"message id {msg_id!r} was already used", code="settlement.duplicate_msg_id"
            ) from None
        raise
    repo.set_encounter_state(session, encounter, new_state)
    return EncounterSettled(stored, result, encounter, ec.person, institution)


# --- the HIS's own steps: visit information, discharge and its cancellation ------------


def record_visit(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    diagnosis: str | None,
    actor: Actor = None,
) -> Encounter:
    """Visit information (就诊信息上传): the main diagnosis (ICD-10) of an open encounter."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    encounter_next(encounter.state, "upload_fees")  # only while the encounter is open
    if diagnosis is not None and len(diagnosis) > 20:
        raise ValidationFailed(
            "diagnosis: a diagnosis code has at most 20 characters", code="encounter.diagnosis"
        )
    before = encounter.diagnosis
    encounter.diagnosis = diagnosis
    session.flush()
    record(
        session,
        actor=actor,
        action="encounter.visit",
        entity="encounter",
        entity_id=encounter.id,
        before={"diagnosis": before},
        after={"diagnosis": diagnosis},
    )
    return encounter


def record_discharge(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    on: date,
    today: date | None = None,
    actor: Actor = None,
) -> Encounter:
    """Discharge (出院办理) of an open inpatient admission: the day is the one its
    settlement is made on. Not before the admission, not in the future (China time)."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    encounter_next(encounter.state, "pre_settle")  # only while the encounter is open
    if encounter.setting != "inpatient":
        raise ValidationFailed(
            "only an inpatient admission is discharged", code="encounter.not_inpatient"
        )
    if on < encounter.started_on:
        raise ValidationFailed(
            f"the discharge day {on.isoformat()} is before the admission "
            f"({encounter.started_on.isoformat()})",
            code="encounter.discharge_date",
        )
    _not_in_future(on, today, "discharged_on", code="encounter.date_future")
    before = encounter.discharged_on
    encounter.discharged_on = on
    session.flush()
    record(
        session,
        actor=actor,
        action="encounter.discharge",
        entity="encounter",
        entity_id=encounter.id,
        before={"discharged_on": before.isoformat() if before else None},
        after={"discharged_on": on.isoformat()},
    )
    return encounter


def cancel_discharge(
    session: Session,
    *,
    encounter_id: int,
    institution_id: int | None,
    actor: Actor = None,
) -> Encounter:
    """Cancel a discharge (出院撤销) not yet settled: the patient is in hospital again."""
    encounter = own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id, lock=True
    )
    encounter_next(encounter.state, "pre_settle")  # only while the encounter is open
    if encounter.discharged_on is None:
        raise ValidationFailed(
            "the patient was not discharged; nothing to cancel", code="encounter.not_discharged"
        )
    before = encounter.discharged_on
    encounter.discharged_on = None
    session.flush()
    record(
        session,
        actor=actor,
        action="encounter.cancel_discharge",
        entity="encounter",
        entity_id=encounter.id,
        before={"discharged_on": before.isoformat()},
        after={"discharged_on": None},
    )
    return encounter
