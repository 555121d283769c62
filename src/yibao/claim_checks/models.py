"""Stored audit findings, one row per finding, on a reimbursement claim or a settlement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.claim_checks.checks import Severity, finding_key, severity
from yibao.db import Base


class AuditFinding(Base):
    """A finding of one check; re-running the checks on a subject replaces its findings."""

    __tablename__ = "audit_findings"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('reimbursement', 'settlement')", name="subject_kind"),
        Index("ix_audit_findings_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    message: Mapped[str] = mapped_column(String(400))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def severity(self) -> Severity:
        """``blocking`` (stops an approval until overridden) or ``warning``."""
        return severity(self.code)

    @property
    def key(self) -> str:
        return finding_key(self.code, self.evidence)


class AuditRun(Base):
    """That the checks ran on a subject (and when), even when they found nothing."""

    __tablename__ = "audit_runs"
    __table_args__ = (
        CheckConstraint("subject_kind IN ('reimbursement', 'settlement')", name="subject_kind"),
    )

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    findings: Mapped[int] = mapped_column(Integer, default=0)
