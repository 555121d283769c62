"""Registry request and response bodies. Money is text with two decimals ("123.45")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.identity import mask_identity_number
from yibao.money import fmt, from_fen
from yibao.registry.models import AccountMovement, FamilyLink, Person

RegionCode = Field(pattern=r"^\d{6}$", examples=["460200"])


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    province_code: str


class RegionCreate(BaseModel):
    code: str = RegionCode
    name: str = Field(min_length=1, max_length=100)


class AgencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    region_code: str


class AgencyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["insurance_center", "street_office", "treatment_agency"]
    region_code: str = RegionCode


class InstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    region_code: str
    kind: str
    level: int | None
    specialty: str
    designated: bool
    networked: bool


class InstitutionCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    region_code: str = RegionCode
    kind: Literal["hospital", "pharmacy"]
    level: int | None = Field(default=None, ge=1, le=3)
    specialty: Literal["general", "specialised"] = "general"
    designated: bool = True
    networked: bool = False


class InstitutionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    level: int | None = Field(default=None, ge=1, le=3)
    specialty: Literal["general", "specialised"] | None = None
    designated: bool | None = None
    networked: bool | None = None


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region_code: str


class UnitCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    region_code: str = RegionCode


class PersonRead(BaseModel):
    id: int
    identity_number: str = Field(description="Masked unless the caller may see it in full")
    identity_masked: bool
    name: str
    sex: str
    birth_date: date
    scheme: str
    person_type: str
    insured_region: str
    unit_id: int | None
    assistance_eligible: bool
    card_number: str | None

    @classmethod
    def of(cls, person: Person, *, full_identity: bool = False) -> PersonRead:
        return cls(
            id=person.id,
            identity_number=(
                person.identity_number
                if full_identity
                else mask_identity_number(person.identity_number)
            ),
            identity_masked=not full_identity,
            name=person.name,
            sex=person.sex,
            birth_date=person.birth_date,
            scheme=person.scheme,
            person_type=person.person_type,
            insured_region=person.insured_region,
            unit_id=person.unit_id,
            assistance_eligible=person.assistance_eligible,
            card_number=person.card_number,
        )


class PersonCreate(BaseModel):
    identity_number: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=100)
    scheme: Literal["employee", "resident"]
    person_type: str = Field(
        min_length=1,
        max_length=40,
        examples=["retired"],
        description="one the region's policies know for the scheme (e.g. employee: in_service, "
        "retired; resident: adult, minor)",
    )
    insured_region: str = RegionCode
    unit_id: int | None = None
    assistance_eligible: bool = False
    card_number: str | None = Field(default=None, max_length=40)


class PersonUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    scheme: Literal["employee", "resident"] | None = None
    person_type: str | None = Field(default=None, min_length=1, max_length=40)
    insured_region: str | None = Field(default=None, pattern=r"^\d{6}$")
    unit_id: int | None = None
    assistance_eligible: bool | None = None
    card_number: str | None = Field(default=None, max_length=40)


class PersonLookup(BaseModel):
    """Find a person by what they show at the desk: identity document or insurance card.

    Sent in the body, never in the URL, so that numbers stay out of access logs.
    """

    identity_number: str | None = Field(default=None, min_length=18, max_length=18)
    card_number: str | None = Field(default=None, min_length=1, max_length=40)


class MovementRead(BaseModel):
    id: int
    amount: str
    balance_after: str
    kind: str
    ref: str | None
    beneficiary_id: int | None
    at: datetime

    @classmethod
    def of(cls, movement: AccountMovement) -> MovementRead:
        return cls(
            id=movement.id,
            amount=fmt(from_fen(movement.amount_fen)),
            balance_after=fmt(from_fen(movement.balance_after_fen)),
            kind=movement.kind,
            ref=movement.ref,
            beneficiary_id=movement.beneficiary_id,
            at=movement.at,
        )


class AccountRead(BaseModel):
    person_id: int
    balance: str
    movements: list[MovementRead]


class MovementCreate(BaseModel):
    amount: str = Field(
        pattern=r"^-?\d+(\.\d{1,2})?$",
        description="Yuan, signed: credit positive, debit negative",
        examples=["500.00"],
    )
    kind: Literal["contribution", "adjustment", "withdrawal", "transfer_in", "transfer_out"]
    ref: str | None = Field(default=None, max_length=200)


class FamilyLinkRead(BaseModel):
    person_id: int
    relative_id: int
    relation: str
    relative_name: str

    @classmethod
    def of(cls, link: FamilyLink, relative: Person) -> FamilyLinkRead:
        return cls(
            person_id=link.person_id,
            relative_id=link.relative_id,
            relation=link.relation,
            relative_name=relative.name,
        )


class FamilyLinkCreate(BaseModel):
    relative_id: int
    relation: Literal["spouse", "parent", "child"] = Field(
        description="What the relative is to the person"
    )
