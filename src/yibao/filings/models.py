"""Off-site filings (异地就医备案): the filing and its chosen hospitals (documents:
:mod:`yibao.documents`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base
from yibao.filings.rules import CATEGORIES
from yibao.filings.states import FilingState

SUBMITTERS = ("person", "unit", "street_office", "agency")


def _one_of(column: str, values: Iterable[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Filing(Base):
    """One application to be treated off-site, from draft to approval and beyond."""

    __tablename__ = "filings"
    __table_args__ = (
        # Both lists as of migration 0008_filing_journeys; growing one needs a migration.
        CheckConstraint(_one_of("category", CATEGORIES), name="category"),
        CheckConstraint(_one_of("state", (str(s) for s in FilingState)), name="state"),
        CheckConstraint(
            "submitted_via IN ('person', 'unit', 'street_office', 'agency')", name="submitted_via"
        ),
        CheckConstraint(
            "referral_stamp IS NULL OR referral_stamp IN ('unstamped', 'stamped')",
            name="referral_stamp",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 备案号, given at approval: BA<insured region>-<year>-<sequence>.
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insured_region: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), index=True, default="draft")
    # A province (PP0000) or a city (PPCC00); not a foreign key: provinces need no row.
    destination: Mapped[str] = mapped_column(String(6), index=True)
    requested_start: Mapped[date | None] = mapped_column(Date)
    submitted_via: Mapped[str] = mapped_column(String(20))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    # False: every networked hospital of the destination applies (no choice required).
    hospitals_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    # Referral (转诊): the issuing hospital and its stamp.
    referral_hospital_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    referral_stamp: Mapped[str | None] = mapped_column(String(12))
    referral_stamped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    referral_stamped_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Emergency filed afterwards (补办): the hotline approval and the treatment dates.
    hotline_reference: Mapped[str | None] = mapped_column(String(60))
    hotline_called_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    treatment_start: Mapped[date | None] = mapped_column(Date)
    treatment_end: Mapped[date | None] = mapped_column(Date)
    # Review.
    submitted_on: Mapped[date | None] = mapped_column(Date)
    reviewer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    missing_documents: Mapped[list[str] | None] = mapped_column(JSON)
    return_note: Mapped[str | None] = mapped_column(Text)
    # Highest document id when returned: the listed documents must be uploaded after it.
    returned_after_document_id: Mapped[int | None] = mapped_column(Integer)
    # Validity, set at approval; valid_to None is open-ended.
    valid_from: Mapped[date | None] = mapped_column(Date, index=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    locked_until: Mapped[date | None] = mapped_column(Date)
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # How the agency reaches the applicant during the review (备案申请表的联系方式).
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    contact_address: Mapped[str | None] = mapped_column(String(200))
    # Withdrawn before a decision (撤回): kept for the history, blocks no new filing.
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    renews_filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps before and after a change."""
        return {
            "state": self.state,
            "number": self.number,
            "category": self.category,
            "destination": self.destination,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "referral_stamp": self.referral_stamp,
            "missing_documents": self.missing_documents,
            "reject_reason": self.reject_reason,
            "cancelled_on": self.cancelled_on,
            "withdrawn_on": self.withdrawn_on,
        }


class FilingHospital(Base):
    """A hospital the person chose (定点医院), in the order chosen, and its stamp on the
    resettlement form where the region requires one (seed 000: 医保办盖章)."""

    __tablename__ = "filing_hospitals"

    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    stamped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stamped_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def stamp_state(self) -> str:
        return "stamped" if self.stamped_at is not None else "unstamped"
