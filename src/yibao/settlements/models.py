"""Direct settlement tables: settlements and their lines, accumulators, idempotency keys.

Money is whole fen (``BigInteger``). Quantities and unit prices may carry 4 decimals
(contract), so they are stored as integers scaled by 10,000 (``*_e4``), never as floats.
A settlement names its encounter by id (``encounters`` belong to :mod:`yibao.encounters`,
which sits above settlements and is never imported here).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base

FIGURE_COLUMNS = [
    "id",
    "treatment_region",
    "year_month",
    "setting",
    "offsite_status",
    "source",
    "kind",
    "total_fen",
    "pool_fund_pay_fen",
    "supplementary_pay_fen",
    "assistance_pay_fen",
    "fund_pay_total_fen",
    "account_pay_fen",
    "cash_pay_fen",
]


class SettlementRecord(Base):
    """A stored settlement (结算) or its reversal (冲正): the engine's result in fen.

    A reversal is its own row with every amount negated, ``kind='reversal'`` and
    ``reverses_id`` pointing at the original; the original then has ``state='reversed'``.
    ``acc_delta`` holds this claim's own contribution to the person's year (fen, JSON), so a
    reversal subtracts exactly that and later settlements stay counted.
    """

    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("kind IN ('settlement', 'reversal')", name="kind"),
        CheckConstraint("state IN ('settled', 'reversed', 'reversal')", name="state"),
        CheckConstraint("source IN ('direct', 'pharmacy', 'reimbursement')", name="source"),
        UniqueConstraint("institution_id", "msg_id", name="uq_settlements_msg_id"),
        UniqueConstraint("reverses_id", name="uq_settlements_reverses_id"),
        Index("ix_settlements_clearing", "year_month", "insured_region", "treatment_region"),
        Index("ix_settlements_person_year", "person_id", "year"),
        # the window's list of a day's settlements (newest first within the day)
        Index("ix_settlements_institution_created", "institution_id", "created_at"),
        # the agencies' dashboard and advance-fund use: a region's year summed without
        # reading the wide rows (an index-only scan on PostgreSQL; SQLite keeps the key)
        Index(
            "ix_settlements_region_figures",
            "insured_region",
            "year",
            postgresql_include=FIGURE_COLUMNS,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="settlement")
    state: Mapped[str] = mapped_column(String(12), default="settled")
    source: Mapped[str] = mapped_column(String(16), default="direct")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # Whose personal account paid (a family member's under 门诊共济), None = nobody's.
    account_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    # The hospital's message id (报文ID) of the request that created this row.
    msg_id: Mapped[str | None] = mapped_column(String(60))
    # The invoice number (发票号) printed on the receipt, normalised (no spaces, dashes or
    # case), so a manual claim with the same invoice is caught as a duplicate.
    invoice_no: Mapped[str | None] = mapped_column(String(60), index=True)
    claim_id: Mapped[str] = mapped_column(String(80))
    claim_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    # "YYYY-MM" of the day the row was stored: the clearing period it belongs to.
    year_month: Mapped[str] = mapped_column(String(7))
    setting: Mapped[str] = mapped_column(String(12))
    insured_region: Mapped[str] = mapped_column(String(6))
    treatment_region: Mapped[str] = mapped_column(String(6))
    offsite_status: Mapped[str | None] = mapped_column(String(12))
    policy_id: Mapped[str | None] = mapped_column(String(100))
    liability: Mapped[str | None] = mapped_column(String(30))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    full_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    over_limit_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    pre_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    in_scope_fen: Mapped[int] = mapped_column(BigInteger)
    deductible_fen: Mapped[int] = mapped_column(BigInteger)
    pool_fund_pay_fen: Mapped[int] = mapped_column(BigInteger)
    supplementary_pay_fen: Mapped[int] = mapped_column(BigInteger)
    assistance_pay_fen: Mapped[int] = mapped_column(BigInteger)
    fund_pay_total_fen: Mapped[int] = mapped_column(BigInteger)
    personal_burden_fen: Mapped[int] = mapped_column(BigInteger)
    account_pay_fen: Mapped[int] = mapped_column(BigInteger)
    cash_pay_fen: Mapped[int] = mapped_column(BigInteger)
    recoverable_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit_refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # This claim's own contribution to the year's accumulators, in fen (JSON text).
    acc_delta: Mapped[str] = mapped_column(Text)
    # The engine's contract result with its explanation (JSON text), for the person's view.
    result_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(400))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SettlementLine(Base):
    """One line of a stored settlement, as the engine classified it (fen)."""

    __tablename__ = "settlement_lines"
    __table_args__ = (UniqueConstraint("settlement_id", "line_no", name="uq_settlement_lines_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    line_id: Mapped[str | None] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200), default="")
    item_class: Mapped[str] = mapped_column(String(1), default="")
    quantity_e4: Mapped[int] = mapped_column(BigInteger)
    unit_price_e4: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    full_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    over_limit_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    pre_self_pay_fen: Mapped[int] = mapped_column(BigInteger)
    in_scope_fen: Mapped[int] = mapped_column(BigInteger)
    not_eligible_reason: Mapped[str | None] = mapped_column(String(200))


class YearAccumulator(Base):
    """A person's year so far (累计): deductible met, band positions, caps used; fen.

    One row per person and calendar year; settlement locks it (``SELECT ... FOR UPDATE``
    on PostgreSQL) so concurrent settlements for one person serialize.
    """

    __tablename__ = "accumulators"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    inpatient_in_scope_cum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    inpatient_deductible_met_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    inpatient_pool_paid_cum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    inpatient_admissions: Mapped[int] = mapped_column(Integer, default=0)
    outpatient_in_scope_cum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    outpatient_deductible_met_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    outpatient_pool_paid_cum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    outpatient_admissions: Mapped[int] = mapped_column(Integer, default=0)
    assistance_paid_cum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # {name: {"base_cum": fen, "paid_cum": fen}} for each supplementary item (JSON text).
    supplementary: Mapped[str] = mapped_column(Text, default="{}")
    version: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKey(Base):
    """A money-moving request already answered: (user, key) → request hash and response.

    Written in the same transaction as the change it guards, so a response is stored if
    and only if its change is.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FundRollup(Base):
    """The settlements' figures summed as they are stored, per insured and treatment region,
    month, setting, off-site status and source: the agency's fund dashboard and the amounts
    awaiting clearing read these few rows instead of summing every settlement.

    Written in the settlement's own transaction by :func:`repository.insert_settlement`
    (the one place a settlement row is made). Each key has :data:`ROLLUP_SLOTS` rows, chosen
    by the settlement's id, so concurrent settlements of the same key rarely wait on one
    row's lock; readers sum the slots. ``offsite_status`` is ``''`` where the settlement
    has none (a key column cannot be null).
    """

    __tablename__ = "fund_rollups"

    insured_region: Mapped[str] = mapped_column(String(6), primary_key=True)
    treatment_region: Mapped[str] = mapped_column(String(6), primary_key=True)
    year_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    setting: Mapped[str] = mapped_column(String(12), primary_key=True)
    offsite_status: Mapped[str] = mapped_column(String(12), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlements: Mapped[int] = mapped_column(BigInteger, default=0)
    reversals: Mapped[int] = mapped_column(BigInteger, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    supplementary_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    assistance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    account_fen: Mapped[int] = mapped_column(BigInteger, default=0)


ROLLUP_SLOTS = 8
