"""The hospital window's pages (医保窗口): find a patient, admit or register a visit, upload
the fee lines, pre-settle, settle and print the settlement slip.

Every page calls the same services as the API's routes (``/persons/lookup``,
``/encounters``), with the signed-in hospital user as the actor; no access or filing rule
is written here. A service's error is shown on the form that caused it (the savepoint
around the call is rolled back), with the service's own message and code.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.auth.models import User
from yibao.clock import business_date
from yibao.encounters import repository as encounter_repo
from yibao.encounters import service as encounters
from yibao.encounters.models import Encounter
from yibao.engine import explanation_lines, result_to_dict
from yibao.engine.render import MONEY_FIELDS
from yibao.errors import ValidationFailed
from yibao.filings.coverage import filing_info_for
from yibao.identity import mask_identity_number
from yibao.money import from_e4, from_fen, to_fen
from yibao.pharmacy import service as pharmacy
from yibao.policies import service as policies
from yibao.policies.models import CatalogVersion
from yibao.registry import service as registry
from yibao.registry.access import institution_of
from yibao.registry.models import Person
from yibao.settlements import service as settlements
from yibao.settlements.states import deposit_outcome
from yibao.web.agency import ITEM_KINDS, percent
from yibao.web.forms import FormError, act, attempt, decimal_field, status_of
from yibao.web.i18n import N_
from yibao.web.page import HospitalPage, Page, check_csrf, current_day, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.printouts import window_slip
from yibao.web.routes import MAX_ID, Names, PageRoute
from yibao.web.settlement_view import FUNDS

ENCOUNTERS_PER_PAGE: Final = 50
CATALOG_ITEMS_PER_PAGE: Final = 50
OPEN_SHOWN: Final = 20
BASKET_ROWS: Final = 5
MAX_BASKET: Final = 100
NO_BASKET: Final = N_(
    "Enter at least one line of the basket: its catalog code, quantity and price."
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def _local_use(request: Request) -> bool | None:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, "policy_local_use_while_filed", None)


# --- finding a patient, admitting -----------------------------------------------------------


def _patient(session: Session, actor: User, person: Person) -> dict[str, Any]:
    """What the window shows of a patient: masked identity, region, scheme, and the filing
    that applies here today (and whether it covers this hospital)."""
    institution = registry.get_institution(session, institution_id=institution_of(actor))
    today = current_day()
    here = filing_info_for(
        session, person_id=person.id, on=today, treatment_region=institution.region_code
    )
    covers = (
        here is not None
        and filing_info_for(
            session,
            person_id=person.id,
            on=today,
            treatment_region=institution.region_code,
            institution_id=institution.id,
        )
        is not None
    )
    return {
        "person": person,
        "identity_masked": mask_identity_number(person.identity_number),
        "local": person.insured_region == institution.region_code,
        "filing": here,
        "covers": covers,
        "institution": institution,
        # the patient's visits still open here (a pharmacy has none)
        "open_encounters": encounters.list_encounters(
            session, actor=actor, state="open", person_id=person.id, limit=OPEN_SHOWN
        ),
    }


def _find(
    session: Session, actor: User, identity_number: str, card_number: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    def lookup() -> dict[str, Any]:
        try:
            person = registry.lookup_person(
                session,
                actor=actor,
                identity_number=identity_number.strip() or None,
                card_number=card_number.strip() or None,
            )
        except ValueError as exc:  # an identity number that cannot be one
            raise ValidationFailed(str(exc), code="person.identity_invalid") from None
        return _patient(session, actor, person)

    return attempt(session, lookup)


def _window(
    page: Page,
    session: Session,
    *,
    identity_number: str = "",
    card_number: str = "",
    patient: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    admit_error: dict[str, Any] | None = None,
    sale_error: dict[str, Any] | None = None,
    basket: list[dict[str, str]] | None = None,
    patient_identity_number: str = "",
) -> Response:
    failed = error or admit_error or sale_error
    institution = registry.get_institution(session, institution_id=institution_of(page.actor))
    return page.render(
        "window.html",
        status_code=status_of(failed),
        names=Names(session),
        local_use=_local_use(page.request),
        pharmacy=institution.kind == "pharmacy",
        identity_number=identity_number,
        card_number=card_number,
        patient=patient,
        error=error,
        admit_error=admit_error,
        sale_error=sale_error,
        basket=_basket_rows(basket or []),
        patient_identity_number=patient_identity_number,
    )


def _basket_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of the sale form: those typed, then empty ones up to ``BASKET_ROWS``."""
    empty = {"code": "", "quantity": "", "unit_price": ""}
    return rows + [empty] * max(BASKET_ROWS - len(rows), 1 if len(rows) >= BASKET_ROWS else 0)


