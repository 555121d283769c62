"""Queries of issued documents (and the one read of a settlement's reversal they need)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.settlements.models import SettlementRecord
from yibao.verification.models import IssuedDocument


def by_code_hash(session: Session, code_hash: str) -> IssuedDocument | None:
    return session.scalars(
        select(IssuedDocument).where(IssuedDocument.code_hash == code_hash)
    ).one_or_none()


def versions(
    session: Session, *, kind: str, object_id: int, fingerprint: str
) -> list[IssuedDocument]:
    """The printed versions of an object with this content, newest first."""
    return list(
        session.scalars(
            select(IssuedDocument)
            .where(
                IssuedDocument.kind == kind,
                IssuedDocument.object_id == object_id,
                IssuedDocument.fingerprint == fingerprint,
            )
            .order_by(IssuedDocument.id.desc())
        )
    )


def latest_version(session: Session, *, kind: str, object_id: int) -> IssuedDocument | None:
    return session.scalars(
        select(IssuedDocument)
        .where(IssuedDocument.kind == kind, IssuedDocument.object_id == object_id)
        .order_by(IssuedDocument.id.desc())
        .limit(1)
    ).first()


def reversal_of(session: Session, settlement_id: int) -> SettlementRecord | None:
    """The reversal (冲正) of a settlement, if any (``uq_settlements_reverses_id``)."""
    return session.scalars(
        select(SettlementRecord).where(SettlementRecord.reverses_id == settlement_id)
    ).one_or_none()
