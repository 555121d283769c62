"""Inpatient transactions (住院): 2401 admission, 2402 discharge, 2404 admission cancelled,
2405 discharge cancelled; 2301 / 2302 fee details and their withdrawal, 2303
pre-settlement, 2304 settlement, 2305 its cancellation."""

from __future__ import annotations

from typing import Any

from yibao.encounters import service as encounters
from yibao.nhsa.envelope import MessageError
from yibao.nhsa.transactions import Context, transaction, window
from yibao.nhsa.transactions.common import own_encounter

SETTING = "inpatient"


def _diagnosis(ctx: Context, info_code: str | None) -> str | None:
    diagnoses = ctx.envelope.input.items("diseinfo", required=False)
    return info_code or (diagnoses[0].text("diag_code", max_length=20) if diagnoses else None)


@transaction("2401", "入院办理 admission", once=True)
def admission(ctx: Context) -> dict[str, Any]:
    info = ctx.envelope.input.obj("mdtrtinfo")
    started = info.day("begntime", required=True)
    assert started is not None
    out = window.register(
        ctx,
        info,
        setting=SETTING,
        started_on=started,
        ref=info.text("ipt_no", max_length=60),
        diagnosis=_diagnosis(ctx, info.text("dscg_maindiag_code", max_length=20)),
    )
    return {"result": out}


@transaction("2402", "出院办理 discharge", once=True)
def discharge(ctx: Context) -> dict[str, Any]:
    info = ctx.envelope.input.obj("dscginfo")
    encounter = own_encounter(ctx, info, setting=SETTING)
    ended = info.day("endtime", required=True)
    assert ended is not None
    encounters.record_discharge(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        on=ended,
        today=ctx.today,
        actor=ctx.user,
    )
    diagnosis = _diagnosis(ctx, info.text("dise_codg", max_length=20))
    if diagnosis is not None:
        encounters.record_visit(
            ctx.session,
            encounter_id=encounter.id,
            institution_id=ctx.institution.id,
            diagnosis=diagnosis,
            actor=ctx.user,
        )
    return {"result": {"mdtrt_id": str(encounter.id), "endtime": ended.isoformat()}}


@transaction("2404", "入院办理撤销 admission cancelled", once=True)
def admission_cancelled(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    encounter = own_encounter(ctx, data, setting=SETTING)
    encounters.cancel_encounter(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        reason="2404 入院办理撤销",
        actor=ctx.user,
    )
    return {"result": {"mdtrt_id": str(encounter.id)}}


@transaction("2405", "出院办理撤销 discharge cancelled", once=True)
def discharge_cancelled(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    encounter = own_encounter(ctx, data, setting=SETTING)
    if encounter.state != "open":
        raise MessageError(
            "input.data.mdtrt_id",
            f"visit {encounter.id} is {encounter.state}: cancel its settlement (2305) first",
        )
    encounters.cancel_discharge(
        ctx.session, encounter_id=encounter.id, institution_id=ctx.institution.id, actor=ctx.user
    )
    return {"result": {"mdtrt_id": str(encounter.id)}}


@transaction("2301", "住院费用明细上传 fee details", once=True)
def fees(ctx: Context) -> dict[str, Any]:
    return window.upload_fees(ctx, setting=SETTING)


@transaction("2302", "住院费用明细撤销 fee details withdrawn", once=True)
def fees_withdrawn(ctx: Context) -> dict[str, Any]:
    return window.withdraw_fees(ctx, setting=SETTING)


@transaction("2303", "住院预结算 pre-settlement")
def pre_settlement(ctx: Context) -> dict[str, Any]:
    return window.pre_settle(ctx, setting=SETTING)


@transaction("2304", "住院结算 settlement", once=True)
def settlement(ctx: Context) -> dict[str, Any]:
    return window.settle(ctx, setting=SETTING)


@transaction("2305", "住院结算撤销 settlement cancelled", once=True)
def settlement_cancelled(ctx: Context) -> dict[str, Any]:
    return window.cancel_settlement(ctx, setting=SETTING)