def _found(
    page: Page,
    session: Session,
    identity_number: str,
    card_number: str,
    *,
    admit_error: dict[str, Any] | None = None,
    **sale: Any,
) -> Response:
    """The window with the patient found by what was typed (or why none was found), and
    the admission's (or the sale's) error if it was refused."""
    patient, error = _find(session, page.actor, identity_number, card_number)
    return _window(
        page,
        session,
        identity_number=identity_number,
        card_number=card_number,
        patient=patient,
        error=error,
        admit_error=admit_error,
        **sale,
    )


@router.get("/window")
def window(page: HospitalPage, session: SessionDep) -> Response:
    return _window(page, session)


@router.post("/window")
def find_patient(
    page: HospitalPage,
    session: SessionDep,
    identity_number: Annotated[str, Form(max_length=40)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    return _found(page, session, identity_number, card_number)


@router.post("/window/admit")
def admit(
    page: HospitalPage,
    session: SessionDep,
    setting: Annotated[Literal["inpatient", "outpatient"], Form()],
    identity_number: Annotated[str, Form(max_length=40)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
    deposit: Annotated[str, Form(max_length=20)] = "",
    hospital_ref: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Admission (入院登记, with the deposit) or an outpatient visit (门诊登记), today."""
    actor = page.actor
    today = current_day()

    def register() -> Encounter:
        return encounters.register_encounter(
            session,
            institution_id=institution_of(actor),
            setting=setting,
            started_on=today,
            identity_number=identity_number.strip() or None,
            card_number=card_number.strip() or None,
            deposit=decimal_field(deposit) if setting == "inpatient" else Decimal(0),
            hospital_ref=hospital_ref.strip() or None,
            today=today,
            actor=actor,
        )

    return act(
        page,
        session,
        register,
        then=lambda encounter: f"/window/encounters/{encounter.id}",
        failed=lambda admit_error: _found(
            page, session, identity_number, card_number, admit_error=admit_error
        ),
    )


# --- a pharmacy's sale (药店购药) --------------------------------------------------------------


@router.post("/window/sale")
def sell(
    page: HospitalPage,
    session: SessionDep,
    identity_number: Annotated[str, Form(max_length=40)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
    patient_identity_number: Annotated[str, Form(max_length=40)] = "",
    code: Annotated[list[str] | None, Form(max_length=60)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=20)] = None,
    unit_price: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    """A pharmacy sells catalog drugs against the card (the API's ``/pharmacy/sales``):
    lines the catalog refuses are listed on the sale; a hospital is refused by the service."""
    actor = page.actor
    codes, quantities, prices = code or [], quantity or [], unit_price or []
    rows = [
        {"code": c, "quantity": q, "unit_price": p}
        for c, q, p in zip(codes, quantities, prices, strict=False)
        if c.strip() or q.strip() or p.strip()
    ][:MAX_BASKET]

    def sale() -> int:
        if not rows:
            raise FormError(NO_BASKET)
        outcome = pharmacy.sell(
            session,
            institution_id=institution_of(actor),
            lines=[
                encounters.FeeLineIn(
                    f"S{number}",
                    row["code"].strip(),
                    decimal_field(row["quantity"]),
                    decimal_field(row["unit_price"]),
                )
                for number, row in enumerate(rows, start=1)
            ],
            identity_number=identity_number.strip() or None,
            card_number=card_number.strip() or None,
            patient_identity_number=patient_identity_number.strip() or None,
            msg_id=f"WEB-{uuid.uuid4().hex}",
            on=current_day(),
            actor=actor,
            now=now(),
        )
        return outcome.sale.id

    return act(
        page,
        session,
        sale,
        then=lambda sale_id: f"/window/sales/{sale_id}",
        failed=lambda sale_error: _found(
            page,
            session,
            identity_number,
            card_number,
            sale_error=sale_error,
            basket=rows,
            patient_identity_number=patient_identity_number,
        ),
    )


@router.get("/window/sales/{sale_id}")
def sale_detail(
    page: HospitalPage,
    session: SessionDep,
    sale_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One sale of this pharmacy: what was paid by whom, the lines refused and why."""
    sale = pharmacy.get_sale(session, sale_id=sale_id, institution_id=institution_of(page.actor))
    row = settlements.get_settlement(session, actor=page.actor, settlement_id=sale.settlement_id)
    holder = session.get(Person, sale.holder_person_id)
    assert holder is not None
    return page.render(
        "window_sale.html",
        sale=sale,
        row=row,
        s=settlements.settlement_explained(session, record_=row, lang=page.lang),
        holder=holder,
        holder_masked=mask_identity_number(holder.identity_number),
        refused=[
            {**line, "words": _refusal_words(str(line["reason"]))}
            for line in json.loads(sale.refused)
        ],
    )


# Why the pharmacy service refused a line (:func:`yibao.pharmacy.states.refusal_reason`),
# in the page's words, by the start of the service's sentence.
REFUSALS: Final = (
    ("not in the catalog", N_("Not in the catalog of this region.")),
    ("not a drug", N_("Not a drug: a pharmacy sells catalog drugs only.")),
    ("class ", N_("A self-paid (class C) drug: the insurance does not pay for it.")),
    ("line id repeated", N_("The line was entered twice.")),
    ("quantity must be", N_("The quantity must be above 0 and the price not below 0.")),
)


def _refusal_words(reason: str) -> str | None:
    """The message id saying ``reason`` (None: the service's own sentence is shown)."""
    return next((words for start, words in REFUSALS if reason.startswith(start)), None)


# --- the hospital's encounters --------------------------------------------------------------


@router.get("/window/encounters")
def encounter_list(
    page: HospitalPage,
    session: SessionDep,
    state: Annotated[Literal["open", "settled", "cancelled", ""], Query()] = "",
    number: PageNumber = 1,
) -> Response:
    """The hospital's encounters, newest first, filtered by state."""
    ask = Paging(number, ENCOUNTERS_PER_PAGE)
    rows = encounters.list_encounters(
        session, actor=page.actor, state=state or None, limit=ask.limit, offset=ask.offset
    )
    shown, next_page = ask.split(rows)
    return page.render(
        "window_encounters.html",
        encounters=shown,
        patients=registry.persons_by_id(session, (row.person_id for row in shown)),
        state=state,
        number=number,
        next_page=next_page,
    )


def _catalog_here(session: Session, actor: User) -> CatalogVersion | None:
    """The catalog in force today in the hospital's region (None: none is loaded)."""
    institution = registry.get_institution(session, institution_id=institution_of(actor))
    try:
        return policies.catalog_version_for(
            session, region=institution.region_code, on=current_day()
        )
    except ValidationFailed:
        return None


def _fee_lines(
    session: Session, encounter: Encounter, catalog: CatalogVersion | None = None
) -> list[dict[str, Any]]:
    """The encounter's fee lines, each with its item's name in ``catalog`` (one look-up)."""
    rows = encounter_repo.fee_lines(session, encounter.id, active_only=False)
    names = (
        policies.catalog_item_names(
            session, version_id=catalog.id, codes=(line.code for line in rows)
        )
        if catalog is not None
        else {}
    )
    return [
        {
            "line_id": line.line_id,
            "code": line.code,
            "name": names.get(line.code, ""),
            "quantity": format(from_e4(line.quantity_e4).normalize(), "f"),
            "unit_price": format(from_e4(line.unit_price_e4).normalize(), "f"),
            "amount": from_e4(line.quantity_e4) * from_e4(line.unit_price_e4),
            "state": line.state,
        }
        for line in rows
    ]


def _next_line_id(lines: list[dict[str, Any]]) -> str:
    taken = {line["line_id"] for line in lines}
    number = len(lines) + 1
    while f"W{number}" in taken:
        number += 1
    return f"W{number}"


def _encounter_page(
    page: Page,
    session: Session,
    encounter_id: int,
    *,
    error: dict[str, Any] | None = None,
    preview: dict[str, Any] | None = None,
    line: dict[str, str] | None = None,
    reason: str = "",
) -> Response:
    encounter = encounters.own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_of(page.actor)
    )
    person = session.get(Person, encounter.person_id)
    assert person is not None
    settlement_id = (
        encounter_repo.current_settlement_id(session, encounter.id)
        if encounter.state == "settled"
        else None
    )
    explained = None
    if settlement_id is not None:
        row = settlements.get_settlement(session, actor=page.actor, settlement_id=settlement_id)
        explained = settlements.settlement_explained(session, record_=row, lang=page.lang)
    return page.render(
        "window_encounter.html",
        status_code=status_of(error),
        encounter=encounter,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        names=Names(session),
        lines=_fee_lines(session, encounter, _catalog_here(session, page.actor)),
        error=error,
        reason=reason,
        preview=preview,
        line=line or {"code": "", "quantity": "", "unit_price": ""},
        settlement_id=settlement_id,
        s=explained,
        funds=FUNDS,
        money_fields=MONEY_FIELDS,
    )


@router.get("/window/encounters/{encounter_id}")
def encounter_detail(
    page: HospitalPage,
    session: SessionDep,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return _encounter_page(page, session, encounter_id)


@router.post("/window/encounters/{encounter_id}/fees")
def add_fee_line(
    page: HospitalPage,
    session: SessionDep,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    code: Annotated[str, Form(max_length=60)] = "",
    quantity: Annotated[str, Form(max_length=20)] = "",
    unit_price: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """One fee line (code, quantity, unit price), its line id given by the window."""
    actor = page.actor
    institution_id = institution_of(actor)
    encounter = encounters.own_encounter(
        session, encounter_id=encounter_id, institution_id=institution_id
    )

    def upload() -> None:
        if not code.strip():
            raise ValidationFailed("a fee line needs its catalog code", code="fees.code")
        encounters.upload_fees(
            session,
            encounter_id=encounter.id,
            institution_id=institution_id,
            lines=[
                encounters.FeeLineIn(
                    _next_line_id(_fee_lines(session, encounter)),
                    code.strip(),
                    decimal_field(quantity),
                    decimal_field(unit_price),
                )
            ],
            actor=actor,
        )

    entered = {"code": code, "quantity": quantity, "unit_price": unit_price}
    return act(
        page,
        session,
        upload,
        then=f"/window/encounters/{encounter.id}",
        failed=lambda error: _encounter_page(
            page, session, encounter.id, error=error, line=entered
        ),
    )


@router.post("/window/encounters/{encounter_id}/fees/{line_id}/withdraw")
def withdraw_fee_line(
    page: HospitalPage,
    session: SessionDep,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    line_id: Annotated[str, Path(max_length=60)],
) -> Response:
    """Withdraw a mistyped fee line (明细撤销) before settlement."""
    actor = page.actor

    def withdraw() -> None:
        encounters.withdraw_fee(
            session,
            encounter_id=encounter_id,
            institution_id=institution_of(actor),
            line_id=line_id,
            actor=actor,
        )

    return act(
        page,
        session,
        withdraw,
        then=f"/window/encounters/{encounter_id}",
        failed=lambda error: _encounter_page(page, session, encounter_id, error=error),
    )


@router.post("/window/encounters/{encounter_id}/cancel")
def cancel_registration(
    page: HospitalPage,
    session: SessionDep,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Cancel a registration or admission made by mistake (登记撤销), with the reason."""
    actor = page.actor

    def cancel() -> None:
        encounters.cancel_encounter(
            session,
            encounter_id=encounter_id,
            institution_id=institution_of(actor),
            reason=reason,
            actor=actor,
        )

    return act(
        page,
        session,
        cancel,
        then=f"/window/encounters/{encounter_id}",
        failed=lambda error: _encounter_page(
            page, session, encounter_id, error=error, reason=reason
        ),
    )


# --- the catalog of the hospital's region -----------------------------------------------------


@router.get("/window/catalog")
def catalog_search(
    page: HospitalPage,
    session: SessionDep,
    q: Annotated[str, Query(max_length=60)] = "",
    number: PageNumber = 1,
) -> Response:
    """The catalog in force in the hospital's region, searched by code (its start) or name,
    a page at a time (the agency's search, :func:`yibao.policies.service.search_catalog`)."""
    version = _catalog_here(session, page.actor)
    text = q.strip()
    ask = Paging(number, CATALOG_ITEMS_PER_PAGE)
    items, next_page = ask.split(
        policies.search_catalog(
            session, version_id=version.id, text=text or None, limit=ask.limit, offset=ask.offset
        )
        if version is not None
        else []
    )
    return page.render(
        "window_catalog.html",
        version=version,
        items=items,
        q=text,
        number=number,
        next_page=next_page,
        names=Names(session),
        item_kinds=ITEM_KINDS,
        percent=percent,
    )


@router.post("/window/encounters/{encounter_id}/pre-settle")
def pre_settle(
    page: HospitalPage,
    session: SessionDep,
    request: Request,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Pre-settlement (预结算) as of today: the full result, nothing stored."""
    actor = page.actor
    today = current_day()

    def preview() -> dict[str, Any]:
        result = encounters.pre_settle_encounter(
            session,
            encounter_id=encounter_id,
            institution_id=institution_of(actor),
            on=today,
            local_use_while_filed=_local_use(request),
            today=today,
        )
        encounter = encounter_repo.get_encounter(session, encounter_id)
        out = result_to_dict(result)
        out["explanation"] = explanation_lines(result, lang=page.lang)
        out["deposit"] = out["deposit_refund"] = out["cash_due"] = None
        if result.status == "settled" and encounter.deposit_fen:
            refund, due = deposit_outcome(encounter.deposit_fen, to_fen(result.cash_pay))
            out["deposit"] = from_fen(encounter.deposit_fen)
            out["deposit_refund"] = from_fen(refund)
            out["cash_due"] = from_fen(due)
        return out

    result, error = attempt(session, preview)
    return _encounter_page(page, session, encounter_id, error=error, preview=result)


@router.post("/window/encounters/{encounter_id}/settle")
def settle(
    page: HospitalPage,
    session: SessionDep,
    request: Request,
    encounter_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Discharge settlement (出院结算) as of today, with a fresh message id; the encounter's
    page then shows the stored settlement."""
    actor = page.actor
    at = now()

    def settle_now() -> None:
        encounters.settle_encounter(
            session,
            encounter_id=encounter_id,
            institution_id=institution_of(actor),
            on=business_date(at),
            msg_id=f"WEB-{uuid.uuid4().hex}",
            local_use_while_filed=_local_use(request),
            actor=actor,
            now=at,
        )

    return act(
        page,
        session,
        settle_now,
        then=f"/window/encounters/{encounter_id}",
        failed=lambda error: _encounter_page(page, session, encounter_id, error=error),
    )


# --- the settlement slip (结算单) -------------------------------------------------------------


@router.get("/window/settlements/{settlement_id}/slip")
def settlement_slip(
    page: HospitalPage,
    session: SessionDep,
    request: Request,
    settlement_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """The printable slip of a settlement this hospital made: the printed version of the
    PDF, with its issuer, number and verification code (:mod:`yibao.web.printouts`)."""
    return window_slip(page, session, request, settlement_id)
