"""A settlement's figures beside the contract's: the parts other faces show (the national
interface's answers, a slip) that the contract's result names only in total.

Every figure here is one the engine computed or one stored with the settlement, split or
read, never a new rule:

- ``pooled_personal_share``: the in-scope amount above the deductible that the pool fund
  did not pay (统筹基金支付比例内自付: the personal share of the banded part, and any part
  above the annual cap) = ``in_scope − deductible − pool_fund_pay``;
- ``supplementary_by_name``: the engine's supplementary payment of each item of the
  policy (大额医疗费用补助, 大病保险, ...), which add up to ``supplementary_pay``;
- ``family_account_pay``: the account payment made from a relative's account (门诊共济),
  0 when the patient's own account paid;
- ``hospital_share``: a share borne by the hospital; no rule of Yibao assigns one, so 0;
- ``balance_after``: the paying account's balance after the settlement (None: no account).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from yibao.engine import Settlement
from yibao.money import FEN, from_fen
from yibao.registry.models import Account, AccountMovement
from yibao.settlements.models import SettlementRecord

_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Breakdown:
    pooled_personal_share: Decimal
    supplementary_by_name: dict[str, Decimal]
    family_account_pay: Decimal
    hospital_share: Decimal
    balance_after: Decimal | None


def _pooled_share(in_scope: Decimal, deductible: Decimal, pool: Decimal) -> Decimal:
    return max(_ZERO, in_scope - deductible - pool).quantize(FEN)


def breakdown_of_result(
    session: Session, *, result: Settlement, person_id: int, account_person_id: int | None
) -> Breakdown:
    """The breakdown of a result not stored (pre-settlement, 预结算): the balance after is
    the paying account's balance now less what the engine would take from it."""
    balance: Decimal | None = None
    if account_person_id is not None:
        account = session.get(Account, account_person_id)
        if account is not None:
            balance = from_fen(account.balance_fen) - result.account_pay
    return Breakdown(
        pooled_personal_share=_pooled_share(
            result.in_scope, result.deductible, result.pool_fund_pay
        ),
        supplementary_by_name={k: v.quantize(FEN) for k, v in result.supplementary_by_name.items()},
        family_account_pay=(
            result.account_pay if account_person_id not in (None, person_id) else _ZERO
        ),
        hospital_share=_ZERO,
        balance_after=balance,
    )


def breakdown_of_record(session: Session, *, record_: SettlementRecord) -> Breakdown:
    """The breakdown of a stored settlement or reversal (a reversal's figures negated, as
    its amounts are). The balance after is the one its account movement recorded, else the
    paying account's balance now (nothing was taken from it)."""
    stored = json.loads(record_.result_json).get("supplementary_by_name") or {}
    sign = -1 if record_.kind == "reversal" else 1
    balance: Decimal | None = None
    if record_.account_person_id is not None:
        ref = (
            f"settlement:{record_.id}"
            if record_.kind == "settlement"
            else f"reversal:{record_.id} of settlement:{record_.reverses_id}"
        )
        moved = session.execute(
            select(AccountMovement.balance_after_fen)
            .where(
                AccountMovement.person_id == record_.account_person_id,
                AccountMovement.ref == ref,
            )
            .limit(1)
        ).scalar_one_or_none()
        if moved is None:
            account = session.get(Account, record_.account_person_id)
            moved = account.balance_fen if account is not None else None
        balance = from_fen(moved) if moved is not None else None
    family = (
        from_fen(record_.account_pay_fen)
        if record_.account_person_id not in (None, record_.person_id)
        else _ZERO
    )
    return Breakdown(
        pooled_personal_share=sign
        * _pooled_share(
            sign * from_fen(record_.in_scope_fen),
            sign * from_fen(record_.deductible_fen),
            sign * from_fen(record_.pool_fund_pay_fen),
        ),
        supplementary_by_name={
            str(k): (sign * Decimal(str(v))).quantize(FEN) for k, v in stored.items()
        },
        family_account_pay=family,
        hospital_share=_ZERO,
        balance_after=balance,
    )


_MOVED_BALANCE = (
    select(AccountMovement.balance_after_fen)
    .where(
        AccountMovement.person_id == bindparam("person_id"),
        AccountMovement.ref == bindparam("ref"),
    )
    .limit(1)
)
_ACCOUNT_BALANCE = select(Account.balance_fen).where(Account.person_id == bindparam("person_id"))


def breakdown_of_settled(
    session: Session, *, record_: SettlementRecord, result: Settlement
) -> Breakdown:
    """The breakdown of a settlement (not a reversal) stored in this transaction from
    ``result``: the figures of :func:`breakdown_of_record`, the supplementary items taken
    from the result instead of decoding the stored one (the stored text is the result's,
    to the fen), the balance after read as there, by statements built once."""
    if record_.kind != "settlement":
        raise ValueError("breakdown_of_settled is for a settlement; use breakdown_of_record")
    balance: Decimal | None = None
    if record_.account_person_id is not None:
        conn = session.connection()
        moved = conn.execute(
            _MOVED_BALANCE,
            {"person_id": record_.account_person_id, "ref": f"settlement:{record_.id}"},
        ).scalar_one_or_none()
        if moved is None:
            moved = conn.execute(
                _ACCOUNT_BALANCE, {"person_id": record_.account_person_id}
            ).scalar_one_or_none()
        balance = from_fen(moved) if moved is not None else None
    family = (
        from_fen(record_.account_pay_fen)
        if record_.account_person_id not in (None, record_.person_id)
        else _ZERO
    )
    return Breakdown(
        pooled_personal_share=_pooled_share(
            from_fen(record_.in_scope_fen),
            from_fen(record_.deductible_fen),
            from_fen(record_.pool_fund_pay_fen),
        ),
        supplementary_by_name={k: v.quantize(FEN) for k, v in result.supplementary_by_name.items()},
        family_account_pay=family,
        hospital_share=_ZERO,
        balance_after=balance,
    )
