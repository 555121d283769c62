"""The advance fund (预付金) between regions, and how much of it is in use.

In cross-region direct settlement the insured region pays the treatment region an advance
fund, so that the treatment region can pay its institutions for the insured region's
persons before each month is cleared. This module owns its money rules:

- **recording** an amount: the insured region's centre records what it paid (a new row
  per change, effective from a day; history is kept). A sum of money typed by hand is
  never recorded by one person: the request waits for a second user of the same centre
  (approval kind ``clearing.advance_fund``, 四眼原则), and is recorded when approved;
- the **suggested** amount: :data:`SUGGESTED_FACTOR` times the average monthly fund
  payment (pool, supplementary, assistance) of the pair over the last
  :data:`SUGGESTED_MONTHS` complete months, summed in the database from the settlements
  clearing counts;
- the **usage** of a pair: the part in use is what the treatment region advanced and no
  confirmed clearing statement holds yet (:func:`yibao.clearing.service.outstanding`,
  funds and personal accounts: what clearing will repay); its share of the fund in force
  gives the level: ``ok``, ``warning`` from :data:`WARNING_PERCENT`, ``serious`` from
  :data:`SERIOUS_PERCENT` (the insured region must top the fund up), ``no_advance`` when
  no fund (or a fund of zero) is in force.

Pages and the API show these levels and thresholds; none of them computes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.approvals.models import Approval
from yibao.audit.service import record
from yibao.auth.models import User
from yibao.clearing import access
from yibao.clearing import repository as repo
from yibao.clearing import service as clearing
from yibao.clearing.models import AdvanceFund
from yibao.clock import business_date
from yibao.errors import NotFound, ValidationFailed
from yibao.money import from_fen, to_fen
from yibao.registry import repository as registry_repo
from yibao.registry import service as registry
from yibao.settlements import access as settlement_access

WARNING_PERCENT: Final = 70
"""From this share of the advance fund in use, a warning (预警)."""
SERIOUS_PERCENT: Final = 90
"""From this share in use, a serious warning (严重预警): the insured region tops it up."""
SUGGESTED_MONTHS: Final = 2
"""The complete months whose fund payments are averaged for the suggested amount."""
SUGGESTED_FACTOR: Final = 2
"""The suggested fund covers this many months of the average payments."""
MAX_AMOUNT_FEN: Final = 100_000_000_000_00
"""One hundred billion yuan: anything larger is a typing error."""
NOTE_LENGTH: Final = 200

OK, WARNING, SERIOUS, NO_ADVANCE = "ok", "warning", "serious", "no_advance"
LEVELS: Final = (OK, WARNING, SERIOUS, NO_ADVANCE)

ADVANCE_FUND: Final = "clearing.advance_fund"
"""The approval kind of recording an advance fund."""


# --- the rules, pure ----------------------------------------------------------------------


def level_of(amount_fen: int | None, in_use_fen: int) -> str:
    """The warning level of a fund of ``amount_fen`` with ``in_use_fen`` in use; compared
    in whole fen, so exactly 70% is a warning and exactly 90% a serious one."""
    if not amount_fen:
        return NO_ADVANCE
    if in_use_fen * 100 >= SERIOUS_PERCENT * amount_fen:
        return SERIOUS
    if in_use_fen * 100 >= WARNING_PERCENT * amount_fen:
        return WARNING
    return OK


def usage_percent(amount_fen: int | None, in_use_fen: int) -> Decimal | None:
    """The share in use, in percent to one decimal, rounded down (so a share shown as
    70.0% has reached 70%); None without a fund."""
    if not amount_fen:
        return None
    return (Decimal(in_use_fen) * 100 / Decimal(amount_fen)).quantize(
        Decimal("0.1"), rounding=ROUND_FLOOR
    )


def suggestion_months(on: date) -> tuple[str, ...]:
    """The last :data:`SUGGESTED_MONTHS` complete months before ``on``'s month, oldest
    first (``YYYY-MM``)."""
    year, month = on.year, on.month
    months: list[str] = []
    for _ in range(SUGGESTED_MONTHS):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(f"{year:04d}-{month:02d}")
    return tuple(reversed(months))


def suggested_fen(fund_fen: int) -> int:
    """:data:`SUGGESTED_FACTOR` times the monthly average of ``fund_fen`` paid over
    :data:`SUGGESTED_MONTHS` months, to the fen (half up); never below zero."""
    if fund_fen <= 0:
        return 0
    return (2 * fund_fen * SUGGESTED_FACTOR + SUGGESTED_MONTHS) // (2 * SUGGESTED_MONTHS)


# --- what the services answer -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The suggested advance fund of a pair and what it was computed from."""

    insured_region: str
    treatment_region: str
    months: tuple[str, ...]
    fund_fen: int  # the funds' payments in those months (reversals count against them)
    amount_fen: int

    @property
    def monthly_average_fen(self) -> int:
        return (2 * self.fund_fen + len(self.months)) // (2 * len(self.months))


