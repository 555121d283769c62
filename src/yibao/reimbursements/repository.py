"""Queries of manual reimbursement."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from yibao.claim_checks.models import AuditFinding
from yibao.documents import repository as documents_repo
from yibao.documents.models import Document, DocumentOwner
from yibao.reimbursements.models import (
    ReimbursementClaim,
    ReimbursementInvoice,
    ReimbursementLine,
)


def get(session: Session, claim_id: int, *, lock: bool = False) -> ReimbursementClaim | None:
    stmt = select(ReimbursementClaim).where(ReimbursementClaim.id == claim_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one_or_none()


def invoices(session: Session, claim_id: int) -> list[ReimbursementInvoice]:
    return list(
        session.scalars(
            select(ReimbursementInvoice)
            .where(ReimbursementInvoice.claim_id == claim_id)
            .order_by(ReimbursementInvoice.id)
        )
    )


def lines(session: Session, claim_id: int) -> list[ReimbursementLine]:
    return list(
        session.scalars(
            select(ReimbursementLine)
            .where(ReimbursementLine.claim_id == claim_id)
            .order_by(ReimbursementLine.line_no)
        )
    )


def documents(session: Session, claim_id: int) -> list[Document]:
    """The claim's documents in upload order, superseded ones included."""
    return documents_repo.for_owner(session, DocumentOwner.claim(claim_id))


def list_claims(
    session: Session,
    *,
    where: ColumnElement[bool],
    states: Sequence[str] | None = None,
    limit: int = 100,
) -> list[ReimbursementClaim]:
    """Newest first; ``where`` is the caller's scope (see ``reimbursements.access``)."""
    stmt = select(ReimbursementClaim).where(where)
    if states:
        stmt = stmt.where(ReimbursementClaim.state.in_(list(states)))
    return list(session.scalars(stmt.order_by(ReimbursementClaim.id.desc()).limit(limit)))


def settled_claims_of(
    session: Session, *, person_id: int, states: Collection[str]
) -> list[ReimbursementClaim]:
    return list(
        session.scalars(
            select(ReimbursementClaim).where(
                ReimbursementClaim.person_id == person_id,
                ReimbursementClaim.state.in_(list(states)),
            )
        )
    )


def claims_with_invoices(
    session: Session, *, numbers: Collection[str], states: Collection[str]
) -> list[ReimbursementClaim]:
    """Claims in ``states`` holding any of the invoice numbers (as stored)."""
    if not numbers:
        return []
    holding = select(ReimbursementInvoice.claim_id).where(
        ReimbursementInvoice.number.in_(list(numbers))
    )
    return list(
        session.scalars(
            select(ReimbursementClaim).where(
                ReimbursementClaim.id.in_(holding),
                ReimbursementClaim.state.in_(list(states)),
            )
        )
    )


def page_claims(
    session: Session,
    *,
    where: ColumnElement[bool],
    states: Sequence[str] | None = None,
    case_type: str | None = None,
    finding_code: str | None = None,
    oldest_first: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[ReimbursementClaim]:
    """A page of claims in ``where`` (the caller's scope), newest (or oldest) first,
    optionally of one case and only those with a stored audit finding of ``finding_code``."""
    stmt = select(ReimbursementClaim).where(where)
    if states:
        stmt = stmt.where(ReimbursementClaim.state.in_(list(states)))
    if case_type:
        stmt = stmt.where(ReimbursementClaim.case_type == case_type)
    if finding_code:
        flagged = select(AuditFinding.subject_id).where(
            AuditFinding.subject_kind == "reimbursement", AuditFinding.code == finding_code
        )
        stmt = stmt.where(ReimbursementClaim.id.in_(flagged))
    order = ReimbursementClaim.id.asc() if oldest_first else ReimbursementClaim.id.desc()
    return list(session.scalars(stmt.order_by(order).limit(limit).offset(offset)))


def finding_codes(session: Session, claim_ids: Collection[int]) -> list[tuple[int, str]]:
    """(claim id, finding code) of the stored findings of these claims, in one query."""
    if not claim_ids:
        return []
    rows = session.execute(
        select(AuditFinding.subject_id, AuditFinding.code)
        .where(
            AuditFinding.subject_kind == "reimbursement",
            AuditFinding.subject_id.in_(list(claim_ids)),
        )
        .order_by(AuditFinding.subject_id, AuditFinding.id)
    )
    return [(int(claim_id), str(code)) for claim_id, code in rows]
