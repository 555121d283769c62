"""Direct settlement (直接结算) at the hospital window, and the service others reuse.

The engine is the only place money is computed. Pre-settlement (预结算) calls it and changes
nothing; :func:`record_settlement` locks the person's year, calls it with the stored
accumulators and stores the result, its lines, the new accumulators and the account
movement; :func:`reverse_settlement` (冲正) undoes exactly that claim's contributions.
Services flush but never commit: the caller's ``session_scope`` owns the transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.clock import business_month
from yibao.engine import (
    Catalog,
    Claim,
    ClaimLine,
    FilingInfo,
    InstitutionInfo,
    PersonInfo,
    PolicyBook,
    Settlement,
    UnknownCatalogCode,
    YearAccumulators,
    result_to_dict,
)
from yibao.engine import settle as engine_settle
from yibao.engine.models import (
    LIABILITIES,
    SettingAccumulator,
    SupplementaryAccumulator,
)
from yibao.engine.render import MONEY_FIELDS
from yibao.errors import InvalidInput, NotFound, ValidationFailed
from yibao.invoices import normalise_invoice_number
from yibao.money import from_fen, to_fen
from yibao.registry.models import Account, Institution, Person
from yibao.settlements import repository as repo
from yibao.settlements.models import (
    SettlementLine,
    SettlementRecord,
    YearAccumulator,
)
from yibao.settlements.states import (
    SETTINGS,
    SETTLEMENT_REVERSAL,
    SOURCES,
    deposit_outcome,
    encounter_next,
    settlement_next,
)

E4 = Decimal(10_000)
# Pharmacies have no hospital level; their outpatient claims are settled at level 1.
PHARMACY_LEVEL = 1


# --- value conversions ------------------------------------------------------------------


def to_e4(value: Decimal) -> int:
    """A quantity or unit price (up to 4 decimals) as an integer of 1/10,000."""
    scaled = value * E4
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 4 decimals")
    return int(scaled)


def from_e4(value: int) -> Decimal:
    return Decimal(value) / E4


def _setting_acc(row: YearAccumulator | Row[Any], setting: str) -> SettingAccumulator:
    return SettingAccumulator(
        in_scope_cum=from_fen(getattr(row, f"{setting}_in_scope_cum_fen")),
        deductible_met=from_fen(getattr(row, f"{setting}_deductible_met_fen")),
        pool_paid_cum=from_fen(getattr(row, f"{setting}_pool_paid_cum_fen")),
        admissions=getattr(row, f"{setting}_admissions"),
    )


def accumulators_of(row: YearAccumulator | Row[Any] | None, *, year: int) -> YearAccumulators:
    """The engine's view of a stored accumulator row (a fresh year when there is none)."""
    if row is None:
        return YearAccumulators(year=year)
    supplementary = {
        name: SupplementaryAccumulator(
            base_cum=from_fen(values["base_cum"]), paid_cum=from_fen(values["paid_cum"])
        )
        for name, values in json.loads(row.supplementary or "{}").items()
    }
    return YearAccumulators(
        year=row.year,
        inpatient=_setting_acc(row, "inpatient"),
        outpatient=_setting_acc(row, "outpatient"),
        supplementary=supplementary,
        assistance_paid_cum=from_fen(row.assistance_paid_cum_fen),
    )


def accumulators_fen(acc: YearAccumulators) -> dict[str, Any]:
    """A year's accumulators as nested whole fen (admissions stay a count)."""
    return {
        setting: {
            "in_scope_cum": to_fen(acc.setting(setting).in_scope_cum),
            "deductible_met": to_fen(acc.setting(setting).deductible_met),
            "pool_paid_cum": to_fen(acc.setting(setting).pool_paid_cum),
            "admissions": acc.setting(setting).admissions,
        }
        for setting in SETTINGS
    } | {
        "supplementary": {
            name: {"base_cum": to_fen(s.base_cum), "paid_cum": to_fen(s.paid_cum)}
            for name, s in sorted(acc.supplementary.items())
        },
        "assistance_paid_cum": to_fen(acc.assistance_paid_cum),
    }


