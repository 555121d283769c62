"""The hospital window's steps shared by outpatient (22xx) and inpatient (23xx/24xx)
transactions: registering, fee details and their withdrawal, pre-settlement, settlement and
its cancellation. Each calls :mod:`yibao.encounters.service` or
:mod:`yibao.settlements.service` as the institution's user."""

from __future__ import annotations

from datetime import date
from typing import Any

from yibao.encounters import repository as encounter_repo
from yibao.encounters import service as encounters
from yibao.encounters.models import Encounter
from yibao.errors import YibaoError
from yibao.nhsa.envelope import Fields, MessageError, money
from yibao.nhsa.figures import fee_line_result
from yibao.nhsa.transactions import Context
from yibao.nhsa.transactions.common import (
    certificate,
    check_encounter,
    check_psn_no,
    check_total,
    int_id,
    line_numbers,
    own_encounter,
    preview_output,
    record_output,
    settled_output,
    settlement_day,
)
from yibao.settlements import service as settlements

ALL = "0000"  # every line / batch, as HIS systems send it


def register(
    ctx: Context,
    data: Fields,
    *,
    setting: str,
    started_on: date,
    ref: str | None,
    diagnosis: str | None,
) -> dict[str, Any]:
    identity, card = certificate(data)
    encounter = encounters.register_encounter(
        ctx.session,
        institution_id=ctx.institution.id,
        setting=setting,
        started_on=started_on,
        identity_number=identity,
        card_number=card,
        hospital_ref=ref,
        diagnosis=diagnosis,
        today=ctx.today,
        actor=ctx.user,
    )
    check_psn_no(data, encounter.person_id)
    return {"mdtrt_id": str(encounter.id), "psn_no": str(encounter.person_id), "ipt_otp_no": ref}


def upload_fees(ctx: Context, *, setting: str) -> dict[str, Any]:
    """Fee details (费用明细上传): lines matched by ``med_list_codg`` (the catalog code),
    ``medins_list_codg`` kept; answered with each line as the engine classifies it."""
    rows = ctx.envelope.input.items("feedetail")
    if not rows:
        raise MessageError("input.feedetail", "needs at least one line")
    visits = {row.need("mdtrt_id", max_length=20) for row in rows}
    if len(visits) != 1:
        raise MessageError(
            "input.feedetail",
            f"lines of several visits ({', '.join(sorted(visits))}) in one upload",
        )
    encounter = own_encounter(ctx, rows[0], setting=setting)
    lines: list[encounters.FeeLineIn] = []
    stated: dict[str, Any] = {}
    numbers: dict[str, tuple[Any, Any]] = {}
    for row in rows:
        check_psn_no(row, encounter.person_id)
        quantity, price = line_numbers(row)
        line_id = row.need("feedetl_sn", max_length=60)
        lines.append(
            encounters.FeeLineIn(
                line_id=line_id,
                code=row.need("med_list_codg", max_length=60),
                quantity=quantity,
                unit_price=price,
                hospital_code=row.text("medins_list_codg", max_length=60),
            )
        )
        stated[line_id] = row.amount("det_item_fee_sumamt")
        numbers[line_id] = (quantity, price)
    encounters.upload_fees(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        lines=lines,
        actor=ctx.user,
    )
    try:
        preview = encounters.pre_settle_encounter(
            ctx.session,
            encounter_id=encounter.id,
            institution_id=ctx.institution.id,
            on=settlement_day(ctx, encounter),
            local_use_while_filed=ctx.local_use_while_filed,
            today=ctx.today,
        )
    except YibaoError as exc:
        ctx.warnings.append(f"the lines are stored; they cannot be classified yet: {exc}")
        return {"result": [{"feedetl_sn": line.line_id} for line in lines]}
    if preview.status != "settled":
        ctx.warnings.append(f"the lines are stored; the visit would be refused: {preview.reason}")
        return {"result": [{"feedetl_sn": line.line_id} for line in lines]}
    by_id = {line.line_id: line for line in preview.lines}
    result = []
    for index, line in enumerate(lines):
        classified = by_id[line.line_id]
        given = stated[line.line_id]
        if given is not None and given != money(classified.amount):
            raise MessageError(
                f"input.feedetail[{index}].det_item_fee_sumamt",
                f"{given} is not cnt × pric = {money(classified.amount)}",
            )
        quantity, price = numbers[line.line_id]
        result.append(fee_line_result(classified, quantity=quantity, price=price))
    return {"result": result}


