"""The access rules as a table: every route × every actor of both tenants, called for real.

``test_route_roles`` checks the role gates; this file checks the *tenants* behind them.
The world (:mod:`tests.e2e.tenants`) holds real objects of tenant A (the Beijing persons,
their filings, claims and settlements; the Sanya hospital's encounters and settlements)
and of tenant B (Baoding). Actors come in pairs, one per tenant (``insured_a`` /
``insured_b``, ``unit_``, ``street_``, ``center_``, ``hospital_``), with the Sanya
treatment agency, the pharmacy, the Beijing hospital that issued the retiree's referral
(``hospital_ref``) and an admin: on an object of tenant A, the ``_a`` actor is its own
tenant and the ``_b`` actor the other. A few rows read tenant B's objects the other way
round, and every list holds objects of both tenants.

Each row names a route as the OpenAPI declares it, the request (the ids of real objects),
and what each actor must get; an actor a row does not name is refused. Each call runs in
a savepoint that is rolled back, so every actor meets the same world; the failures of a
row are reported together, one subtest per row.

Outcomes:

* ``ALLOW``: 2xx, or a domain answer (409/422: not legal in that state, body not valid
  for it): the access check let the caller through. ``Allow(202)``: exactly that status.
* ``DENY``: 403, or 404 (hiding that the object exists); never 2xx.
* ``BLOCKED``: never done by anyone: 403, 404, 409 or 422.
* ``UNSPECIFIED``: the design does not say; only no 401 and no server error.
* ``Finds(...)``: a list (a row with ``lists``) answers 2xx holding exactly these of the
  row's objects, none of the others (``maybe``: either way). ``Finds()`` (the default
  for lists) also accepts 403/404: what matters is that nothing leaks.

A route of the OpenAPI without a row, or a row whose route is gone, fails
``test_every_route_has_a_row`` / ``test_every_row_is_a_route``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.e2e.tenants import (
    ACTORS,
    API,
    MONTH,
    PDF,
    Tenants,
    balance_fen,
    build_tenants,
    claim_body,
)
from yibao.clearing.models import AdvanceFund, ClearingStatement
from yibao.identity import make_identity_number

# --- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Allow:
    status: int | None = None

    def judge(self, status: int) -> str | None:
        if self.status is not None:
            return None if status == self.status else f"expected {self.status}"
        if 200 <= status < 300 or status in (409, 422):
            return None
        return "expected to be let through (2xx, or 409/422 for the state)"


@dataclass(frozen=True)
class Deny:
    def judge(self, status: int) -> str | None:
        return None if status in (403, 404) else "expected to be refused (403/404)"


@dataclass(frozen=True)
class Blocked:
    def judge(self, status: int) -> str | None:
        ok = status in (403, 404, 409, 422)
        return None if ok else "expected to be impossible for anyone (403/404/409/422)"


@dataclass(frozen=True)
class Unspecified:
    def judge(self, status: int) -> str | None:
        return None if status != 401 and status < 500 else "no rule, but no 401/5xx either"


@dataclass(frozen=True, init=False)
class Finds:
    names: frozenset[str]
    maybe: frozenset[str]

    def __init__(self, *names: str, maybe: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "names", frozenset(names))
        object.__setattr__(self, "maybe", frozenset(maybe))


Outcome = Allow | Deny | Blocked | Unspecified | Finds
ALLOW, DENY, BLOCKED, UNSPECIFIED = Allow(), Deny(), Blocked(), Unspecified()


def only(*actors: str, outcome: Outcome = ALLOW) -> dict[str, Outcome]:
    return {actor: outcome for actor in actors}


EVERYONE = only(*ACTORS)
NOBODY = only(*ACTORS, outcome=BLOCKED)
# The design's groups of tenant A (the retiree's side).
APPLICANTS = ("insured_a", "unit_a", "street_a", "center_a", "admin")  # filings: apply, act
CLAIMANTS = ("insured_a", "unit_a", "street_a", "admin")  # reimbursements: claim side
REVIEWERS = ("center_a", "admin")  # filings and reimbursements: review side
CLAIM_READERS = (*CLAIMANTS, "center_a")
INSURED_OF = {"insured_a": "retiree", "insured_b": "baoding"}
CENTER_REGION = {"center_a": "110000", "center_b": "130600"}


# --- rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None


def item_id(item: Any) -> Any:
    return item.get("id") if isinstance(item, dict) else item


def finding_key(item: Any) -> Any:
    return (
        f"{item.get('subject_kind')}:{item.get('subject_id')}" if isinstance(item, dict) else None
    )


def region_pair(item: Any) -> Any:
    if isinstance(item, dict) and "insured_region" in item:
        return f"{item['insured_region']}->{item['treatment_region']}"
    return None


Check = Callable[[str, Tenants, Any], str | None]
After = Callable[[str, Tenants, Session], str | None]


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as declared, under /api/v1
    call: Callable[[Tenants], Req]
    expect: Mapping[str, Outcome]  # actors not named: DENY (a list: Finds())
    label: str = ""
    lists: tuple[str, ...] = ()  # a list: the objects (Tenants attributes) it may hold
    key: Callable[[Any], Any] = item_id  # what identifies an item of the list
    check: Check | None = None  # on the body of an answer that let the caller through
    after: After | None = None  # on the database after the call (any actor)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.label}]" if self.label else "")

    def outcome(self, actor: str) -> Outcome:
        return self.expect.get(actor, Finds() if self.lists else DENY)


def upload(doc_type: str) -> dict[str, Any]:
    return {
        "data": {"doc_type": doc_type},
        "files": {"file": (f"{doc_type}.pdf", PDF, "application/pdf")},
    }


# --- checks on bodies and on the database ------------------------------------------------


def _identity_problem(actor: str, t: Tenants, body: Any, *, both_ways: bool) -> str | None:
    people = body if isinstance(body, list) else [body]
    for person in people:
        if not isinstance(person, dict) or "identity_masked" not in person:
            continue
        own = actor in INSURED_OF and person["id"] == getattr(t, INSURED_OF[actor])
        center = CENTER_REGION.get(actor) == person["insured_region"]
        may_see = actor == "admin" or own or center
        if not person["identity_masked"] and not may_see:
            return f"person {person['id']}'s identity number shown in full"
        if both_ways and person["identity_masked"] and may_see:
            return f"person {person['id']}'s identity number masked for one who may see it"
    return None


def identity_only_to_those_who_may(actor: str, t: Tenants, body: Any) -> str | None:
    """The identity number in full only to the person, the centre of the insured region
    and admins (a list may mask it for everyone)."""
    return _identity_problem(actor, t, body, both_ways=False)


def identity_by_rule(actor: str, t: Tenants, body: Any) -> str | None:
    """One person read: in full exactly for the person, their centre and admins."""
    return _identity_problem(actor, t, body, both_ways=True)


def balance_unchanged(actor: str, t: Tenants, session: Session) -> str | None:
    now = balance_fen(session, t.retiree)
    return (
        None
        if now == t.retiree_balance_fen
        else f"the balance moved ({t.retiree_balance_fen} → {now})"
    )


def credited_only_by_deciders(actor: str, t: Tenants, session: Session) -> str | None:
    """Approving the pending credit of 10.00 moves the balance; nothing else does."""
    now = balance_fen(session, t.retiree)
    expected = t.retiree_balance_fen + (1000 if actor in REVIEWERS else 0)
    return None if now == expected else f"balance {now}, expected {expected}"


def statement_a_not_confirmed(actor: str, t: Tenants, session: Session) -> str | None:
    """A first confirmation only asks (four-eyes); nobody else confirms at all."""
    if actor == "admin":
        return None  # whether an admin's confirmation waits too is not said
    states = session.scalars(
        select(ClearingStatement.state).where(
            ClearingStatement.year_month == MONTH,
            ClearingStatement.insured_region == "110000",
            ClearingStatement.treatment_region == "460200",
        )
    ).all()
    return "the 110000→460200 statement got confirmed" if "confirmed" in states else None


def no_advance_fund_recorded(actor: str, t: Tenants, session: Session) -> str | None:
    """Asking to record an advance fund records nothing: a second user approves it."""
    count = session.scalar(select(func.count(AdvanceFund.id)))
    return None if count == 0 else f"{count} advance fund(s) recorded by one person"


# --- the table ---------------------------------------------------------------------------

NEW_IDENTITY = make_identity_number("110108", date(1995, 2, 3), 71)
FILING_LISTS = ("filing_approved", "filing_expired", "filing_referral", "filing_submitted")
CLAIM_LISTS = ("claim_submitted", "claim_under_review", "claim_returned", "claim_approved")
A_SETTLEMENTS = ("settlement_a", "settlement_sale_a", "settlement_reimbursement_a")
B_SETTLEMENTS = ("settlement_b_local", "settlement_b_sanya", "settlement_b_beijing")

R = Row
ROWS: list[Row] = [
    # --- the caller, reference data, policies: everyone reads; admins create -----------
    R("GET", "/me", lambda t: Req("/me"), EVERYONE),
    R("GET", "/regions", lambda t: Req("/regions"), EVERYONE),
    R("GET", "/regions/{code}", lambda t: Req("/regions/460200"), EVERYONE),
    R("POST", "/regions", lambda t: Req("/regions", {"code": "120000", "name": "天津市"}),
      only("admin")),
    R("GET", "/agencies", lambda t: Req("/agencies"), EVERYONE),
    R("POST", "/agencies",
      lambda t: Req("/agencies", {"name": "新社保所", "kind": "street_office", "region_code": "110000"}),
      only("admin")),
    R("GET", "/institutions", lambda t: Req("/institutions"), EVERYONE),
    R("GET", "/institutions/{institution_id}", lambda t: Req(f"/institutions/{t.hospital_a}"),
      EVERYONE),
    R("POST", "/institutions",
      lambda t: Req("/institutions", {"code": "HNEW", "name": "新医院", "region_code": "110000",
                                      "kind": "hospital", "level": 2}),
      only("admin")),
    # PATCH an institution: admin, or an agency of either kind of its region
    R("PATCH", "/institutions/{institution_id}",
      lambda t: Req(f"/institutions/{t.hospital_a}", {"networked": False}),
      only("treatment", "admin"), label="Sanya hospital"),
    R("PATCH", "/institutions/{institution_id}",
      lambda t: Req(f"/institutions/{t.beijing_hospital}", {"networked": False}),
      only("center_a", "admin"), label="Beijing hospital"),
    R("GET", "/policies", lambda t: Req("/policies"), EVERYONE),
    R("GET", "/policies/{policy_id}", lambda t: Req(f"/policies/{t.policy_id}"), EVERYONE),
    R("GET", "/catalogs", lambda t: Req("/catalogs"), EVERYONE),
    R("GET", "/catalogs/{region}/items",
      lambda t: Req("/catalogs/460200/items", params={"on": "2026-07-01"}), EVERYONE),
    # --- units -------------------------------------------------------------------------
    R("GET", "/units", lambda t: Req("/units"),
      lists=("unit_a", "other_unit_a", "unit_b"),
      expect={
          "unit_a": Finds("unit_a"),
          "unit_b": Finds("unit_b"),
          "street_a": Finds("unit_a", "other_unit_a"),
          "center_a": Finds("unit_a", "other_unit_a"),
          "street_b": Finds("unit_b"),
          "center_b": Finds("unit_b"),
          "admin": Finds("unit_a", "other_unit_a", "unit_b"),
      }),
    R("POST", "/units", lambda t: Req("/units", {"name": "新单位", "region_code": "110000"}),
      only("center_a", "admin")),
    # --- persons -----------------------------------------------------------------------
    R("GET", "/persons", lambda t: Req("/persons", params={"limit": 500}),
      lists=("retiree", "worker", "spouse", "baoding", "staff_b", "sanya_person"),
      expect={
          "insured_a": Finds("retiree"),
          "insured_b": Finds("baoding"),
          "unit_a": Finds("retiree", "worker"),
          "unit_b": Finds("staff_b"),
          "street_a": Finds("retiree", "worker", "spouse"),
          "center_a": Finds("retiree", "worker", "spouse"),
          "street_b": Finds("baoding", "staff_b"),
          "center_b": Finds("baoding", "staff_b"),
          "treatment": Finds(),  # 403 or an empty list: not even Sanya's insured
          **only("hospital_a", "hospital_b", "hospital_ref", "pharmacy", outcome=DENY),
          "admin": Finds("retiree", "worker", "spouse", "baoding", "staff_b", "sanya_person"),
      },
      check=identity_only_to_those_who_may),
    R("POST", "/persons",
      lambda t: Req("/persons", {"identity_number": NEW_IDENTITY, "name": "新职工",
                                 "scheme": "employee", "person_type": "in_service",
                                 "insured_region": "110000", "unit_id": t.unit_a}),
      only("unit_a", "street_a", "center_a", "admin")),
    # a desk or a hospital holding the person's document finds them (masked)
    R("POST", "/persons/lookup",
      lambda t: Req("/persons/lookup", {"identity_number": t.retiree_identity}),
      {**only("unit_a", "street_a", "center_a", "admin",
              "hospital_a", "hospital_b", "hospital_ref", "pharmacy"),
       "insured_a": UNSPECIFIED},
      check=identity_only_to_those_who_may),
    # hospitals read their own patients: an encounter, a sale, a filing naming them
    R("GET", "/persons/{person_id}", lambda t: Req(f"/persons/{t.retiree}"),
      only("insured_a", "unit_a", "street_a", "center_a", "admin",
           "hospital_a", "hospital_ref", "pharmacy"),
      check=identity_by_rule),
    R("GET", "/persons/{person_id}", lambda t: Req(f"/persons/{t.baoding}"),
      only("insured_b", "street_b", "center_b", "admin",
           "hospital_a", "hospital_b", "hospital_ref"),  # each had them as a patient
      check=identity_by_rule, label="a Baoding person"),
    R("PATCH", "/persons/{person_id}",
      lambda t: Req(f"/persons/{t.retiree}", {"assistance_eligible": True}),
      only("center_a", "admin")),
    R("PATCH", "/persons/{person_id}",
      lambda t: Req(f"/persons/{t.sanya_person}", {"assistance_eligible": True}),
      only("admin"), label="insured in Sanya: no treatment agency edits"),
    R("GET", "/persons/{person_id}/account", lambda t: Req(f"/persons/{t.retiree}/account"),
      only("insured_a", "street_a", "center_a", "admin")),
    # a credit by hand only asks: 202 and a pending approval, the balance does not move
    R("POST", "/persons/{person_id}/account/movements",
      lambda t: Req(f"/persons/{t.retiree}/account/movements",
                    {"amount": "10.00", "kind": "contribution"}),
      {"center_a": Allow(202), "admin": ALLOW},
      after=balance_unchanged),
    R("GET", "/persons/{person_id}/family", lambda t: Req(f"/persons/{t.retiree}/family"),
      only("insured_a", "street_a", "center_a", "admin")),
    R("POST", "/persons/{person_id}/family",
      lambda t: Req(f"/persons/{t.retiree}/family", {"relative_id": t.worker, "relation": "child"}),
      only("street_a", "center_a", "admin")),
    R("DELETE", "/persons/{person_id}/family/{relative_id}",
      lambda t: Req(f"/persons/{t.retiree}/family/{t.spouse}"),
      only("street_a", "center_a", "admin")),
    # --- four-eyes approvals: another user of the same agency decides, or an admin -----
    R("GET", "/approvals", lambda t: Req("/approvals"), lists=("approval",),
      expect={"center_a": Finds("approval"), "admin": Finds("approval")}),
    R("GET", "/approvals/{approval_id}", lambda t: Req(f"/approvals/{t.approval or 0}"),
      only("center_a", "admin")),
    R("POST", "/approvals/{approval_id}/approve",
      lambda t: Req(f"/approvals/{t.approval or 0}/approve"),
      only("center_a", "admin"), after=credited_only_by_deciders),
    R("POST", "/approvals/{approval_id}/reject",
      lambda t: Req(f"/approvals/{t.approval or 0}/reject", {"reason": "no receipt"}),
      only("center_a", "admin"), after=balance_unchanged),
    # --- users and the audit log: admins -----------------------------------------------
    R("GET", "/users", lambda t: Req("/users"), only("admin")),
    R("POST", "/users", lambda t: Req("/users", {"name": "新管理员", "role": "admin"}),
      only("admin")),
    R("GET", "/audit", lambda t: Req("/audit", params={"limit": 5}), only("admin")),
    R("GET", "/audit/identity-reads",
      lambda t: Req("/audit/identity-reads", params={"person_id": t.retiree}), only("admin")),
    # --- filings: apply and act (person, unit, desks of the insured region, admin);
    #     review (centre of the insured region, admin); read (those, and hospitals named)
    R("POST", "/filings",
      lambda t: Req("/filings", {"person_id": t.retiree, "category": "other_temporary",
                                 "destination": "460200"}),
      only(*APPLICANTS)),  # 409 filing.duplicate for them: the referral is open
    R("GET", "/filings", lambda t: Req("/filings"),
      lists=(*FILING_LISTS, "filing_b"),
      expect={
          **only("insured_a", "unit_a", "street_a", "center_a", outcome=Finds(*FILING_LISTS)),
          **only("insured_b", "street_b", "center_b", outcome=Finds("filing_b")),
          "hospital_a": Finds("filing_approved", "filing_submitted"),  # chosen in them
          "hospital_ref": Finds("filing_referral"),  # issued its referral
          "admin": Finds(*FILING_LISTS, "filing_b"),
      }),
    R("GET", "/filings/queue", lambda t: Req("/filings/queue"),
      lists=("filing_submitted", "filing_b"),
      expect={
          "center_a": Finds("filing_submitted"),
          "center_b": Finds("filing_b"),
          "admin": Finds("filing_submitted", "filing_b"),
      }),
    R("GET", "/filings/local-use",
      lambda t: Req("/filings/local-use", params={"person_id": t.retiree}),
      {**only(*APPLICANTS), **only("hospital_a", "hospital_ref", outcome=UNSPECIFIED)}),
    R("GET", "/filings/verify",
      lambda t: Req("/filings/verify", params={"number": t.filing_number,
                                               "code": t.filing_code}),
      only("center_a", "center_b", "treatment", "hospital_a", "hospital_b", "hospital_ref",
           "pharmacy", "admin")),  # any hospital or agency checks a presented certificate
    R("GET", "/filings/{filing_id}", lambda t: Req(f"/filings/{t.filing_approved}"),
      only(*APPLICANTS, "hospital_a")),
    R("GET", "/filings/{filing_id}", lambda t: Req(f"/filings/{t.filing_referral}"),
      only(*APPLICANTS, "hospital_ref"), label="a referral"),
    R("GET", "/filings/{filing_id}", lambda t: Req(f"/filings/{t.filing_b}"),
      only("insured_b", "street_b", "center_b", "admin"), label="a Baoding person's"),
    R("POST", "/filings/{filing_id}/documents",
      lambda t: Req(f"/filings/{t.filing_referral}/documents", **upload(t.filing_doc_type)),
      only(*APPLICANTS)),
    R("GET", "/filings/{filing_id}/documents/{document_id}",
      lambda t: Req(f"/filings/{t.filing_approved}/documents/{t.filing_document}"),
      only(*APPLICANTS, "hospital_a")),
    R("POST", "/filings/{filing_id}/referral-stamp",
      lambda t: Req(f"/filings/{t.filing_referral}/referral-stamp"),
      only("hospital_ref")),  # 409: stamped already
    R("POST", "/filings/{filing_id}/hospital-stamp",
      lambda t: Req(f"/filings/{t.filing_submitted}/hospital-stamp"),
      only("hospital_a")),  # 409: stamped already (a chosen hospital, for itself only)
    R("POST", "/filings/{filing_id}/submit", lambda t: Req(f"/filings/{t.filing_referral}/submit"),
      only(*APPLICANTS)),
    R("POST", "/filings/{filing_id}/withdraw",
      lambda t: Req(f"/filings/{t.filing_submitted}/withdraw", {"reason": "filed by mistake"}),
      only(*APPLICANTS)),
    R("POST", "/filings/{filing_id}/approve",
      lambda t: Req(f"/filings/{t.filing_submitted}/approve"), only(*REVIEWERS)),
    R("POST", "/filings/{filing_id}/reject",
      lambda t: Req(f"/filings/{t.filing_submitted}/reject", {"reason": "not resident"}),
      only(*REVIEWERS)),
    R("POST", "/filings/{filing_id}/return",
      lambda t: Req(f"/filings/{t.filing_submitted}/return",
                    {"missing_documents": [t.filing_doc_type], "note": "unreadable"}),
      only(*REVIEWERS)),
    R("POST", "/filings/{filing_id}/change",
      lambda t: Req(f"/filings/{t.filing_approved}/change", {"hospital_ids": [t.hospital_a]}),
      only(*APPLICANTS)),
    R("POST", "/filings/{filing_id}/correct",
      lambda t: Req(f"/filings/{t.filing_approved}/correct",
                    {"reason": "hospital typed wrong", "hospital_ids": [t.hospital_a]}),
      only(*REVIEWERS)),
    R("POST", "/filings/{filing_id}/cancel",
      lambda t: Req(f"/filings/{t.filing_approved}/cancel", {"reason": "moving home"}),
      only(*APPLICANTS)),
    R("POST", "/filings/{filing_id}/renew", lambda t: Req(f"/filings/{t.filing_expired}/renew"),
      only(*APPLICANTS)),  # 409 filing.duplicate for them: the referral is open
    R("GET", "/filings/{filing_id}/certificate",
      lambda t: Req(f"/filings/{t.filing_approved}/certificate"),
      only(*APPLICANTS, "hospital_a")),
    R("GET", "/filings/{filing_id}/certificate.pdf",
      lambda t: Req(f"/filings/{t.filing_approved}/certificate.pdf"),
      only(*APPLICANTS, "hospital_a")),
    # --- encounters: the hospital of the encounter (any hospital admits anyone) --------
    R("POST", "/encounters",
      lambda t: Req("/encounters", {"identity_number": t.retiree_identity,
                                    "setting": "outpatient", "started_on": "2026-05-10"}),
      {**only("hospital_a", "hospital_b", "hospital_ref"), "pharmacy": BLOCKED}),
    R("GET", "/encounters", lambda t: Req("/encounters", params={"limit": 500}),
      lists=("encounter_settled", "encounter_open"),
      expect={
          "hospital_a": Finds("encounter_settled", "encounter_open"),
          "admin": Finds("encounter_settled", "encounter_open"),
      }),
    R("GET", "/encounters/{encounter_id}", lambda t: Req(f"/encounters/{t.encounter_open}"),
      only("hospital_a", "admin")),
    R("POST", "/encounters/{encounter_id}/cancel",
      lambda t: Req(f"/encounters/{t.encounter_settled}/cancel", {"reason": "by mistake"}),
      only("hospital_a")),  # 409 for it: a standing settlement is reversed first
    R("POST", "/encounters/{encounter_id}/fees",
      lambda t: Req(f"/encounters/{t.encounter_open}/fees",
                    {"lines": [{"line_id": "V2", "code": "X001", "quantity": "1",
                                "unit_price": "20.00"}]}),
      only("hospital_a")),
    R("DELETE", "/encounters/{encounter_id}/fees/{line_id}",
      lambda t: Req(f"/encounters/{t.encounter_open}/fees/V1"), only("hospital_a")),
    R("POST", "/encounters/{encounter_id}/pre-settle",
      lambda t: Req(f"/encounters/{t.encounter_open}/pre-settle", {"on": "2026-05-10"}),
      only("hospital_a")),
    R("POST", "/encounters/{encounter_id}/settle",
      lambda t: Req(f"/encounters/{t.encounter_open}/settle",
                    {"on": "2026-05-10", "msg_id": "MSG-A-9"}),
      only("hospital_a")),
    # --- settlements ---------------------------------------------------------------------
    R("POST", "/settlements/{settlement_id}/reverse",
      lambda t: Req(f"/settlements/{t.settlement_a}/reverse", {"reason": "wrong patient"}),
      only("hospital_a", "admin")),
    R("POST", "/settlements/{settlement_id}/reverse",
      lambda t: Req(f"/settlements/{t.settlement_reimbursement_a}/reverse", {}),
      NOBODY, label="a reimbursement's settlement"),
    R("POST", "/settlements/reverse-by-message",
      lambda t: Req("/settlements/reverse-by-message", {"original_msg_id": t.settlement_a_msg}),
      {"hospital_a": ALLOW, "admin": UNSPECIFIED}),
    R("POST", "/settlements/reverse-by-message",
      lambda t: Req("/settlements/reverse-by-message",
                    {"original_msg_id": f"reimbursement-{t.claim_approved}"}),
      NOBODY, label="a reimbursement's settlement"),
    R("GET", "/settlements", lambda t: Req("/settlements", params={"limit": 500}),
      lists=(*A_SETTLEMENTS, *B_SETTLEMENTS),
      expect={
          "insured_a": Finds(*A_SETTLEMENTS),
          "insured_b": Finds(*B_SETTLEMENTS),
          "street_a": Finds(*A_SETTLEMENTS),
          "center_a": Finds(*A_SETTLEMENTS),
          "street_b": Finds(*B_SETTLEMENTS),
          "center_b": Finds(*B_SETTLEMENTS),
          "treatment": Finds("settlement_a", "settlement_sale_a", "settlement_b_sanya",
                             maybe=("settlement_reimbursement_a",)),
          # its own institution's, never one whose source is a reimbursement
          "hospital_a": Finds("settlement_a", "settlement_b_sanya"),
          "hospital_b": Finds("settlement_b_local"),
          "hospital_ref": Finds("settlement_b_beijing"),
          "pharmacy": Finds("settlement_sale_a"),
          "admin": Finds(*A_SETTLEMENTS, *B_SETTLEMENTS),
      }),
    R("GET", "/settlements/totals",
      lambda t: Req("/settlements/totals", params={"year_month": MONTH,
                                                   "insured_region": "110000",
                                                   "treatment_region": "460200"}),
      only("center_a", "treatment", "admin")),
    R("GET", "/settlements/{settlement_id}", lambda t: Req(f"/settlements/{t.settlement_a}"),
      only("insured_a", "street_a", "center_a", "treatment", "hospital_a", "admin")),
    R("GET", "/settlements/{settlement_id}",
      lambda t: Req(f"/settlements/{t.settlement_reimbursement_a}"),
      {**only("insured_a", "street_a", "center_a", "admin"), "treatment": UNSPECIFIED},
      label="a reimbursement's settlement"),
    R("GET", "/settlements/{settlement_id}", lambda t: Req(f"/settlements/{t.settlement_b_beijing}"),
      only("insured_b", "street_b", "center_b", "hospital_ref", "admin"),
      label="a Baoding person treated in Beijing"),
    # --- pharmacy sales: the pharmacy; admins read ----------------------------------------
    R("POST", "/pharmacy/sales",
      lambda t: Req("/pharmacy/sales", {"card_number": "BJ0001", "on": "2026-05-15",
                                        "lines": [{"line_id": "P2", "code": "X001",
                                                   "quantity": "1", "unit_price": "30.00"}]}),
      {"pharmacy": ALLOW, **only("hospital_a", "hospital_b", "hospital_ref", outcome=BLOCKED)}),
    R("GET", "/pharmacy/sales/{sale_id}", lambda t: Req(f"/pharmacy/sales/{t.sale_a}"),
      only("pharmacy", "admin")),
    R("POST", "/pharmacy/sales/{sale_id}/reverse",
      lambda t: Req(f"/pharmacy/sales/{t.sale_a}/reverse", {}), only("pharmacy")),
    # --- recovery: the centre of the insured region; admin ------------------------------
    R("GET", "/recovery/cases", lambda t: Req("/recovery/cases"), lists=("recovery_case_a",),
      expect=only("center_a", "admin", outcome=Finds("recovery_case_a"))),
    R("GET", "/recovery/cases/{case_id}", lambda t: Req(f"/recovery/cases/{t.recovery_case_a}"),
      only("center_a", "admin")),
    R("POST", "/recovery/cases/{case_id}/close",
      lambda t: Req(f"/recovery/cases/{t.recovery_case_a}/close",
                    {"recovered": "100.00", "note": "the driver's insurer paid"}),
      only("center_a", "admin")),
    # --- reimbursements: claim side and review side --------------------------------------
    R("POST", "/reimbursements",
      lambda t: Req("/reimbursements", claim_body(t.retiree, t.hospital_a, "INV-A-9")),
      only(*CLAIMANTS)),
    R("GET", "/reimbursements", lambda t: Req("/reimbursements"),
      lists=(*CLAIM_LISTS, "claim_b"),
      expect={
          **only("insured_a", "unit_a", "street_a", "center_a", outcome=Finds(*CLAIM_LISTS)),
          **only("insured_b", "street_b", "center_b", outcome=Finds("claim_b")),
          "admin": Finds(*CLAIM_LISTS, "claim_b"),
      }),
    R("GET", "/reimbursements/{claim_id}", lambda t: Req(f"/reimbursements/{t.claim_submitted}"),
      only(*CLAIM_READERS)),
    R("GET", "/reimbursements/{claim_id}", lambda t: Req(f"/reimbursements/{t.claim_b}"),
      only("insured_b", "street_b", "center_b", "admin"), label="a Baoding person's"),
    R("POST", "/reimbursements/{claim_id}/documents",
      lambda t: Req(f"/reimbursements/{t.claim_submitted}/documents", **upload(t.claim_doc_type)),
      only(*CLAIMANTS)),
    R("GET", "/reimbursements/{claim_id}/documents/{document_id}",
      lambda t: Req(f"/reimbursements/{t.claim_submitted}/documents/{t.claim_document}"),
      only(*CLAIM_READERS)),
    R("POST", "/reimbursements/{claim_id}/resubmit",
      lambda t: Req(f"/reimbursements/{t.claim_returned}/resubmit"), only(*CLAIMANTS)),
    R("POST", "/reimbursements/{claim_id}/review",
      lambda t: Req(f"/reimbursements/{t.claim_submitted}/review"), only(*REVIEWERS)),
    R("POST", "/reimbursements/{claim_id}/return",
      lambda t: Req(f"/reimbursements/{t.claim_under_review}/return",
                    {"missing_documents": [t.claim_doc_type], "note": "unreadable"}),
      only(*REVIEWERS)),
    R("POST", "/reimbursements/{claim_id}/approve",
      lambda t: Req(f"/reimbursements/{t.claim_under_review}/approve"), only(*REVIEWERS)),
    R("POST", "/reimbursements/{claim_id}/override",
      lambda t: Req(f"/reimbursements/{t.claim_under_review}/override", {"reason": "checked"}),
      only(*REVIEWERS)),  # 409 for them: nothing blocking to override
    R("POST", "/reimbursements/{claim_id}/reject",
      lambda t: Req(f"/reimbursements/{t.claim_under_review}/reject", {"reason": "not original"}),
      only(*REVIEWERS)),
    R("POST", "/reimbursements/{claim_id}/pay",
      lambda t: Req(f"/reimbursements/{t.claim_approved}/pay", {"reference": "BANK-1"}),
      only(*REVIEWERS)),
    R("GET", "/reimbursements/{claim_id}/decision",
      lambda t: Req(f"/reimbursements/{t.claim_approved}/decision"), only(*CLAIM_READERS)),
    R("GET", "/reimbursements/{claim_id}/decision.pdf",
      lambda t: Req(f"/reimbursements/{t.claim_approved}/decision.pdf"), only(*CLAIM_READERS)),
    # --- audit findings: the centre of the person's insured region; admin --------------
    R("GET", "/audit-findings",
      lambda t: Req("/audit-findings", params={"person_id": t.retiree}),
      lists=("findings_a",), key=finding_key,
      expect=only("center_a", "admin", outcome=Finds("findings_a"))),
    R("GET", "/audit-findings",
      lambda t: Req("/audit-findings", params={"subject_kind": "reimbursement",
                                                "subject_id": t.claim_submitted}),
      lists=("finding_claim_a",), key=finding_key,
      expect=only("center_a", "admin", outcome=Finds("finding_claim_a")),
      label="one claim"),
    R("GET", "/audit-findings",
      lambda t: Req("/audit-findings", params={"person_id": t.baoding}),
      lists=("findings_b",), key=finding_key,
      expect=only("center_b", "admin", outcome=Finds("findings_b")),
      label="a Baoding person"),
    R("POST", "/audit-findings/run", lambda t: Req("/audit-findings/run", params={"month": MONTH}),
      only("center_a", "center_b", "admin")),
    # --- clearing: the debtor (insured region's centre), the creditor (treatment agency)
    R("POST", "/clearing/months/{month}", lambda t: Req(f"/clearing/months/{MONTH}"),
      lists=("pair_a", "pair_b", "pair_b_beijing"), key=region_pair,
      expect={
          "center_a": Finds("pair_a"),  # the debtor of A's, never the creditor side
          "center_b": Finds("pair_b", "pair_b_beijing"),
          "treatment": Finds("pair_a", "pair_b"),  # the creditor of Sanya's
          "admin": Finds("pair_a", "pair_b", "pair_b_beijing"),
      }),
    # confirming: the debtor's centre asks (202), a second user approves
    R("POST", "/clearing/months/{month}",
      lambda t: Req(f"/clearing/months/{MONTH}", params={"confirm": "true"}),
      lists=("pair_a",), key=region_pair,
      expect={
          **only(*ACTORS, outcome=DENY),
          "center_a": Allow(202),
          "center_b": Finds(),  # its own statement at most, never A's
          "admin": ALLOW,
      },
      after=statement_a_not_confirmed, label="confirm=true"),
    R("POST", "/clearing/statements/{statement_id}/confirm",
      lambda t: Req(f"/clearing/statements/{t.statement_a}/confirm"),
      {"center_a": Allow(202), "admin": ALLOW}, after=statement_a_not_confirmed),
    R("GET", "/clearing/statements", lambda t: Req("/clearing/statements", params={"month": MONTH}),
      lists=("statement_a", "statement_b", "statement_b_beijing"),
      expect={
          "center_a": Finds("statement_a"),
          "center_b": Finds("statement_b", "statement_b_beijing"),
          "treatment": Finds("statement_a", "statement_b"),
          "admin": Finds("statement_a", "statement_b", "statement_b_beijing"),
      }),
    R("GET", "/clearing/statements/{statement_id}",
      lambda t: Req(f"/clearing/statements/{t.statement_a}"),
      only("center_a", "treatment", "admin")),
    R("GET", "/clearing/statements/{statement_id}",
      lambda t: Req(f"/clearing/statements/{t.statement_b_beijing}"),
      only("center_b", "admin"), label="Baoding owes Beijing: no party of Beijing's centre"),
    R("GET", "/clearing/statements/{statement_id}/settlements",
      lambda t: Req(f"/clearing/statements/{t.statement_a}/settlements"),
      only("center_a", "treatment", "admin")),
    # the advance fund (预付金): both parties read it; the paying centre asks to record it
    R("GET", "/clearing/advance-funds", lambda t: Req("/clearing/advance-funds"),
      lists=("pair_a", "pair_b", "pair_b_beijing"), key=region_pair,
      expect={
          "center_a": Finds("pair_a"),
          "center_b": Finds("pair_b", "pair_b_beijing"),
          "treatment": Finds("pair_a", "pair_b"),
          "admin": Finds("pair_a", "pair_b", "pair_b_beijing"),
      }),
    R("POST", "/clearing/advance-funds",
      lambda t: Req("/clearing/advance-funds", {"insured_region": "110000",
                                                "treatment_region": "460200",
                                                "amount": "1000.00"}),
      {"center_a": Allow(202), "admin": Allow(202)}, after=no_advance_fund_recorded),
    R("POST", "/clearing/advance-funds",
      lambda t: Req("/clearing/advance-funds", {"insured_region": "130600",
                                                "treatment_region": "460200",
                                                "amount": "1000.00"}),
      {"center_b": Allow(202), "admin": Allow(202)}, after=no_advance_fund_recorded,
      label="Baoding pays"),
    # --- reconciliation: the hospital, the agency of its region, admin ------------------
    R("POST", "/reconciliations",
      lambda t: Req("/reconciliations", {"institution_id": t.hospital_a,
                                         "period_from": "2026-05-01", "period_to": "2026-05-31",
                                         "count": 0, "total": "0.00", "fund_pay": "0.00"}),
      only("hospital_a", "treatment", "admin")),
    R("GET", "/reconciliations", lambda t: Req("/reconciliations"),
      lists=("reconciliation_a", "reconciliation_b"),
      expect={
          "hospital_a": Finds("reconciliation_a"),
          "hospital_b": Finds("reconciliation_b"),
          "treatment": Finds("reconciliation_a"),
          "center_b": Finds(maybe=("reconciliation_b",)),  # Baoding has no treatment agency
          "admin": Finds("reconciliation_a", "reconciliation_b"),
      }),
    R("GET", "/reconciliations/{reconciliation_id}",
      lambda t: Req(f"/reconciliations/{t.reconciliation_a}"),
      only("hospital_a", "treatment", "admin")),
]  # fmt: skip


# --- the table against the OpenAPI -------------------------------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# the probes answer anyone and show nothing of any tenant (tests/e2e/test_observability.py)
UNGUARDED = {("GET", "/health"), ("GET", "/healthz"), ("GET", "/readyz")}


def openapi_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(API))
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    } - UNGUARDED


def test_every_route_has_a_row(app: FastAPI) -> None:
    missing = openapi_routes(app) - {(r.method, r.path) for r in ROWS}
    assert not missing, "routes without a row in ROWS:\n" + "\n".join(
        f"  {m} {p}" for m, p in sorted(missing, key=lambda x: (x[1], x[0]))
    )


def test_every_row_is_a_route(app: FastAPI) -> None:
    gone = {(r.method, r.path) for r in ROWS} - openapi_routes(app)
    assert not gone, "rows for routes the OpenAPI does not have:\n" + "\n".join(
        f"  {m} {p}" for m, p in sorted(gone, key=lambda x: (x[1], x[0]))
    )


def test_rows_name_known_actors_and_objects() -> None:
    fields = set(Tenants.__dataclass_fields__)
    for row in ROWS:
        assert set(row.expect) <= set(ACTORS), row.id
        assert set(row.lists) <= fields, row.id
        for outcome in row.expect.values():
            if isinstance(outcome, Finds):
                assert outcome.names | outcome.maybe <= set(row.lists), row.id


# --- running the table -------------------------------------------------------------------


@pytest.fixture
def tenants(
    client: TestClient, session: Session, world: World, make_user: MakeUser, app: FastAPI
) -> Tenants:
    return build_tenants(client, session, world, make_user, app)


@pytest.fixture
def caller(app: FastAPI) -> Iterator[TestClient]:
    """A client that answers server errors as 500 instead of raising them."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """Run one call inside a savepoint of the test's connection, then undo it."""
    session.commit()
    savepoint = session.get_bind().begin_nested()  # type: ignore[union-attr]
    try:
        yield
    finally:
        session.close()  # ends the session's own savepoint, forgets what it loaded
        if savepoint.is_active:
            savepoint.rollback()