def accumulator_delta(before: YearAccumulators, after: YearAccumulators) -> dict[str, Any]:
    """One claim's own contribution to the year (after − before), in fen."""
    b, a = accumulators_fen(before), accumulators_fen(after)
    delta: dict[str, Any] = {
        setting: {k: a[setting][k] - b[setting][k] for k in a[setting]} for setting in SETTINGS
    }
    names = set(a["supplementary"]) | set(b["supplementary"])
    zero = {"base_cum": 0, "paid_cum": 0}
    delta["supplementary"] = {
        name: {
            k: a["supplementary"].get(name, zero)[k] - b["supplementary"].get(name, zero)[k]
            for k in zero
        }
        for name in sorted(names)
    }
    delta["assistance_paid_cum"] = a["assistance_paid_cum"] - b["assistance_paid_cum"]
    return delta


def apply_delta(
    row: YearAccumulator | Row[Any], delta: dict[str, Any], *, sign: int
) -> dict[str, Any]:
    """A stored year's new column values after adding (sign=1) or taking away (sign=-1)
    one claim's contribution; ``version`` goes up by one."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        part = delta[setting]
        for key in ("in_scope_cum", "deductible_met", "pool_paid_cum"):
            column = f"{setting}_{key}_fen"
            values[column] = getattr(row, column) + sign * part[key]
        column = f"{setting}_admissions"
        values[column] = getattr(row, column) + sign * part["admissions"]
    supplementary = json.loads(row.supplementary or "{}")
    for name, part in delta["supplementary"].items():
        current = supplementary.setdefault(name, {"base_cum": 0, "paid_cum": 0})
        for key in ("base_cum", "paid_cum"):
            current[key] += sign * part[key]
    values["supplementary"] = json.dumps(supplementary, sort_keys=True)
    values["assistance_paid_cum_fen"] = (
        row.assistance_paid_cum_fen + sign * delta["assistance_paid_cum"]
    )
    values["version"] = row.version + 1
    return values


# --- engine inputs from the database ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rules:
    policies: PolicyBook  # indexed once per cached version, not on every settlement
    catalog: Catalog


# Parsed rules per (insured region, treatment region, versions in force): the versions are
# found by ids and digests in one light query on every call, so the policy and catalog texts
# are not fetched and parsed again for every settlement, and a new version applies at once.
_RULES_CACHE: dict[tuple[str, str, tuple[tuple[str, str, str], ...]], Rules] = {}


def rules_for(session: Session, *, insured_region: str, treatment_region: str, on: date) -> Rules:
    """Insured place's policies, treatment place's catalog (就医地目录、参保地政策)."""
    from yibao.policies.service import catalog_for, policies_for

    fingerprint = repo.rules_fingerprint(
        session, insured_region=insured_region, treatment_region=treatment_region, on=on
    )
    key = (insured_region, treatment_region, fingerprint)
    cached = _RULES_CACHE.get(key)
    if cached is not None:
        return cached
    rules = Rules(
        policies=PolicyBook(policies_for(session, region=insured_region, on=on)),
        catalog=catalog_for(session, region=treatment_region, on=on),
    )
    if len(_RULES_CACHE) > 4096:
        _RULES_CACHE.clear()
    _RULES_CACHE[key] = rules
    return rules


def filing_for(
    session: Session, *, person_id: int, on: date, treatment_region: str
) -> FilingInfo | None:
    from yibao.filings.service import filing_info_for

    return filing_info_for(session, person_id=person_id, on=on, treatment_region=treatment_region)


def person_info(person: Person) -> PersonInfo:
    return PersonInfo(
        id=str(person.id),
        insured_region=person.insured_region,
        scheme=person.scheme,
        person_type=person.person_type,
        assistance_eligible=person.assistance_eligible,
    )


def institution_info(institution: Institution) -> InstitutionInfo:
    return InstitutionInfo(
        id=str(institution.id),
        region=institution.region_code,
        level=institution.level if institution.level is not None else PHARMACY_LEVEL,
    )


def check_liability(liability: str | None) -> str | None:
    if liability is not None and liability not in LIABILITIES:
        raise ValidationFailed(
            f"unknown liability {liability!r}; one of {', '.join(sorted(LIABILITIES))}",
            code="settlement.unknown_liability",
        )
    return liability


def _run_engine(claim: Claim, rules: Rules, accumulators: YearAccumulators) -> Settlement:
    try:
        return engine_settle(
            claim, policies=rules.policies, catalog=rules.catalog, accumulators=accumulators
        )
    except UnknownCatalogCode as exc:
        raise InvalidInput(
            "fee details", f"line {exc.line_index + 1}", str(exc), code="catalog.unknown_code"
        ) from None


def _balance_fen(session: Session, person_id: int | None) -> int:
    if person_id is None:
        return 0
    account = session.get(Account, person_id)
    return account.balance_fen if account is not None else 0


def preview_settlement(
    session: Session, *, claim: Claim, person_id: int, account_person_id: int | None
) -> Settlement:
    """Pre-settlement (预结算): the full result with today's stored year; changes nothing."""
    year = claim.date.year
    acc = accumulators_of(repo.get_accumulator(session, person_id=person_id, year=year), year=year)
    balance = from_fen(_balance_fen(session, account_person_id))
    claim = dataclasses.replace(
        claim, person=dataclasses.replace(claim.person, account_balance=balance, year_to_date=None)
    )
    rules = rules_for(
        session,
        insured_region=claim.person.insured_region,
        treatment_region=claim.institution.region,
        on=claim.date,
    )
    return _run_engine(claim, rules, acc)