def withdraw_fees(ctx: Context, *, setting: str) -> dict[str, Any]:
    """Withdraw fee details (明细撤销): by ``feedetl_sn``, or every active line with
    ``feedetl_sn`` / ``chrg_bchno`` 0000."""
    rows = ctx.envelope.input.items("data")
    if not rows:
        raise MessageError("input.data", "names no line to withdraw")
    withdrawn: list[str] = []
    for row in rows:
        encounter = own_encounter(ctx, row, setting=setting)
        line_id = row.text("feedetl_sn", max_length=60)
        batch = row.text("chrg_bchno", max_length=60)
        if line_id is None and batch is None:
            raise MessageError(row.where, "name the line (feedetl_sn) or 0000 for every line")
        if line_id is None and batch != ALL:
            raise MessageError(
                f"{row.where}.chrg_bchno",
                f"{batch!r}: lines are withdrawn by feedetl_sn, or all with 0000",
            )
        if line_id is None or line_id == ALL:
            ids = [line.line_id for line in encounter_repo.fee_lines(ctx.session, encounter.id)]
            if not ids:
                raise MessageError(row.where, f"visit {encounter.id} has no active fee line")
        else:
            ids = [line_id]
        for one in ids:
            encounters.withdraw_fee(
                ctx.session,
                encounter_id=encounter.id,
                institution_id=ctx.institution.id,
                line_id=one,
                actor=ctx.user,
            )
            withdrawn.append(one)
    return {"result": [{"feedetl_sn": one} for one in withdrawn]}


def pre_settle(ctx: Context, *, setting: str) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    encounter = own_encounter(ctx, data, setting=setting)
    _account_flag(ctx, data)
    result = encounters.pre_settle_encounter(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        on=settlement_day(ctx, encounter),
        local_use_while_filed=ctx.local_use_while_filed,
        today=ctx.today,
    )
    if result.status != "settled":
        raise MessageError(
            "", f"the visit cannot be settled: {result.reason}", code="settlement.rejected"
        )
    check_total(data, money(result.total))
    return preview_output(ctx, encounter, result, med_type=data.text("med_type", max_length=6))


def settle(ctx: Context, *, setting: str) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    encounter_id = int_id(data, "mdtrt_id")
    invoice_no = data.text("invono", max_length=60)

    def check(encounter: Encounter) -> date:
        # On the row the service locks: the visit is read once.
        check_encounter(ctx, data, encounter, setting=setting)
        _account_flag(ctx, data)
        return settlement_day(ctx, encounter)

    settled = encounters.settle_encounter_checked(
        ctx.session,
        encounter_id=encounter_id,
        institution_id=ctx.institution.id,
        check=check,
        msg_id=ctx.envelope.msgid,
        invoice_no=invoice_no,
        local_use_while_filed=ctx.local_use_while_filed,
        actor=ctx.user,
        now=ctx.now,
    )
    check_total(data, money(settled.result.total))  # refused: the whole settlement rolls back
    return settled_output(ctx, settled, med_type=data.text("med_type", max_length=6))


def cancel_settlement(ctx: Context, *, setting: str) -> dict[str, Any]:
    """Cancel a settlement (结算撤销): reversed through the settlements service."""
    data = ctx.envelope.input.obj("data")
    encounter = own_encounter(ctx, data, setting=setting)
    setl_id = int_id(data, "setl_id")
    original = settlements.get_settlement(ctx.session, actor=ctx.user, settlement_id=setl_id)
    if original.encounter_id != encounter.id:
        raise MessageError(
            "input.data.setl_id", f"settlement {setl_id} is not of visit {encounter.id}"
        )
    reversal = settlements.reverse_settlement(
        ctx.session,
        settlement_id=setl_id,
        institution_id=ctx.institution.id,
        msg_id=ctx.envelope.msgid,
        reason=f"{ctx.envelope.infno} 结算撤销",
        actor=ctx.user,
        now=ctx.now,
    )
    return record_output(ctx, reversal, med_type=None)


def _account_flag(ctx: Context, data: Fields) -> None:
    if data.text("acct_used_flag", max_length=2) == "0":
        ctx.warnings.append(
            "acct_used_flag 0: the insured region's policy decides what the personal account "
            "pays; it is not switched off per visit"
        )
