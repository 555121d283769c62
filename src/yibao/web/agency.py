"""The agency's other pages (经办机构): four-eyes approvals (双人复核), third-party recovery
cases (追偿), and read-only views of the policy and catalog versions (政策与目录).

Every page calls the concepts' services with the signed-in agency user as the actor, as
the API's ``/approvals``, ``/recovery`` and ``/policies``/``/catalogs`` routes do: the
approvals service decides who may see and decide a request (the requester never decides
it: ``approval.same_user``), the recovery service scopes cases to the centre's insured
region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.auth.deps import SessionDep
from yibao.errors import Forbidden, ValidationFailed
from yibao.identity import mask_identity_number
from yibao.policies import service as policies
from yibao.recovery import service as recovery
from yibao.recovery.models import RecoveryCase
from yibao.registry import service as registry
from yibao.registry.models import Person
from yibao.web.forms import FormError, act, decimal_field, status_of
from yibao.web.i18n import N_
from yibao.web.page import AgencyPage, Page, check_csrf, current_day, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

APPROVALS_SHOWN: Final = 50
CASES_PER_PAGE: Final = 25
ITEMS_PER_PAGE: Final = 50

APPROVAL_KINDS: Final = {
    "account.movement": N_("Personal account movement by hand"),
    "clearing.confirm": N_("Confirmation of a clearing statement"),
    "clearing.advance_fund": N_("Recording of an advance fund between regions"),
    "reimbursement.override_findings": N_("Approval of a claim despite blocking findings"),
}
APPROVAL_STATES: Final = {
    "pending": N_("Waiting for a second person"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
MOVEMENT_KINDS: Final = {
    "contribution": N_("Contribution"),
    "adjustment": N_("Adjustment"),
    "withdrawal": N_("Withdrawal"),
    "transfer_in": N_("Transfer in"),
    "transfer_out": N_("Transfer out"),
}
CASE_STATES: Final = {
    "open": N_("Being recovered"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
ITEM_KINDS: Final = {
    "drug": N_("Drug"),
    "service": N_("Medical service"),
    "material": N_("Medical material"),
    "facility": N_("Facility"),
}
ITEM_SETTINGS: Final = {
    "both": N_("Inpatient and outpatient"),
    "inpatient": N_("Inpatient"),
    "outpatient": N_("Outpatient"),
}
PERSON_TYPES: Final = {
    "in_service": N_("In service"),
    "retired": N_("Retired"),
    "adult": N_("Adult"),
    "minor": N_("Minor"),
}
NO_REASON: Final = N_("Write the reason for the rejection.")
BAD_AMOUNT: Final = N_("The amount recovered is a number of yuan, such as 1200 or 1200.50.")


# --- four eyes (双人复核) -------------------------------------------------------------------


def _described(
    approval: Approval, persons: Mapping[int, str], users: Mapping[int, str]
) -> dict[str, Any]:
    """An approval with its request read back in words (the template says them)."""
    payload: dict[str, Any] = json.loads(approval.payload)
    result: dict[str, Any] = json.loads(approval.result) if approval.result else {}
    what: dict[str, Any] = {"kind": approval.kind, "payload": payload}
    if approval.kind == "account.movement":
        try:
            amount = Decimal(str(payload.get("amount", "0")))
        except InvalidOperation:
            amount = Decimal(0)
        what.update(
            person=persons.get(int(payload.get("person_id", 0)), ""),
            credit=amount > 0,
            amount=abs(amount),
            movement=payload.get("kind", ""),
            ref=payload.get("ref"),
        )
    elif approval.kind == "clearing.advance_fund":
        try:
            effective_from: date | None = date.fromisoformat(str(payload.get("effective_from")))
        except ValueError:
            effective_from = None
        what.update(
            debtor=str(payload.get("insured_region", "")),
            creditor=str(payload.get("treatment_region", "")),
            amount_fen=int(payload.get("amount_fen", 0)),
            effective_from=effective_from,
            note=payload.get("note"),
        )
    return {
        "approval": approval,
        "what": what,
        "result": result,
        "requester": users.get(approval.requested_by, ""),
        "decider": users.get(approval.decided_by, "") if approval.decided_by else "",
    }


def _approvals_page(
    page: Page,
    session: Session,
    *,
    state: str,
    error: dict[str, Any] | None = None,
    failed: int | None = None,
) -> Response:
    rows: Sequence[Approval] = approvals.list_approvals(
        session, actor=page.actor, state=state or None, limit=APPROVALS_SHOWN
    )
    person_ids = {
        int(json.loads(a.payload).get("person_id", 0)) for a in rows if a.kind == "account.movement"
    }
    persons = {pid: p.name for pid, p in registry.persons_by_id(session, person_ids).items()}
    users = approvals.user_names(session, rows)
    return page.render(
        "agency_approvals.html",
        status_code=status_of(error),
        items=[_described(a, persons, users) for a in rows],
        names=Names(session),
        state=state,
        kinds=APPROVAL_KINDS,
        states=APPROVAL_STATES,
        movement_kinds=MOVEMENT_KINDS,
        me=page.actor.id,
        error=error,
        failed=failed,
    )


@router.get("/agency/approvals")
def approval_list(
    page: AgencyPage,
    session: SessionDep,
    state: Annotated[Literal["pending", "approved", "rejected", ""], Query()] = "pending",
) -> Response:
    """Requests the user may decide or has made: pending first (the default filter)."""
    return _approvals_page(page, session, state=state)


@router.post("/agency/approvals/{approval_id}/approve")
def approve(
    page: AgencyPage,
    session: SessionDep,
    approval_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """A second person approves: the act is carried out now (the service decides who)."""
    actor = page.actor
    return act(
        page,
        session,
        lambda: approvals.approve(session, actor=actor, approval_id=approval_id),
        then="/agency/approvals?state=approved",
        failed=lambda error: _approvals_page(
            page, session, state="pending", error=error, failed=approval_id
        ),
    )


@router.post("/agency/approvals/{approval_id}/reject")
def reject(
    page: AgencyPage,
    session: SessionDep,
    approval_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    actor = page.actor

    def refuse() -> Approval:
        if not reason.strip():
            raise FormError(NO_REASON)
        return approvals.reject(
            session, actor=actor, approval_id=approval_id, reason=reason.strip()
        )

    return act(
        page,
        session,
        refuse,
        then="/agency/approvals?state=rejected",
        failed=lambda error: _approvals_page(
            page, session, state="pending", error=error, failed=approval_id
        ),
    )


# --- a person's personal account (个人账户), a movement by hand ---------------------------------

MOVEMENTS_SHOWN: Final = 50
# every kind of movement an account shows: those asked for by hand, and the platform's own
ACCOUNT_MOVEMENT_WORDS: Final = {
    **MOVEMENT_KINDS,
    "opening_balance": N_("Opening balance"),
    "settlement": N_("Paid at a settlement"),
    "reversal": N_("Returned by a reversal"),
}
NO_PERSON_GIVEN: Final = N_("Enter the person's identity number or card number.")
BAD_MOVEMENT_AMOUNT: Final = N_("The amount is a number of yuan above 0, such as 500 or 120.50.")


def _account_search(
    page: Page,
    *,
    identity_number: str = "",
    card_number: str = "",
    error: dict[str, Any] | None = None,
) -> Response:
    return page.render(
        "agency_accounts.html",
        status_code=status_of(error),
        identity_number=identity_number,
        card_number=card_number,
        error=error,
    )


@router.get("/agency/accounts")
def account_search(page: AgencyPage) -> Response:
    """Find an insured person of the centre's region to see (and move) their account."""
    return _account_search(page)