_keys = count(1)


def keys_of(t: Tenants, name: str) -> set[Any]:
    value = getattr(t, name)
    if value is None:
        return set()
    return set(value) if isinstance(value, frozenset | set | tuple) else {value}


def judge_list(row: Row, outcome: Finds, t: Tenants, status: int, body: Any) -> str | None:
    if status in (403, 404) and not outcome.names:
        return None
    if not 200 <= status < 300:
        return "expected a list" + (" (or 403/404)" if not outcome.names else "")
    got = {row.key(item) for item in body} if isinstance(body, list) else set()
    problems = []
    for name in sorted(outcome.names):
        wanted = keys_of(t, name)
        if not wanted:
            problems.append(f"the world has no {name}")
        elif not wanted <= got:
            problems.append(f"{name} missing")
    hidden = set(row.lists) - outcome.names - outcome.maybe
    leaked = [name for name in sorted(hidden) if keys_of(t, name) & got]
    if leaked:
        problems.append("leaks " + ", ".join(leaked))
    return "; ".join(problems) or None


def run_case(row: Row, actor: str, t: Tenants, caller: TestClient, session: Session) -> str | None:
    """Call the row's route as ``actor``; what is wrong with the answer, or None."""
    req = row.call(t)
    headers = dict(t.users[actor].headers)
    if row.method != "GET":
        headers["Idempotency-Key"] = f"matrix-{next(_keys)}"
    outcome = row.outcome(actor)
    with rolled_back(session):
        response = caller.request(
            row.method,
            API + req.path,
            params=req.params,
            json=req.json,
            data=req.data,
            files=req.files,
            headers=headers,
        )
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(outcome, Finds):
            problem = judge_list(row, outcome, t, status, body)
        else:
            problem = outcome.judge(status)
        let_through = 200 <= status < 300
        if problem is None and row.check is not None and let_through:
            problem = row.check(actor, t, body)
        if problem is None and row.after is not None:
            problem = row.after(actor, t, session)
    if problem is None:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    shown = f"{status}" + (f" {code}" if code else "")
    if status >= 500 or (status >= 400 and not code):
        shown += f" {response.text[:160]}"
    return f"{actor:<12} got {shown}: {problem}"


def test_tenant_matrix(
    subtests: Any, tenants: Tenants, caller: TestClient, session: Session
) -> None:
    """Every row, every actor; one subtest per row listing the actors answered wrongly."""
    for row in ROWS:
        with subtests.test(msg=row.id):
            problems = [
                problem
                for actor in ACTORS
                if (problem := run_case(row, actor, tenants, caller, session)) is not None
            ]
            notes = tenants.notes if row.path.startswith("/approvals") else []
            assert not problems, "\n".join([row.id, *problems, *notes])