@dataclass(frozen=True, slots=True)
class Usage:
    """A pair's advance fund in force, the part in use and its level."""

    insured_region: str
    treatment_region: str
    amount_fen: int | None  # None: no fund recorded in force
    effective_from: date | None
    in_use_fen: int  # advanced and in no confirmed clearing statement (funds + accounts)
    entries: int  # settlements and reversals in use
    since: str | None  # the earliest month among them
    percent: Decimal | None
    level: str
    suggestion: Suggestion


def _day(on: date | None) -> date:
    return on if on is not None else business_date(datetime.now(UTC))


def suggested_amounts(
    session: Session, *, actor: User, on: date | None = None
) -> dict[tuple[str, str], Suggestion]:
    """The suggested advance fund of every pair on the actor's side of clearing with fund
    payments in the last complete months before ``on`` (today in China), by pair."""
    months = suggestion_months(_day(on))
    scope = settlement_access.totals_scope(
        session, actor, insured_region=None, treatment_region=None
    )
    out: dict[tuple[str, str], Suggestion] = {}
    for row in repo.fund_payments(
        session,
        months=months,
        insured_region=scope["insured_region"],
        treatment_region=scope["treatment_region"],
    ):
        fund = int(row.fund_fen or 0)
        out[(row.insured_region, row.treatment_region)] = Suggestion(
            row.insured_region, row.treatment_region, months, fund, suggested_fen(fund)
        )
    return out


def suggested_amount(
    session: Session,
    *,
    actor: User,
    insured_region: str,
    treatment_region: str,
    on: date | None = None,
) -> Suggestion:
    """The suggested advance fund of one pair (zero when nothing was paid)."""
    _require_party(session, actor, insured_region, treatment_region)
    found = suggested_amounts(session, actor=actor, on=on).get((insured_region, treatment_region))
    if found is not None:
        return found
    return Suggestion(insured_region, treatment_region, suggestion_months(_day(on)), 0, 0)


def _require_party(
    session: Session, actor: User, insured_region: str, treatment_region: str
) -> None:
    if not clearing_party(session, actor, insured_region, treatment_region):
        raise NotFound(
            f"no advance fund {insured_region}→{treatment_region} for you",
            code="clearing.advance_not_found",
        )


def clearing_party(
    session: Session, actor: User, insured_region: str, treatment_region: str
) -> bool:
    return access.party_to(
        session, actor, insured_region=insured_region, treatment_region=treatment_region
    )


def funds_in_force(
    session: Session, *, actor: User, on: date | None = None
) -> dict[tuple[str, str], AdvanceFund]:
    """The advance fund in force on ``on`` (today) of each pair the actor is a party to."""
    rows = repo.advance_funds_on(session, where=access.advance_scope(session, actor), on=_day(on))
    return {(r.insured_region, r.treatment_region): r for r in rows}


def fund_history(
    session: Session, *, actor: User, insured_region: str, treatment_region: str
) -> list[AdvanceFund]:
    """Every recorded amount of a pair, newest effective first (a party to it only)."""
    _require_party(session, actor, insured_region, treatment_region)
    return repo.advance_fund_history(
        session,
        where=access.advance_scope(session, actor),
        insured_region=insured_region,
        treatment_region=treatment_region,
    )


def usage(session: Session, *, actor: User, on: date | None = None) -> list[Usage]:
    """Per pair on the actor's side of clearing (the centre: what it pays; the treatment
    agency: what it holds; admins: all), the fund in force on ``on`` (today), the part in
    use (now), its share and level, and the suggested amount. Every pair with a fund, an
    amount in use or payments in the last complete months; a few queries in all."""
    outstanding = {
        (row.insured_region, row.treatment_region): row
        for row in clearing.outstanding(session, actor=actor)
    }
    funds = funds_in_force(session, actor=actor, on=on)
    suggestions = suggested_amounts(session, actor=actor, on=on)
    months = suggestion_months(_day(on))
    out = []
    for pair in sorted(set(outstanding) | set(funds) | set(suggestions)):
        row = outstanding.get(pair)
        fund = funds.get(pair)
        in_use = int(row.due_fen or 0) if row is not None else 0
        amount = fund.amount_fen if fund is not None else None
        out.append(
            Usage(
                insured_region=pair[0],
                treatment_region=pair[1],
                amount_fen=amount,
                effective_from=fund.effective_from if fund is not None else None,
                in_use_fen=in_use,
                entries=int(row.entries) if row is not None else 0,
                since=str(row.since) if row is not None and row.since else None,
                percent=usage_percent(amount, in_use),
                level=level_of(amount, in_use),
                suggestion=suggestions.get(pair) or Suggestion(pair[0], pair[1], months, 0, 0),
            )
        )
    return out


# --- recording an amount (四眼原则) --------------------------------------------------------


