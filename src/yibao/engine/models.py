"""The engine's value types: policies, catalogs, claims, accumulators and results.

Plain frozen dataclasses from the standard library. Validation of files happens before
these are built (``yibao.inputs``); the engine trusts what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Setting = Literal["inpatient", "outpatient"]
Scheme = Literal["employee", "resident"]
ItemClass = Literal["A", "B", "C"]
OffsiteStatus = Literal["local", "long_term", "temporary", "unfiled"]
ReductionMode = Literal["points", "relative", "pre_self_pay"]
AccountPart = Literal["in_scope_personal", "pre_self_pay", "over_limit_self_pay", "full_self_pay"]

SETTINGS: tuple[Setting, ...] = ("inpatient", "outpatient")
LEVELS = (1, 2, 3)
LONG_TERM_FILINGS = frozenset(
    {
        "resettled_retiree",
        "long_term_resident",
        "posted_worker",
        "minor_with_parents",
        "resident_mother_postnatal",
    }
)
TEMPORARY_FILINGS = frozenset({"referral", "emergency", "other_temporary"})
FILING_TYPES = LONG_TERM_FILINGS | TEMPORARY_FILINGS
EXCLUDING_LIABILITIES = frozenset({"work_injury", "third_party", "public_health", "abroad"})
LIABILITIES = EXCLUDING_LIABILITIES | {"third_party_unresolved"}
ACCOUNT_PARTS: tuple[AccountPart, ...] = (
    "in_scope_personal",
    "pre_self_pay",
    "over_limit_self_pay",
    "full_self_pay",
)

ZERO = Decimal("0.00")


# --- policy ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deductible:
    """起付线: ``annual`` (one amount a year) or ``per_admission`` (by hospital level)."""

    mode: Literal["annual", "per_admission"]
    amount: Decimal = ZERO
    by_level: Mapping[int, Decimal] = field(default_factory=dict)
    later_admissions_factor: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class Band:
    """A band of the cumulative in-scope axis; ``up_to`` None is unbounded."""

    up_to: Decimal | None
    ratio: Mapping[int, Decimal]


@dataclass(frozen=True, slots=True)
class SettingRules:
    deductible: Deductible
    bands: tuple[Band, ...]
    band_basis: Literal["annual", "per_claim"] = "annual"
    annual_cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OffsiteRules:
    ratio_reduction: Mapping[str, Decimal] = field(default_factory=dict)
    reduction_mode: ReductionMode = "points"
    home_benefits_while_filed: bool = True


@dataclass(frozen=True, slots=True)
class SupplementaryBand:
    up_to: Decimal | None
    ratio: Decimal


@dataclass(frozen=True, slots=True)
class Supplementary:
    """大病保险 / 大额医疗费用补助: paid on the personal in-scope share above a threshold."""

    name: str
    settings: frozenset[str]
    threshold: Decimal
    bands: tuple[SupplementaryBand, ...]
    annual_cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Assistance:
    """医疗救助, for eligible persons only."""

    ratio: Decimal
    annual_cap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AccountRules:
    pays: frozenset[str]
    family_sharing: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """The insured region's rules for one scheme, person types and period."""

    id: str
    region: str
    scheme: str
    person_types: frozenset[str]
    effective_from: date
    effective_to: date | None
    inpatient: SettingRules | None
    outpatient: SettingRules | None
    offsite: OffsiteRules = field(default_factory=OffsiteRules)
    supplementary: tuple[Supplementary, ...] = ()
    assistance: Assistance | None = None
    account: AccountRules | None = None
    source: str = ""

    def rules(self, setting: str) -> SettingRules | None:
        return self.inpatient if setting == "inpatient" else self.outpatient

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


# --- catalog ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One row of a treatment region's catalog (目录)."""

    region: str
    code: str
    name: str
    kind: str
    item_class: ItemClass
    self_pay_ratio: Decimal = ZERO
    price_ceiling: Decimal | None = None
    settings: frozenset[str] = frozenset(SETTINGS)
    min_level: int | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Catalog rows keyed by ``(region, code)``."""

    items: Mapping[tuple[str, str], CatalogItem]

    def get(self, region: str, code: str) -> CatalogItem | None:
        return self.items.get((region, code))

    @classmethod
    def of(cls, items: list[CatalogItem]) -> Catalog:
        return cls({(item.region, item.code): item for item in items})


# --- claims ----------------------------------------------------------------------------


# Accumulators are created for every claim, so they are plain slotted dataclasses (a frozen
# one pays an ``object.__setattr__`` per field); the engine never changes one in place.


@dataclass(slots=True)
class SettingAccumulator:
    in_scope_cum: Decimal = ZERO
    deductible_met: Decimal = ZERO
    pool_paid_cum: Decimal = ZERO
    admissions: int = 0


@dataclass(slots=True)
class SupplementaryAccumulator:
    base_cum: Decimal = ZERO
    paid_cum: Decimal = ZERO


@dataclass(slots=True)
class YearAccumulators:
    """A person's year so far: what the deductible, bands and caps are measured against."""

    year: int
    inpatient: SettingAccumulator = field(default_factory=SettingAccumulator)
    outpatient: SettingAccumulator = field(default_factory=SettingAccumulator)
    supplementary: Mapping[str, SupplementaryAccumulator] = field(default_factory=dict)
    assistance_paid_cum: Decimal = ZERO

    def setting(self, setting: str) -> SettingAccumulator:
        return self.inpatient if setting == "inpatient" else self.outpatient


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: str
    insured_region: str
    scheme: str
    person_type: str
    assistance_eligible: bool = False
    account_balance: Decimal = ZERO
    year_to_date: YearAccumulators | None = None


