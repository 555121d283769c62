"""Direct settlement (直接结算): storing a settlement and reversing it, for every source.

The engine is the only place money is computed. Pre-settlement (预结算) calls it and changes
nothing; :func:`record_settlement` locks the person's year, calls it with the stored
accumulators and stores the result, its lines, the new accumulators and the account
movement; :func:`reverse_settlement` (冲正) undoes exactly that claim's contributions. Both
read as orchestrations of the parts that live elsewhere:

- :mod:`yibao.settlements.inputs`: the engine's inputs from the database (rules, person,
  institution, filing, the claim with the stored balance);
- :mod:`yibao.engine.accumulators`: the year's arithmetic (pure);
- :mod:`yibao.settlements.records`: the rows of a settlement, its lines and its reversal;
- :mod:`yibao.settlements.repository`: the statements and the row locks;
- :mod:`yibao.settlements.events`: the facts announced when done, to which encounters,
  pharmacy and recovery react (settlements never import them).

Services flush but never commit: the caller's ``session_scope`` owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.auth.models import User
from yibao.clock import day_start
from yibao.engine import Claim, Settlement, UnknownCatalogCode
from yibao.engine import settle as engine_settle
from yibao.engine.accumulators import accumulator_delta, accumulators_of, apply_delta
from yibao.engine.models import YearAccumulators
from yibao.engine.phrases import DEFAULT_LANGUAGE, Lang
from yibao.engine.render import MONEY_FIELDS, localise_explanation, plain
from yibao.errors import InvalidInput, NotFound, ValidationFailed
from yibao.events import publish
from yibao.money import from_e4, from_fen
from yibao.settlements import access, inputs, records, waterfall
from yibao.settlements import repository as repo
from yibao.settlements.events import SettlementRecorded, SettlementReversed
from yibao.settlements.inputs import Rules
from yibao.settlements.models import SettlementLine, SettlementRecord
from yibao.settlements.states import INSTITUTION_SOURCES, SOURCES, settlement_next

_MONEY = MONEY_FIELDS


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _run_engine(claim: Claim, rules: Rules, accumulators: YearAccumulators) -> Settlement:
    try:
        return engine_settle(
            claim, policies=rules.policies, catalog=rules.catalog, accumulators=accumulators
        )
    except UnknownCatalogCode as exc:
        raise InvalidInput(
            "fee details", f"line {exc.line_index + 1}", str(exc), code="catalog.unknown_code"
        ) from None


def preview_settlement(
    session: Session, *, claim: Claim, person_id: int, account_person_id: int | None
) -> Settlement:
    """Pre-settlement (预结算): the full result with today's stored year; changes nothing."""
    year = claim.date.year
    acc = accumulators_of(repo.get_accumulator(session, person_id=person_id, year=year), year=year)
    balance_fen = inputs.account_balance_fen(session, account_person_id)
    claim = inputs.with_stored_account(claim, balance_fen)
    return _run_engine(claim, inputs.rules_for_claim(session, claim), acc)


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
    claim; nothing is stored then. Announces :class:`SettlementRecorded` when done.
    Reused by the pharmacy and by manual reimbursement (``source="reimbursement"``).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    year = claim.date.year
    acc_row = repo.lock_accumulator(session, person_id=person_id, year=year)
    before = accumulators_of(acc_row, year=year)
    balance_fen = (
        repo.lock_account(session, person_id=account_person_id)
        if account_person_id is not None
        else None
    )
    claim = inputs.with_stored_account(claim, balance_fen or 0)
    result = _settled(claim, inputs.rules_for_claim(session, claim), before)
    delta = accumulator_delta(before, result.accumulators)
    values = apply_delta(acc_row, delta, sign=1)
    repo.update_accumulator(session, person_id=person_id, year=year, values=values)
    origin = records.Origin(
        source, person_id, account_person_id, institution_id, encounter_id, msg_id, invoice_no
    )
    settlement = records.settlement_record(
        claim, result, delta, origin, deposit_fen, balance_fen, actor=actor, at=_now(now)
    )
    repo.insert_settlement(session, settlement)
    _insert_lines(session, settlement.id, records.line_rows(claim.lines, result))
    if settlement.account_pay_fen and settlement.account_person_id is not None:
        _move_account(session, settlement, kind="settlement", ref=f"settlement:{settlement.id}")
    _audit_settled(session, settlement, result, actor=actor)
    publish(session, SettlementRecorded(settlement, actor))
    return settlement, result


