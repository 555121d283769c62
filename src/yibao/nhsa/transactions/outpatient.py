"""Outpatient transactions (门诊): 2201 registration, 2202 its cancellation, 2203 visit
information, 2204 / 2205 fee details and their withdrawal, 2206 pre-settlement, 2207
settlement, 2208 its cancellation."""

from __future__ import annotations

from typing import Any

from yibao.encounters import service as encounters
from yibao.nhsa.transactions import Context, transaction, window
from yibao.nhsa.transactions.common import own_encounter

SETTING = "outpatient"


@transaction("2201", "门诊挂号 outpatient registration", once=True)
def registration(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    started = data.day("begntime") or ctx.today
    out = window.register(
        ctx,
        data,
        setting=SETTING,
        started_on=started,
        ref=data.text("ipt_otp_no", max_length=60),
        diagnosis=None,
    )
    return {"data": out}


@transaction("2202", "门诊挂号撤销 registration cancelled", once=True)
def registration_cancelled(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    encounter = own_encounter(ctx, data, setting=SETTING)
    encounters.cancel_encounter(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        reason="2202 门诊挂号撤销",
        actor=ctx.user,
    )
    return {"data": {"mdtrt_id": str(encounter.id), "psn_no": str(encounter.person_id)}}


@transaction("2203", "门诊就诊信息上传 visit information", once=True)
def visit_information(ctx: Context) -> dict[str, Any]:
    info = ctx.envelope.input.obj("mdtrtinfo")
    encounter = own_encounter(ctx, info, setting=SETTING)
    diagnoses = ctx.envelope.input.items("diseinfo", required=False)
    diagnosis = info.text("dise_codg", max_length=20) or (
        diagnoses[0].text("diag_code", max_length=20) if diagnoses else None
    )
    encounters.record_visit(
        ctx.session,
        encounter_id=encounter.id,
        institution_id=ctx.institution.id,
        diagnosis=diagnosis,
        actor=ctx.user,
    )
    return {"data": {"mdtrt_id": str(encounter.id), "dise_codg": diagnosis}}


@transaction("2204", "门诊费用明细上传 fee details", once=True)
def fees(ctx: Context) -> dict[str, Any]:
    return window.upload_fees(ctx, setting=SETTING)


@transaction("2205", "门诊费用明细撤销 fee details withdrawn", once=True)
def fees_withdrawn(ctx: Context) -> dict[str, Any]:
    return window.withdraw_fees(ctx, setting=SETTING)


@transaction("2206", "门诊预结算 pre-settlement")
def pre_settlement(ctx: Context) -> dict[str, Any]:
    return window.pre_settle(ctx, setting=SETTING)


@transaction("2207", "门诊结算 settlement", once=True)
def settlement(ctx: Context) -> dict[str, Any]:
    return window.settle(ctx, setting=SETTING)


@transaction("2208", "门诊结算撤销 settlement cancelled", once=True)
def settlement_cancelled(ctx: Context) -> dict[str, Any]:
    return window.cancel_settlement(ctx, setting=SETTING)
