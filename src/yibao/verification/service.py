"""Issuing printed documents and checking them (出具与验证).

Printing a document (:func:`issue_filing_certificate`, :func:`issue_settlement_slip`,
:func:`issue_claim_letter`, :func:`issue_clearing_statement`) reads the object through its
own concept's service with the printing user as the actor (who may see it decides who may
print it), then records the printed version (:class:`IssuedDocument`) and gives its
verification code. The same version printed again shows the same code; a changed object
(other hospitals on a filing, a rebuilt statement, a new decision) prints a new code.

:func:`check` is public: anyone holding a code learns whether the document is genuine, what
it is, and whether it is still valid today, decided from the live object by its concept's
own rules (the filing's state as of today, a settlement's reversal, a claim's state, the
statement's confirmation), with the person's name and identity number masked.

Codes are 20 characters of base32 (100 bits): guessing one is hopeless, whatever the rate
of tries (at a million tries a second, finding one of a billion issued documents takes
about 40,000 years on average).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.clearing import service as clearing
from yibao.clearing.models import ClearingStatement
from yibao.clock import business_date
from yibao.errors import Conflict
from yibao.filings import rules as filing_rules
from yibao.filings import service as filings
from yibao.filings import views as filing_views
from yibao.filings.models import Filing
from yibao.filings.states import FilingState
from yibao.identity import mask_identity_number
from yibao.money import from_fen
from yibao.registry import repository as registry_repo
from yibao.registry.access import CENTER, TREATMENT
from yibao.registry.models import Institution, Person, Region
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.models import ReimbursementClaim
from yibao.reimbursements.states import ClaimState
from yibao.settlements import service as settlements
from yibao.settlements.models import SettlementRecord
from yibao.verification import repository as repo
from yibao.verification.models import IssuedDocument

FILING_CERTIFICATE: Final = "filing_certificate"
SETTLEMENT_SLIP: Final = "settlement_slip"
CLAIM_DECISION: Final = "claim_decision"
CLAIM_RETURN: Final = "claim_return"
CLEARING_STATEMENT: Final = "clearing_statement"

CODE_LENGTH: Final = 20
"""Characters of base32 in a code: 100 bits."""
_CODE_SHAPE: Final = re.compile(r"^[A-Z2-7]{20}$")
DECIDED: Final = (ClaimState.APPROVED, ClaimState.PAID, ClaimState.REJECTED)


# --- codes ---------------------------------------------------------------------------------


def code_of(salt: str, secret: str) -> str:
    """The code of a document with ``salt``: base32 of an HMAC under the platform's key."""
    digest = hmac.new(secret.encode(), f"verification:{salt}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def normalise_code(text: str) -> str | None:
    """A typed code without spaces and hyphens, upper case; None if it cannot be one."""
    cleaned = re.sub(r"[\s\-]", "", text).upper()
    return cleaned if _CODE_SHAPE.match(cleaned) else None


def grouped(code: str) -> str:
    """``ABCD-EFGH-...``: the code as printed, easy to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _fingerprint(content: Any) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- issuing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Printed:
    """A printed document: what the paper carries besides its body."""

    kind: str
    object_id: int
    number: str
    issuer: str
    issued_at: datetime
    code: str

    @property
    def code_grouped(self) -> str:
        return grouped(self.code)


def _issue(
    session: Session,
    *,
    kind: str,
    object_id: int,
    content: Any,
    number: str,
    issuer: str,
    actor: User,
    secret: str,
    now: datetime,
) -> Printed:
    fingerprint = _fingerprint(content)
    for row in repo.versions(session, kind=kind, object_id=object_id, fingerprint=fingerprint):
        code = code_of(row.salt, secret)
        if hmac.compare_digest(_hash(code), row.code_hash):  # same key as when issued
            return Printed(kind, object_id, row.number, row.issuer, row.issued_at, code)
    salt = secrets.token_hex(16)
    code = code_of(salt, secret)
    row = IssuedDocument(
        code_hash=_hash(code),
        salt=salt,
        kind=kind,
        object_id=object_id,
        fingerprint=fingerprint,
        number=number[:60],
        issuer=issuer[:200],
        issued_at=now,
        issued_by=actor.id,
    )
    session.add(row)
    session.flush()
    return Printed(kind, object_id, row.number, row.issuer, now, code)


def _agency_name(session: Session, region: str, kind: str) -> str:
    """The agency of ``kind`` in ``region``, else the region's own name."""
    agencies = registry_repo.list_agencies(session, region_code=region, kind=kind)
    if agencies:
        return agencies[0].name
    found = session.get(Region, region)
    return found.name if found is not None else region


def _filing_content(cert: dict[str, Any]) -> dict[str, Any]:
    # What a change of the filing makes another version of the paper; a cancellation or
    # the validity shortened by it is a change of state, said as "no longer valid".
    return {
        "number": cert["filing_number"],
        "category": cert["category"],
        "person": cert["person"]["id"],
        "destination": cert["destination"]["code"],
        "valid_from": cert["valid_from"],
        "hospitals": [h["id"] for h in cert["hospitals"]],
    }


def issue_filing_certificate(
    session: Session, *, actor: User, filing_id: int, secret: str, now: datetime
) -> tuple[Printed, dict[str, Any]]:
    """The certificate of an approved filing the actor may see (404/409 as the API's
    ``GET /filings/{id}/certificate``), and its printed version."""
    cert = filings.certificate(session, actor=actor, filing_id=filing_id)
    printed = _issue(
        session,
        kind=FILING_CERTIFICATE,
        object_id=filing_id,
        content=_filing_content(cert),
        number=cert["filing_number"],
        issuer=_agency_name(session, cert["insured_region"]["code"], CENTER),
        actor=actor,
        secret=secret,
        now=now,
    )
    return printed, cert


def settlement_number(row: SettlementRecord) -> str:
    return f"JS{row.treatment_region}-{row.id:08d}"


def _settlement_issuer(session: Session, row: SettlementRecord) -> str:
    if row.institution_id is not None and row.source != "reimbursement":
        institution = session.get(Institution, row.institution_id)
        if institution is not None:
            return institution.name
    return _agency_name(session, row.insured_region, CENTER)


def issue_settlement_slip(
    session: Session, *, actor: User, settlement_id: int, secret: str, now: datetime
) -> tuple[Printed, SettlementRecord]:
    """The slip of a settlement the actor may see (the person, the hospital that made it,
    the agencies of its regions), and its printed version."""
    row = settlements.get_settlement(session, actor=actor, settlement_id=settlement_id)
    printed = _issue(
        session,
        kind=SETTLEMENT_SLIP,
        object_id=row.id,
        content={"id": row.id, "kind": row.kind, "total": row.total_fen},
        number=settlement_number(row),
        issuer=_settlement_issuer(session, row),
        actor=actor,
        secret=secret,
        now=now,
    )
    return printed, row


def claim_number(claim: ReimbursementClaim, *, returned: bool) -> str:
    return f"{'BXTH' if returned else 'BXJD'}{claim.insured_region}-{claim.id:08d}"


def issue_claim_letter(
    session: Session, *, actor: User, claim_id: int, secret: str, now: datetime
) -> tuple[Printed, ReimbursementClaim, dict[str, Any] | None]:
    """The letter on a claim the actor may see: the decision (approved, paid, rejected:
    :func:`yibao.reimbursements.service.decision_for`) or, for a returned claim, the notice
    listing what is missing (the decision is then None). Any other state: 409."""
    claim = reimbursements.get_claim(session, actor=actor, claim_id=claim_id)
    decision: dict[str, Any] | None = None
    if claim.state == ClaimState.RETURNED:
        kind = CLAIM_RETURN
        content: Any = {"missing": list(claim.missing_documents), "note": claim.return_note}
    else:
        decision = reimbursements.decision_for(session, actor=actor, claim_id=claim_id)
        kind = CLAIM_DECISION
        content = {
            "decision": "rejected" if claim.state == ClaimState.REJECTED else "approved",
            "payout": claim.payout_fen,
            "reason": claim.rejection_reason,
            "decided_at": claim.decided_at,
        }
    printed = _issue(
        session,
        kind=kind,
        object_id=claim.id,
        content=content,
        number=claim_number(claim, returned=kind == CLAIM_RETURN),
        issuer=_agency_name(session, claim.insured_region, CENTER),
        actor=actor,
        secret=secret,
        now=now,
    )
    return printed, claim, decision


def statement_number(row: ClearingStatement) -> str:
    return f"QS{row.year_month.replace('-', '')}-{row.insured_region}-{row.treatment_region}"


def _statement_content(row: ClearingStatement) -> dict[str, Any]:
    return {
        "state": row.state,
        "figures": [
            row.settlements,
            row.reversals,
            row.total_fen,
            row.pool_fen,
            row.supplementary_fen,
            row.assistance_fen,
            row.account_fen,
            row.cash_fen,
        ],
    }


def issue_clearing_statement(
    session: Session, *, actor: User, statement_id: int, secret: str, now: datetime
) -> tuple[Printed, ClearingStatement]:
    """A clearing statement the actor is a party to, and its printed version (issued by the
    treatment region's agency, to which the insured region owes it)."""
    row = clearing.get_statement(session, actor=actor, statement_id=statement_id)
    printed = _issue(
        session,
        kind=CLEARING_STATEMENT,
        object_id=row.id,
        content=_statement_content(row),
        number=statement_number(row),
        issuer=_agency_name(session, row.treatment_region, TREATMENT),
        actor=actor,
        secret=secret,
        now=now,
    )
    return printed, row


# --- checking ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """What anyone holding a code learns. ``genuine`` False: nothing else.

    ``status``: ``valid``; ``not_yet_valid`` (a filing from ``since``); ``cancelled``,
    ``expired`` (a filing, no longer valid from ``since``); ``reversed`` (a settlement,
    on ``since``); ``superseded`` (a newer version of the document was issued on ``since``,
    or the record changed since); ``resubmitted`` (a returned claim completed since);
    ``withdrawn`` (the object is gone or no longer in a printable state)."""

    genuine: bool
    checked_on: date
    kind: str | None = None
    number: str | None = None
    issuer: str | None = None
    issued_at: datetime | None = None
    valid: bool = False
    status: str | None = None
    since: date | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def _person_facts(session: Session, person_id: int) -> dict[str, Any]:
    person = session.get(Person, person_id)
    if person is None:
        return {}
    return {
        "person_name": filing_rules.mask_name(person.name),
        "identity_number_masked": mask_identity_number(person.identity_number),
    }


def _region(session: Session, code: str) -> str:
    found = session.get(Region, code)
    return found.name if found is not None else code


def _newer(session: Session, doc: IssuedDocument) -> date | None:
    latest = repo.latest_version(session, kind=doc.kind, object_id=doc.object_id)
    if latest is not None and latest.id != doc.id and latest.fingerprint != doc.fingerprint:
        return _china_day(latest.issued_at)
    return None


def _china_day(at: datetime) -> date:
    return business_date(at if at.tzinfo else at.replace(tzinfo=UTC))


def _check_filing(
    session: Session, doc: IssuedDocument, filing: Filing | None, today: date
) -> tuple[str, date | None, dict[str, Any]]:
    if filing is None or filing.number is None or filing.valid_from is None:
        return "withdrawn", None, {}
    cert = filing_views.certificate_data(session, filing=filing)
    state = filing_views.current_state(filing, today)
    facts = {
        **_person_facts(session, filing.person_id),
        "category": filing.category,
        "insured_region": _region(session, filing.insured_region),
        "destination": _region(session, filing.destination),
        "valid_from": filing.valid_from,
        "valid_to": filing.valid_to,
        "cancelled_on": filing.cancelled_on,
        # where it applies, so that a hospital shown the paper sees whether it is covered
        "all_networked_hospitals": cert["all_networked_hospitals"],
        "hospitals": [h["name"] for h in cert["hospitals"]],
    }
    if state == FilingState.CANCELLED:
        return "cancelled", filing_views.local_use_from(filing, today), facts
    if state == FilingState.EXPIRED:
        return "expired", filing_views.local_use_from(filing, today), facts
    if state != FilingState.APPROVED:
        return "withdrawn", None, facts
    if _fingerprint(_filing_content(cert)) != doc.fingerprint:
        return "superseded", _newer(session, doc), facts
    if today < filing.valid_from:
        return "not_yet_valid", filing.valid_from, facts
    return "valid", None, facts


def _check_settlement(
    session: Session, doc: IssuedDocument, row: SettlementRecord | None
) -> tuple[str, date | None, dict[str, Any]]:
    if row is None:
        return "withdrawn", None, {}
    facts = {
        **_person_facts(session, row.person_id),
        "claim_date": row.claim_date,
        "total": from_fen(row.total_fen),
        "fund_pay_total": from_fen(row.fund_pay_total_fen),
        "treatment_region": _region(session, row.treatment_region),
        "reversal": row.kind == "reversal",
    }
    if row.state == "reversed":
        reversal = repo.reversal_of(session, row.id)
        return "reversed", _china_day(reversal.created_at) if reversal else None, facts
    return "valid", None, facts


def _check_claim(
    session: Session, doc: IssuedDocument, claim: ReimbursementClaim | None
) -> tuple[str, date | None, dict[str, Any]]:
    if claim is None:
        return "withdrawn", None, {}
    facts = {
        **_person_facts(session, claim.person_id),
        "treatment_date": claim.treatment_date,
        "claim_state": claim.state,
        "payout": from_fen(claim.payout_fen) if claim.payout_fen is not None else None,
    }
    if doc.kind == CLAIM_RETURN:
        if claim.state != ClaimState.RETURNED:
            return "resubmitted", _newer(session, doc), facts
        return "valid", None, facts
    if claim.state not in DECIDED:
        return "withdrawn", None, facts
    content = {
        "decision": "rejected" if claim.state == ClaimState.REJECTED else "approved",
        "payout": claim.payout_fen,
        "reason": claim.rejection_reason,
        "decided_at": claim.decided_at,
    }
    if _fingerprint(content) != doc.fingerprint:
        return "superseded", _newer(session, doc), facts
    return "valid", None, facts


def _check_statement(
    session: Session, doc: IssuedDocument, row: ClearingStatement | None
) -> tuple[str, date | None, dict[str, Any]]:
    if row is None:
        return "withdrawn", None, {}
    facts = {
        "year_month": row.year_month,
        "insured_region": _region(session, row.insured_region),
        "treatment_region": _region(session, row.treatment_region),
        "amount_due": from_fen(clearing.amount_due_fen(row)),
        "statement_state": row.state,
        "confirmed_at": row.confirmed_at,
    }
    if _fingerprint(_statement_content(row)) != doc.fingerprint:
        return "superseded", _newer(session, doc) or _china_day(row.built_at), facts
    return "valid", None, facts


def check(session: Session, *, code: str, today: date) -> Check:
    """Whether ``code`` is the code of a document Yibao issued, and whether that document
    is still valid ``today``. Public: no actor; only masked personal data comes back. The
    code is found by its digest (a changed secret key still finds every code issued)."""
    normal = normalise_code(code)
    doc = repo.by_code_hash(session, _hash(normal)) if normal else None
    if doc is None:
        return Check(genuine=False, checked_on=today)
    if doc.kind == FILING_CERTIFICATE:
        status, since, facts = _check_filing(
            session, doc, session.get(Filing, doc.object_id), today
        )
    elif doc.kind == SETTLEMENT_SLIP:
        status, since, facts = _check_settlement(
            session, doc, session.get(SettlementRecord, doc.object_id)
        )
    elif doc.kind in (CLAIM_DECISION, CLAIM_RETURN):
        status, since, facts = _check_claim(
            session, doc, session.get(ReimbursementClaim, doc.object_id)
        )
    elif doc.kind == CLEARING_STATEMENT:
        status, since, facts = _check_statement(
            session, doc, session.get(ClearingStatement, doc.object_id)
        )
    else:  # pragma: no cover - the table's check constraint allows no other kind
        raise Conflict(f"unknown document kind {doc.kind}", code="verification.kind")
    return Check(
        genuine=True,
        checked_on=today,
        kind=doc.kind,
        number=doc.number,
        issuer=doc.issuer,
        issued_at=doc.issued_at,
        valid=status == "valid",
        status=status,
        since=since,
        facts=facts,
    )
