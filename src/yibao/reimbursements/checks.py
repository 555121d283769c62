"""Manual claims as the claim checks (稽核) see them.

The checks themselves and the direct settlements' side live in :mod:`yibao.claim_checks`;
this module describes a claim as an :class:`AuditSubject` and adds the claims already
reimbursed to every check's history (registered as a history source), so the claim
checks need to know nothing of manual claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from yibao.claim_checks import service as claim_checks
from yibao.claim_checks.checks import AuditLine, AuditSubject, Invoice, PriorRecord
from yibao.claim_checks.models import AuditFinding
from yibao.errors import NotFound
from yibao.money import from_e4, from_fen
from yibao.registry.models import Person
from yibao.reimbursements import repository as repo
from yibao.reimbursements.models import ReimbursementClaim
from yibao.reimbursements.states import SETTLED_STATES


def _lines(session: Session, claim_id: int) -> tuple[AuditLine, ...]:
    return tuple(
        AuditLine(
            code=line.code,
            quantity=from_e4(line.quantity_e4),
            unit_price=from_e4(line.unit_price_e4),
            day=line.service_date,
            line_id=str(line.line_no),
        )
        for line in repo.lines(session, claim_id)
    )


def claim_subject(session: Session, claim: ReimbursementClaim) -> AuditSubject:
    person = session.get(Person, claim.person_id)
    if person is None:
        raise NotFound(f"person {claim.person_id} not found", code="person.not_found")
    inpatient = claim.setting == "inpatient"
    return AuditSubject(
        kind="reimbursement",
        ref=str(claim.id),
        person_id=str(claim.person_id),
        sex=person.sex,
        birth_date=person.birth_date,
        treatment_region=claim.treatment_region,
        setting=claim.setting,
        treatment_date=claim.treatment_date,
        lines=_lines(session, claim.id),
        invoices=tuple(
            Invoice(i.number, from_fen(i.amount_fen)) for i in repo.invoices(session, claim.id)
        ),
        declared_total=from_fen(claim.declared_total_fen),
        admitted_on=claim.admitted_on if inpatient else None,
        discharged_on=claim.treatment_date if inpatient else None,
    )


def _records(session: Session, claims: Sequence[ReimbursementClaim]) -> list[PriorRecord]:
    records = []
    for claim in claims:
        inpatient = claim.setting == "inpatient"
        records.append(
            PriorRecord(
                kind="reimbursement",
                ref=str(claim.id),
                person_id=str(claim.person_id),
                setting=claim.setting,
                treatment_date=claim.treatment_date,
                invoice_numbers=tuple(i.number for i in repo.invoices(session, claim.id)),
                admitted_on=claim.admitted_on if inpatient else None,
                discharged_on=claim.treatment_date if inpatient else None,
                lines=_lines(session, claim.id),
            )
        )
    return records


@claim_checks.register_history_source
def reimbursed_claims(
    session: Session, subject: AuditSubject, numbers: set[str]
) -> list[PriorRecord]:
    """The person's reimbursed claims, and anyone's that carry one of the invoice numbers."""
    person_id = int(subject.person_id)
    claims = {
        c.id: c
        for c in [
            *repo.settled_claims_of(session, person_id=person_id, states=SETTLED_STATES),
            *repo.claims_with_invoices(session, numbers=numbers, states=SETTLED_STATES),
        ]
    }
    return _records(session, [claims[k] for k in sorted(claims)])


def audit_claim(
    session: Session, *, claim: ReimbursementClaim, now: datetime | None = None
) -> list[AuditFinding]:
    """Run every check on a manual claim; its stored findings are replaced."""
    return claim_checks.check_subject(
        session, claim_subject(session, claim), insured_region=claim.insured_region, now=now
    )