_MONEY = MONEY_FIELDS


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def record_settlement(
    session: Session,
    *,
    claim: Claim,
    person_id: int,
    source: str = "direct",
    institution_id: int | None = None,
    account_person_id: int | None = None,
    encounter_id: int | None = None,
    msg_id: str | None = None,
    invoice_no: str | None = None,
    deposit_fen: int = 0,
    actor: Actor = None,
    now: datetime | None = None,
) -> tuple[SettlementRecord, Settlement]:
    """Settle ``claim`` against the person's stored year and store everything.

    Locks the person's accumulator row for the claim's year (then the paying account), so
    concurrent settlements for one person run one after the other. ``claim.person``'s
    account balance and year-to-date are ignored: the stored ones are used.
    ``account_person_id`` is whose personal account pays (None: no account).
    Raises ``ValidationFailed`` (code ``settlement.rejected``) when the engine rejects the
    claim; nothing is stored then. Reused by manual reimbursement (``source="reimbursement"``).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    year = claim.date.year
    acc_row = repo.lock_accumulator(session, person_id=person_id, year=year)
    before = accumulators_of(acc_row, year=year)
    locked_balance = (
        repo.lock_account(session, person_id=account_person_id)
        if account_person_id is not None
        else None
    )
    balance_fen = locked_balance or 0
    claim = dataclasses.replace(
        claim,
        person=dataclasses.replace(
            claim.person, account_balance=from_fen(balance_fen), year_to_date=None
        ),
    )
    rules = rules_for(
        session,
        insured_region=claim.person.insured_region,
        treatment_region=claim.institution.region,
        on=claim.date,
    )
    result = _run_engine(claim, rules, before)
    if result.status != "settled":
        raise ValidationFailed(
            f"the claim is rejected: {result.reason}",
            code="settlement.rejected",
            reason=result.reason,
        )

    delta = accumulator_delta(before, result.accumulators)
    repo.update_accumulator(
        session, person_id=person_id, year=year, values=apply_delta(acc_row, delta, sign=1)
    )

    amounts = {f"{name}_fen": to_fen(getattr(result, name)) for name in _MONEY}
    account_pay = amounts["account_pay_fen"]
    if account_pay and (locked_balance is None or locked_balance < account_pay):
        raise AssertionError("the engine paid more from the account than its balance")
    refund, due = deposit_outcome(deposit_fen, amounts["cash_pay_fen"])
    at = _now(now)
    settlement = SettlementRecord(
        kind="settlement",
        state="settled",
        source=source,
        encounter_id=encounter_id,
        person_id=person_id,
        account_person_id=account_person_id if account_pay else None,
        institution_id=institution_id,
        msg_id=msg_id,
        invoice_no=normalise_invoice_number(invoice_no) if invoice_no else None,
        claim_id=claim.claim_id,
        claim_date=claim.date,
        year=year,
        year_month=business_month(at),
        setting=claim.setting,
        insured_region=claim.person.insured_region,
        treatment_region=claim.institution.region,
        offsite_status=result.offsite_status,
        policy_id=result.policy_id,
        liability=claim.liability,
        deposit_fen=deposit_fen,
        deposit_refund_fen=refund,
        cash_due_fen=due,
        acc_delta=json.dumps(delta, sort_keys=True),
        result_json=json.dumps(result_to_dict(result, explain=True), ensure_ascii=False),
        created_by=getattr(actor, "id", None),
        created_at=at,
        **amounts,
    )
    repo.insert_settlement(session, settlement)
    _store_lines(session, settlement.id, claim.lines, result, sign=1)
    if account_pay and account_person_id is not None:
        repo.move_account(
            session,
            person_id=account_person_id,
            amount_fen=-account_pay,
            kind="settlement",
            ref=f"settlement:{settlement.id}",
            beneficiary_id=person_id if account_person_id != person_id else None,
            at=at,
        )
    if amounts["recoverable_fen"] > 0:
        from yibao.recovery.service import open_case

        open_case(session, settlement=settlement, actor=actor, now=at)
    record(
        session,
        actor=actor,
        action="settlement.settle",
        entity="settlement",
        entity_id=settlement.id,
        before=None,
        after={
            "source": source,
            "person_id": person_id,
            "claim_id": claim.claim_id,
            "fund_pay_total": str(result.fund_pay_total),
            "account_pay": str(result.account_pay),
            "cash_pay": str(result.cash_pay),
        },
        at=at,
    )
    return settlement, result


_LINES_KEY = "yibao.settlement_lines"


def _store_lines(
    session: Session,
    settlement_id: int,
    lines: Sequence[ClaimLine],
    result: Settlement,
    *,
    sign: int,
) -> None:
    rows = [
        {
            "line_no": index,
            "line_id": line.line_id,
            "code": line.code,
            "name": res.name,
            "item_class": res.item_class,
            "quantity_e4": to_e4(line.quantity),
            "unit_price_e4": to_e4(line.unit_price),
            "amount_fen": sign * to_fen(res.amount),
            "full_self_pay_fen": sign * to_fen(res.full_self_pay),
            "over_limit_self_pay_fen": sign * to_fen(res.over_limit_self_pay),
            "pre_self_pay_fen": sign * to_fen(res.pre_self_pay),
            "in_scope_fen": sign * to_fen(res.in_scope),
            "not_eligible_reason": (res.not_eligible_reason or None)
            and res.not_eligible_reason[:200],
        }
        for index, (line, res) in enumerate(zip(lines, result.lines, strict=True), start=1)
    ]
    _insert_lines(session, settlement_id, rows)


def _insert_lines(session: Session, settlement_id: int, rows: list[dict[str, Any]]) -> None:
    repo.insert_lines(session, settlement_id, rows)
    # Kept for the response of this same request (popped by settlement_explained).
    session.info.setdefault(_LINES_KEY, {})[settlement_id] = rows


def reverse_settlement(
    session: Session,
    *,
    settlement_id: int,
    institution_id: int | None = None,
    msg_id: str | None = None,
    reason: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> SettlementRecord:
    """Reverse (冲正) a settlement once: a record with negated amounts, and the person's
    year and the account restored by exactly this claim's contributions.

    ``institution_id`` limits the reversal to that institution's own settlements.
    """
    original = repo.get_settlement(session, settlement_id, lock=True)
    if institution_id is not None and original.institution_id != institution_id:
        raise NotFound(f"settlement {settlement_id} not found", code="settlement.not_found")
    original.state = settlement_next(original.state, "reverse")
    encounter = (
        repo.get_encounter(session, original.encounter_id, lock=True)
        if original.encounter_id is not None
        else None
    )
    acc_row = repo.lock_accumulator(session, person_id=original.person_id, year=original.year)
    repo.update_accumulator(
        session,
        person_id=original.person_id,
        year=original.year,
        values=apply_delta(acc_row, json.loads(original.acc_delta), sign=-1),
    )
    at = _now(now)
    negated = {f"{name}_fen": -getattr(original, f"{name}_fen") for name in _MONEY}
    reversal = SettlementRecord(
        kind="reversal",
        state=SETTLEMENT_REVERSAL,
        source=original.source,
        reverses_id=original.id,
        encounter_id=original.encounter_id,
        person_id=original.person_id,
        account_person_id=original.account_person_id,
        institution_id=original.institution_id,
        msg_id=msg_id,
        claim_id=original.claim_id,
        claim_date=original.claim_date,
        year=original.year,
        year_month=business_month(at),
        setting=original.setting,
        insured_region=original.insured_region,
        treatment_region=original.treatment_region,
        offsite_status=original.offsite_status,
        policy_id=original.policy_id,
        liability=original.liability,
        deposit_fen=0,
        deposit_refund_fen=0,
        cash_due_fen=0,
        acc_delta=original.acc_delta,
        result_json=original.result_json,
        reason=(reason or None) and reason[:400],
        created_by=getattr(actor, "id", None),
        created_at=at,
        **negated,
    )
    repo.insert_settlement(session, reversal)
    lines = repo.settlement_lines(session, original.id)
    _insert_lines(
        session,
        reversal.id,
        [
            {
                "line_no": line.line_no,
                "line_id": line.line_id,
                "code": line.code,
                "name": line.name,
                "item_class": line.item_class,
                "quantity_e4": line.quantity_e4,
                "unit_price_e4": line.unit_price_e4,
                "amount_fen": -line.amount_fen,
                "full_self_pay_fen": -line.full_self_pay_fen,
                "over_limit_self_pay_fen": -line.over_limit_self_pay_fen,
                "pre_self_pay_fen": -line.pre_self_pay_fen,
                "in_scope_fen": -line.in_scope_fen,
                "not_eligible_reason": line.not_eligible_reason,
            }
            for line in lines
        ],
    )
    if original.account_pay_fen and original.account_person_id is not None:
        repo.lock_account(session, person_id=original.account_person_id)
        repo.move_account(
            session,
            person_id=original.account_person_id,
            amount_fen=original.account_pay_fen,
            kind="reversal",
            ref=f"reversal:{reversal.id} of settlement:{original.id}",
            beneficiary_id=original.person_id
            if original.account_person_id != original.person_id
            else None,
            at=at,
        )
    if encounter is not None:
        repo.set_encounter_state(session, encounter, encounter_next(encounter.state, "reverse"))
    if original.recoverable_fen:
        from yibao.recovery.service import cancel_case_for

        cancel_case_for(session, settlement_id=original.id, actor=actor, now=at)
    if original.source == "pharmacy":
        from yibao.pharmacy.service import mark_reversed

        mark_reversed(session, settlement_id=original.id)
    record(
        session,
        actor=actor,
        action="settlement.reverse",
        entity="settlement",
        entity_id=original.id,
        before={"state": "settled"},
        after={"state": original.state, "reversal_id": reversal.id, "reason": reason},
        at=at,
    )
    session.flush()
    return reversal


def reverse_by_message(
    session: Session,
    *,
    institution_id: int,
    original_msg_id: str,
    msg_id: str | None = None,
    reason: str | None = None,
    actor: Actor = None,
    now: datetime | None = None,
) -> SettlementRecord:
    """Reverse the settlement a hospital sent under ``original_msg_id`` (like the national
    platform's 2601 冲正交易), for a hospital whose response was lost."""
    original = repo.settlement_by_msg_id(
        session, institution_id=institution_id, msg_id=original_msg_id
    )
    if original is None or original.kind != "settlement":
        raise NotFound(
            f"no settlement was stored under message id {original_msg_id!r}; nothing to reverse",
            code="settlement.message_not_found",
        )
    return reverse_settlement(
        session,
        settlement_id=original.id,
        institution_id=institution_id,
        msg_id=msg_id,
        reason=reason or f"reversal of message {original_msg_id}",
        actor=actor,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class _Line:
    line_no: int
    line_id: str | None
    code: str
    name: str
    item_class: str
    quantity_e4: int
    unit_price_e4: int
    amount_fen: int
    full_self_pay_fen: int
    over_limit_self_pay_fen: int
    pre_self_pay_fen: int
    in_scope_fen: int
    not_eligible_reason: str | None


def _lines_of(session: Session, settlement_id: int) -> Sequence[_Line | SettlementLine]:
    """The lines just stored in this transaction (no query), else from the database."""
    stored = session.info.get(_LINES_KEY, {}).pop(settlement_id, None)
    if stored is not None:
        return [_Line(**row) for row in stored]
    return repo.settlement_lines(session, settlement_id)


def settlement_explained(session: Session, *, record_: SettlementRecord) -> dict[str, Any]:
    """A stored settlement for people: the amounts, each line, and the engine's reasons."""
    result = json.loads(record_.result_json)
    sign = -1 if record_.kind == "reversal" else 1
    return {
        "id": record_.id,
        "kind": record_.kind,
        "state": record_.state,
        "source": record_.source,
        "reverses_id": record_.reverses_id,
        "encounter_id": record_.encounter_id,
        "invoice_no": record_.invoice_no,
        "claim_date": record_.claim_date.isoformat(),
        "setting": record_.setting,
        "insured_region": record_.insured_region,
        "treatment_region": record_.treatment_region,
        "offsite_status": record_.offsite_status,
        "policy_id": record_.policy_id,
        "amounts": {name: str(from_fen(getattr(record_, f"{name}_fen"))) for name in _MONEY},
        "deposit": str(from_fen(record_.deposit_fen)),
        "deposit_refund": str(from_fen(record_.deposit_refund_fen)),
        "cash_due": str(from_fen(record_.cash_due_fen)),
        "lines": [
            {
                "line_no": line.line_no,
                "line_id": line.line_id,
                "code": line.code,
                "name": line.name,
                "class": line.item_class,
                "quantity": str(from_e4(line.quantity_e4).normalize()),
                "unit_price": str(from_e4(line.unit_price_e4)),
                "amount": str(from_fen(line.amount_fen)),
                "full_self_pay": str(from_fen(line.full_self_pay_fen)),
                "over_limit_self_pay": str(from_fen(line.over_limit_self_pay_fen)),
                "pre_self_pay": str(from_fen(line.pre_self_pay_fen)),
                "in_scope": str(from_fen(line.in_scope_fen)),
                "not_eligible_reason": line.not_eligible_reason,
            }
            for line in _lines_of(session, record_.id)
        ],
        "explanation": result.get("explanation", [])
        if sign == 1
        else [
            f"reversal of settlement {record_.reverses_id}: every amount negated",
            *result.get("explanation", []),
        ],
        "accumulators_after": result.get("accumulators"),
        "created_at": record_.created_at.isoformat(),
    }