def _settled(claim: Claim, rules: Rules, before: YearAccumulators) -> Settlement:
    """The engine's settlement of ``claim``, or ``settlement.rejected`` with its reason."""
    result = _run_engine(claim, rules, before)
    if result.status != "settled":
        raise ValidationFailed(
            f"the claim is rejected: {result.reason}",
            code="settlement.rejected",
            reason=result.reason,
        )
    return result


def _audit_settled(
    session: Session, settlement: SettlementRecord, result: Settlement, *, actor: Actor
) -> None:
    record(
        session,
        actor=actor,
        action="settlement.settle",
        entity="settlement",
        entity_id=settlement.id,
        before=None,
        after={
            "source": settlement.source,
            "person_id": settlement.person_id,
            "claim_id": settlement.claim_id,
            "fund_pay_total": str(result.fund_pay_total),
            "account_pay": str(result.account_pay),
            "cash_pay": str(result.cash_pay),
        },
        at=settlement.created_at,
    )


def _move_account(session: Session, row: SettlementRecord, *, kind: str, ref: str) -> None:
    """The locked paying account pays ``row``'s account share (a reversal's is negative, so
    the account gets it back); the patient is the beneficiary when someone else pays."""
    assert row.account_person_id is not None
    repo.move_account(
        session,
        person_id=row.account_person_id,
        amount_fen=-row.account_pay_fen,
        kind=kind,
        ref=ref,
        beneficiary_id=row.person_id if row.account_person_id != row.person_id else None,
        at=row.created_at,
    )


