"""The registry (登记): regions, agencies, institutions, units, persons and their accounts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base

AGENCY_KINDS = ("insurance_center", "street_office", "treatment_agency")
INSTITUTION_KINDS = ("hospital", "pharmacy")
SPECIALTIES = ("general", "specialised")
SEXES = ("M", "F")
SCHEMES = ("employee", "resident")
RELATIONS = ("spouse", "parent", "child")


class Region(Base):
    """A coordination region (统筹区) by its GB/T 2260 code, with its province."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[str] = mapped_column(String(6), index=True)

    @property
    def is_province(self) -> bool:
        return self.code == self.province_code


class Agency(Base):
    """A medical insurance center, street social security office or treatment-region agency."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('insurance_center', 'street_office', 'treatment_agency')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)


class Institution(Base):
    """A designated hospital (level 1-3, general or specialised) or retail pharmacy."""

    __tablename__ = "institutions"
    __table_args__ = (
        CheckConstraint("kind IN ('hospital', 'pharmacy')", name="kind"),
        CheckConstraint("specialty IN ('general', 'specialised')", name="specialty"),
        CheckConstraint(
            "(kind = 'pharmacy' AND level IS NULL)"
            " OR (kind = 'hospital' AND level BETWEEN 1 AND 3)",
            name="level",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int | None] = mapped_column(Integer)
    specialty: Mapped[str] = mapped_column(String(20), default="general")
    designated: Mapped[bool] = mapped_column(Boolean, default=True)
    networked: Mapped[bool] = mapped_column(Boolean, default=False)


class Unit(Base):
    """An insured unit (参保单位), usually an employer."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)


class Person(Base):
    """An insured person (参保人)."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        CheckConstraint("scheme IN ('employee', 'resident')", name="scheme"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    scheme: Mapped[str] = mapped_column(String(20))
    person_type: Mapped[str] = mapped_column(String(40))
    insured_region: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    assistance_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    card_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The mobile phone registered for the person (one-time codes of self-registration are
    # sent to it); None: none registered yet (done at a window).
    phone: Mapped[str | None] = mapped_column(String(20))


class Account(Base):
    """The personal account (个人账户); its balance is the sum of its movements."""

    __tablename__ = "accounts"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class AccountMovement(Base):
    """One signed change of a personal account: credit (+) or payment (-)."""

    __tablename__ = "account_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("accounts.person_id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str | None] = mapped_column(String(200))
    # Who benefited when the account paid for a family member (门诊共济), else None.
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FamilyLink(Base):
    """A family relation used for account sharing: ``relative`` is the person's ``relation``."""

    __tablename__ = "family_links"
    __table_args__ = (
        UniqueConstraint("person_id", "relative_id", name="uq_family_links_pair"),
        CheckConstraint("relation IN ('spouse', 'parent', 'child')", name="relation"),
        CheckConstraint("person_id <> relative_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10))