def recording_region(session: Session, *, actor: User) -> str | None:
    """The insured region whose advance funds the actor records (its centre's), or None:
    the pages offer the form only then."""
    return access.advance_region(session, actor)


def treatment_regions(
    session: Session, *, actor: User, usage_rows: Sequence[Usage] | None = None
) -> list[str]:
    """The regions a centre may record an advance fund for: every region with a treatment
    agency, and every region it already clears with (``usage_rows``: :func:`usage`'s answer
    when the caller has it, so it is not asked twice), never its own."""
    own = access.advance_region(session, actor)
    if own is None:
        return []
    rows = usage_rows if usage_rows is not None else usage(session, actor=actor)
    codes = {a.region_code for a in registry_repo.list_agencies(session, kind="treatment_agency")}
    codes |= {u.treatment_region for u in rows if u.insured_region == own}
    return sorted(codes - {own})


def _amount_fen(amount: Decimal) -> int:
    try:
        fen = to_fen(amount)
    except (ValueError, InvalidOperation):
        raise ValidationFailed(
            f"{amount} is not a whole number of fen", code="clearing.advance_fen"
        ) from None
    if fen < 0:
        raise ValidationFailed(
            "an advance fund is never negative; to end it, record 0.00",
            code="clearing.advance_negative",
        )
    if fen > MAX_AMOUNT_FEN:
        raise ValidationFailed(
            f"{amount} is more than an advance fund can be ({from_fen(MAX_AMOUNT_FEN)})",
            code="clearing.advance_too_large",
        )
    return fen


def request_advance_fund(
    session: Session,
    *,
    actor: User,
    treatment_region: str,
    amount: Decimal,
    effective_from: date | None = None,
    note: str | None = None,
    insured_region: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Ask to record the advance fund the actor's centre (an admin: ``insured_region``)
    has paid ``treatment_region``: ``amount`` yuan from ``effective_from`` (today in
    China). Nothing is recorded yet: the answer is a pending approval that a second user
    of the same centre (or an admin) approves (四眼原则)."""
    at = now or datetime.now(UTC)
    region = insured_region or access.advance_region(session, actor)
    if region is None:
        access.require_advance_recorder(session, actor, "")  # only an admin passes
        raise ValidationFailed(
            "name the insured region that pays the advance fund",
            code="clearing.advance_region",
        )
    access.require_advance_recorder(session, actor, region)
    amount_fen = _amount_fen(amount)
    if treatment_region == region:
        raise ValidationFailed(
            "an advance fund is paid to another region", code="clearing.advance_same_region"
        )
    try:
        registry.get_region(session, code=treatment_region)
    except NotFound:
        raise ValidationFailed(
            f"there is no region {treatment_region}", code="clearing.advance_region"
        ) from None
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_LENGTH:
        raise ValidationFailed(
            f"a note has at most {NOTE_LENGTH} characters", code="clearing.advance_note"
        )
    day = effective_from or business_date(at)
    return approvals.request_approval(
        session,
        kind=ADVANCE_FUND,
        subject=f"advance_fund:{region}->{treatment_region}",
        summary=f"record the advance fund {region}→{treatment_region}: "
        f"{from_fen(amount_fen)} from {day.isoformat()}",
        payload={
            "insured_region": region,
            "treatment_region": treatment_region,
            "amount_fen": amount_fen,
            "effective_from": day.isoformat(),
            "note": text,
        },
        region_code=region,
        actor=actor,
        now=at,
    )


def _may_record(session: Session, user: User, payload: Mapping[str, Any]) -> bool:
    return access.may_record_advance(session, user, str(payload.get("insured_region", "")))


def _carry_out(
    session: Session, payload: Mapping[str, Any], approval: Approval, user: User
) -> Mapping[str, Any]:
    at = approval.decided_at or datetime.now(UTC)
    amount_fen = int(payload["amount_fen"])
    if amount_fen < 0:  # the request was checked; the table's CHECK is the last word
        raise ValidationFailed(
            "an advance fund is never negative", code="clearing.advance_negative"
        )
    row = AdvanceFund(
        insured_region=str(payload["insured_region"]),
        treatment_region=str(payload["treatment_region"]),
        amount_fen=amount_fen,
        effective_from=date.fromisoformat(str(payload["effective_from"])),
        note=payload.get("note"),
        recorded_by=approval.requested_by,
        approved_by=user.id,
        approval_id=approval.id,
        recorded_at=at,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=user,
        action="clearing.advance_fund",
        entity="advance_fund",
        entity_id=row.id,
        before=None,
        after={
            "pair": f"{row.insured_region}->{row.treatment_region}",
            "amount": str(from_fen(row.amount_fen)),
            "effective_from": row.effective_from.isoformat(),
            "requested_by": approval.requested_by,
        },
        at=at,
    )
    return {"advance_fund_id": row.id, "amount": str(from_fen(row.amount_fen))}


approvals.register_kind(approvals.ApprovalKind(ADVANCE_FUND, _may_record, _carry_out))