_LINES_KEY = "yibao.settlement_lines"


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
    year and the account restored by exactly this claim's contributions. Announces
    :class:`SettlementReversed` (the encounter reopens, the sale and the recovery case
    follow) in the same transaction.

    ``institution_id`` limits the reversal to that institution's own settlements.
    Lock order: the settlement, the person's year, the paying account, then whatever the
    subscribers lock (the encounter): see :mod:`yibao.encounters.handlers`.
    """
    original = repo.get_settlement(session, settlement_id, lock=True)
    if institution_id is not None and original.institution_id != institution_id:
        raise NotFound(f"settlement {settlement_id} not found", code="settlement.not_found")
    if actor is not None and not isinstance(actor, str):
        access.require_reversible_by(session, cast(User, actor), original)
    original.state = settlement_next(original.state, "reverse")
    acc_row = repo.lock_accumulator(session, person_id=original.person_id, year=original.year)
    values = apply_delta(acc_row, json.loads(original.acc_delta), sign=-1)
    repo.update_accumulator(
        session, person_id=original.person_id, year=original.year, values=values
    )
    reversal = records.reversal_record(
        original, msg_id=msg_id, reason=reason, actor=actor, at=_now(now)
    )
    repo.insert_settlement(session, reversal)
    _insert_lines(
        session, reversal.id, records.negated_line_rows(repo.settlement_lines(session, original.id))
    )
    if original.account_pay_fen and original.account_person_id is not None:
        repo.lock_account(session, person_id=original.account_person_id)
        _move_account(
            session,
            reversal,
            kind="reversal",
            ref=f"reversal:{reversal.id} of settlement:{original.id}",
        )
    record(
        session,
        actor=actor,
        action="settlement.reverse",
        entity="settlement",
        entity_id=original.id,
        before={"state": "settled"},
        after={"state": original.state, "reversal_id": reversal.id, "reason": reason},
        at=reversal.created_at,
    )
    publish(session, SettlementReversed(original, reversal, actor))
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
    if (
        original is None
        or original.kind != "settlement"
        or original.source not in INSTITUTION_SOURCES
    ):
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


def list_settlements(
    session: Session,
    *,
    actor: User | str,
    year_month: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SettlementRecord]:
    """The settlements ``actor`` may see (see :mod:`yibao.settlements.access`), newest first."""
    return repo.list_settlements(
        session,
        where=access.settlement_scope(session, actor),
        year_month=year_month,
        kind=kind,
        limit=limit,
        offset=offset,
    )


def search_settlements(
    session: Session,
    *,
    actor: User | str,
    on: date | None = None,
    state: str | None = None,
    setting: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SettlementRecord]:
    """The settlements ``actor`` may see, newest first, stored on a day in China (``on``),
    of a state (settled, reversed, reversal) and a setting (inpatient, outpatient)."""
    return repo.search_settlements(
        session,
        where=access.settlement_scope(session, actor),
        stored_from=day_start(on) if on is not None else None,
        stored_before=day_start(on + timedelta(days=1)) if on is not None else None,
        state=state,
        setting=setting,
        limit=limit,
        offset=offset,
    )


def get_settlement(session: Session, *, actor: User | str, settlement_id: int) -> SettlementRecord:
    return access.readable(session, actor, repo.get_settlement(session, settlement_id))


def clearing_totals(
    session: Session,
    *,
    actor: User | str,
    year_month: str,
    insured_region: str | None = None,
    treatment_region: str | None = None,
) -> list[repo.ClearingTotals]:
    """Per region pair and fund, the month's totals on the actor's side of the clearing."""
    return repo.clearing_totals(
        session,
        year_month=year_month,
        **access.totals_scope(
            session, actor, insured_region=insured_region, treatment_region=treatment_region
        ),
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


def settlement_explained(
    session: Session, *, record_: SettlementRecord, lang: Lang = DEFAULT_LANGUAGE
) -> dict[str, Any]:
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
                "quantity": plain(from_e4(line.quantity_e4)),
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
        "explanation": localise_explanation(
            result.get("explanation", [])
            if sign == 1
            else [
                f"reversal of settlement {record_.reverses_id}: every amount negated",
                *result.get("explanation", []),
            ],
            lang,
        ),
        "accumulators_after": result.get("accumulators"),
        "created_at": record_.created_at.isoformat(),
    }


def lock_person_year(session: Session, *, person_id: int, year: int) -> None:
    """Wait for, then hold until the transaction ends, the lock every settlement of the
    person's year takes: a check that must see every settlement of that year (a duplicate
    invoice) runs after it."""
    repo.lock_accumulator(session, person_id=person_id, year=year)


def fund_breakdown(session: Session, *, actor: User, year: int) -> list[Any]:
    """The year's settlements the actor may see (see :mod:`.access`), summed in the database
    per month, setting, off-site status, treatment region and source (see
    :func:`repository.fund_breakdown` for the columns): the figures of a fund dashboard."""
    first_month, last_month = f"{year:04d}-01", f"{year:04d}-12"
    regions = access.agency_regions(session, actor)
    if regions is not None:  # whole regions: the rollups hold their sums
        insured_region, treatment_region = regions
        return repo.fund_breakdown_rolled_up(
            session,
            insured_region=insured_region,
            treatment_region=treatment_region,
            first_month=first_month,
            last_month=last_month,
        )
    return repo.fund_breakdown(
        session,
        where=access.settlement_scope(session, actor),
        first_month=first_month,
        last_month=last_month,
    )


def settlement_waterfall(
    record_: SettlementRecord, *, lang: Lang = DEFAULT_LANGUAGE
) -> list[dict[str, Any]]:
    """The stored settlement as the steps of a waterfall (see :mod:`.waterfall`)."""
    return waterfall.settlement_waterfall(record_, lang=lang)