@router.post("/agency/accounts")
def find_account(
    page: AgencyPage,
    session: SessionDep,
    identity_number: Annotated[str, Form(max_length=40)] = "",
    card_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """By identity or card number (posted, so the number is in no address); a person the
    agency may not see is not found (the registry service decides)."""
    actor = page.actor

    def find() -> Person:
        if not identity_number.strip() and not card_number.strip():
            raise FormError(NO_PERSON_GIVEN)
        try:
            return registry.lookup_person(
                session,
                actor=actor,
                identity_number=identity_number.strip() or None,
                card_number=None if identity_number.strip() else card_number.strip() or None,
            )
        except ValueError as exc:  # an identity number that cannot be one
            raise ValidationFailed(str(exc), code="person.identity_invalid") from None

    return act(
        page,
        session,
        find,
        then=lambda person: f"/agency/accounts/{person.id}",
        failed=lambda error: _account_search(
            page, identity_number=identity_number, card_number=card_number, error=error
        ),
    )


def _account_page(
    page: Page,
    session: Session,
    person_id: int,
    *,
    error: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    account = registry.account_of(session, actor=page.actor, person_id=person_id)
    person = registry.get_person(session, person_id=person_id)
    movements = list(account.movements)[-MOVEMENTS_SHOWN:][::-1]  # newest first
    return page.render(
        "agency_account.html",
        status_code=status_of(error),
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        account=account,
        movements=movements,
        more=len(account.movements) > MOVEMENTS_SHOWN,
        words=ACCOUNT_MOVEMENT_WORDS,
        kinds=MOVEMENT_KINDS,
        names=Names(session),
        entered=entered or {"direction": "credit", "amount": "", "kind": "", "ref": ""},
        error=error,
    )


@router.get("/agency/accounts/{person_id}")
def person_account(
    page: AgencyPage,
    session: SessionDep,
    person_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """A person's account: balance, the latest movements, and a request for a movement."""
    return _account_page(page, session, person_id)


@router.post("/agency/accounts/{person_id}/movements")
def request_movement(
    page: AgencyPage,
    session: SessionDep,
    person_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    direction: Annotated[Literal["credit", "debit"], Form()] = "credit",
    amount: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    ref: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A credit or debit by hand: stored as a pending approval that a second person of the
    centre decides (the registry service, as ``POST /persons/{id}/account/movements``)."""
    actor = page.actor
    registry.account_of(session, actor=actor, person_id=person_id)  # unknown: the 404 page

    def ask() -> Approval:
        try:
            value = decimal_field(amount)
        except FormError:
            raise FormError(BAD_MOVEMENT_AMOUNT) from None
        if value <= 0 or value != value.quantize(Decimal("0.01")):
            raise FormError(BAD_MOVEMENT_AMOUNT)
        if kind not in MOVEMENT_KINDS:
            raise ValidationFailed(f"unknown movement kind {kind!r}", code="account.kind")
        return registry.request_account_movement(
            session,
            person_id=person_id,
            amount=value if direction == "credit" else -value,
            kind=kind,
            ref=ref.strip() or None,
            actor=actor,
        )

    entered = {"direction": direction, "amount": amount, "kind": kind, "ref": ref}
    return act(
        page,
        session,
        ask,
        then=lambda approval: f"/agency/approvals?state=pending#approval-{approval.id}",
        failed=lambda error: _account_page(page, session, person_id, error=error, entered=entered),
    )


# --- recovery cases (追偿) ------------------------------------------------------------------


@router.get("/agency/recovery")
def case_list(
    page: AgencyPage,
    session: SessionDep,
    state: Annotated[Literal["open", "closed", "cancelled", ""], Query()] = "",
    number: PageNumber = 1,
) -> Response:
    """The recovery cases of the centre's insured region, newest first."""
    ask = Paging(number, CASES_PER_PAGE)
    try:
        rows = recovery.list_cases_for(
            session, actor=page.actor, state=state or None, limit=ask.limit, offset=ask.offset
        )
        not_handler = False
    except Forbidden:  # a treatment region's agency handles no cases (the service says)
        rows, not_handler = [], True
    shown, next_page = ask.split(rows)
    return page.render(
        "agency_recovery.html",
        rows=[
            {"row": row, "identity_masked": mask_identity_number(row.person.identity_number)}
            for row in shown
        ],
        names=Names(session),
        state=state,
        states=CASE_STATES,
        number=number,
        next_page=next_page,
        not_handler=not_handler,
    )


def _case_page(
    page: Page,
    session: Session,
    case_id: int,
    *,
    error: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
) -> Response:
    case: RecoveryCase = recovery.get_case_for(session, actor=page.actor, case_id=case_id)
    person = session.get(Person, case.person_id)
    assert person is not None
    return page.render(
        "agency_recovery_case.html",
        status_code=status_of(error),
        case=case,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        outstanding_fen=recovery.outstanding_fen(case),
        names=Names(session),
        states=CASE_STATES,
        error=error,
        entered=entered or {"recovered": "", "note": ""},
    )


@router.get("/agency/recovery/{case_id}")
def case_detail(
    page: AgencyPage,
    session: SessionDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    return _case_page(page, session, case_id)


@router.post("/agency/recovery/{case_id}/close")
def close_case(
    page: AgencyPage,
    session: SessionDep,
    case_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    recovered: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Close the case with the amount actually recovered (0 up to what was advanced)."""
    actor, at = page.actor, now()

    def close() -> RecoveryCase:
        if not recovered.strip():
            raise FormError(BAD_AMOUNT)
        return recovery.close_case_for(
            session,
            actor=actor,
            case_id=case_id,
            recovered=_amount(recovered),
            note=note.strip() or None,
            now=at,
        )

    return act(
        page,
        session,
        close,
        then=f"/agency/recovery/{case_id}",
        failed=lambda error: _case_page(
            page, session, case_id, error=error, entered={"recovered": recovered, "note": note}
        ),
    )


def _amount(text: str) -> Decimal:
    try:
        return decimal_field(text)
    except FormError:
        raise FormError(BAD_AMOUNT) from None


# --- policies and catalogs (政策与目录) -------------------------------------------------------


@router.get("/agency/policies")
def policy_list(page: AgencyPage, session: SessionDep) -> Response:
    """Policy versions and catalog versions, each with the day it took effect and whether
    it is in force today (read-only; loaded with ``yibao policy/catalog load``)."""
    today = current_day()
    return page.render(
        "agency_policies.html",
        policies=policies.policy_versions(session, on=today),
        catalogs=policies.catalog_versions(session, on=today),
        names=Names(session),
        person_types=PERSON_TYPES,
        today=today,
    )


@router.get("/agency/policies/catalogs/{version_id}")
def catalog_items(
    page: AgencyPage,
    session: SessionDep,
    version_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    q: Annotated[str, Query(max_length=60)] = "",
    number: PageNumber = 1,
) -> Response:
    """One catalog version's items, searched by code (its start) or name, a page at a time."""
    version = policies.get_catalog_version(session, version_id=version_id)
    text = q.strip()
    ask = Paging(number, ITEMS_PER_PAGE)
    items, next_page = ask.split(
        policies.search_catalog(
            session, version_id=version.id, text=text or None, limit=ask.limit, offset=ask.offset
        )
    )
    return page.render(
        "agency_catalog.html",
        version=version,
        items=items,
        q=text,
        number=number,
        next_page=next_page,
        names=Names(session),
        item_kinds=ITEM_KINDS,
        item_settings=ITEM_SETTINGS,
        percent=percent,
    )


def percent(ratio: str | None) -> str:
    """A catalog's self-paid-first ratio as a percentage (``0.10`` → ``10%``; none: blank)."""
    try:
        value = Decimal(ratio or "0")
    except InvalidOperation:
        return ratio or ""
    if not value:
        return ""
    return f"{(value * 100).normalize():f}%"