@dataclass(frozen=True, slots=True)
class InstitutionInfo:
    id: str
    region: str
    level: int


@dataclass(frozen=True, slots=True)
class FilingInfo:
    type: str
    destination: str
    valid_from: date
    valid_to: date | None = None

    @property
    def is_long_term(self) -> bool:
        return self.type in LONG_TERM_FILINGS

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def covers_region(self, region: str) -> bool:
        """Equal codes, or a province code ``PP0000`` matches every region ``PP....``."""
        if self.destination == region:
            return True
        return self.destination.endswith("0000") and region[:2] == self.destination[:2]


@dataclass(frozen=True, slots=True)
class ClaimLine:
    code: str
    quantity: Decimal
    unit_price: Decimal
    line_id: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    date: date
    setting: Setting
    person: PersonInfo
    institution: InstitutionInfo
    lines: tuple[ClaimLine, ...]
    filing: FilingInfo | None = None
    emergency: bool = False
    liability: str | None = None


# --- results ---------------------------------------------------------------------------
# Results are built on the hot path, so they are plain slotted dataclasses: a frozen one
# pays an ``object.__setattr__`` per field. Treat them as values all the same.


@dataclass(slots=True)
class LineResult:
    code: str
    amount: Decimal
    full_self_pay: Decimal
    over_limit_self_pay: Decimal
    pre_self_pay: Decimal
    in_scope: Decimal
    # why: what the catalog said and what was applied
    name: str = ""
    item_class: str = ""
    eligible: bool = False
    not_eligible_reason: str | None = None
    price_ceiling: Decimal | None = None
    self_pay_ratio: Decimal = ZERO
    offsite_extra: Decimal = ZERO
    line_id: str | None = None


@dataclass(slots=True)
class BandPart:
    """A piece of the claim on one band: ``[start, end)`` paid at ``rate``."""

    start: Decimal
    end: Decimal
    base_ratio: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return self.end - self.start


@dataclass(slots=True)
class SupplementaryPay:
    name: str
    base: Decimal
    start: Decimal
    parts: tuple[BandPart, ...]
    computed: Decimal
    paid: Decimal
    cap_reached: bool


@dataclass(slots=True)
class Explanation:
    """Why each figure is what it is, for the person who paid and for the reviewer."""

    offsite_reason: str
    deductible_due: Decimal = ZERO
    deductible_met_before: Decimal = ZERO
    position_start: Decimal = ZERO
    parts: tuple[BandPart, ...] = ()
    pool_computed: Decimal = ZERO
    pool_cap_left: Decimal | None = None
    pool_cap_reached: bool = False
    supplementary: tuple[SupplementaryPay, ...] = ()
    assistance_computed: Decimal = ZERO
    assistance_cap_reached: bool = False
    account_eligible: Decimal = ZERO
    reduction: Decimal = ZERO
    reduction_mode: str = "points"
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class Settlement:
    """One claim's result, exactly the contract's result plus its explanation."""

    claim_id: str
    status: Literal["settled", "rejected"]
    reason: str | None
    offsite_status: str | None
    policy_id: str | None
    setting: str
    total: Decimal
    full_self_pay: Decimal
    over_limit_self_pay: Decimal
    pre_self_pay: Decimal
    in_scope: Decimal
    deductible: Decimal
    pool_fund_pay: Decimal
    supplementary_pay: Decimal
    assistance_pay: Decimal
    fund_pay_total: Decimal
    personal_burden: Decimal
    account_pay: Decimal
    cash_pay: Decimal
    recoverable: Decimal
    lines: tuple[LineResult, ...]
    accumulators: YearAccumulators
    explanation: Explanation | None = None
    supplementary_by_name: Mapping[str, Decimal] = field(default_factory=dict)
