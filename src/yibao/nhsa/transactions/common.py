"""What several transactions share: reading ids, finding the patient, answering a settlement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from yibao.clock import as_utc
from yibao.encounters import service as encounters
from yibao.encounters.models import Encounter
from yibao.engine import Settlement
from yibao.nhsa.envelope import E4, Fields, MessageError, china_time
from yibao.nhsa.figures import (
    figures_of_record,
    figures_of_result,
    setldetail,
    setlinfo,
)
from yibao.nhsa.transactions import Context
from yibao.registry import service as registry
from yibao.registry.models import Person
from yibao.settlements.breakdown import (
    Breakdown,
    breakdown_of_record,
    breakdown_of_result,
    breakdown_of_settled,
)
from yibao.settlements.models import SettlementRecord

# 就诊凭证类型: 01 医保电子凭证, 02 居民身份证, 03 社会保障卡
CERT_IDENTITY = "02"
CERT_CARD = "03"


def int_id(fields: Fields, name: str) -> int:
    text = fields.need(name, max_length=20)
    if not text.isdigit():
        raise MessageError(f"{fields.where}.{name}", f"{text!r} is not an id Yibao answered")
    return int(text)


def certificate(fields: Fields) -> tuple[str | None, str | None]:
    """(identity number, card number) from ``mdtrt_cert_type`` / ``mdtrt_cert_no``, or from
    ``certno`` (``psn_cert_type`` 01, the identity card)."""
    kind = fields.text("mdtrt_cert_type", max_length=4)
    number = fields.text("mdtrt_cert_no", max_length=60)
    if kind is not None and number is not None:
        if kind == CERT_IDENTITY:
            return number, None
        if kind == CERT_CARD:
            return None, number
        raise MessageError(
            f"{fields.where}.mdtrt_cert_type",
            f"{kind!r} is not accepted: 02 (identity card) or 03 (social security card)",
        )
    certno = fields.text("certno", max_length=60)
    if certno is not None and (fields.text("psn_cert_type", max_length=4) or "01") == "01":
        return certno, None
    raise MessageError(
        fields.where,
        "name the patient's document: mdtrt_cert_type 02 (identity card) or 03 (social "
        "security card) with mdtrt_cert_no, or certno",
    )


def check_psn_no(fields: Fields, person_id: int) -> None:
    """A ``psn_no`` that is sent must be the patient's."""
    psn_no = fields.text("psn_no", max_length=30)
    if psn_no is not None and psn_no != str(person_id):
        raise MessageError(
            f"{fields.where}.psn_no", f"{psn_no!r} is not the patient of this visit ({person_id})"
        )


def own_encounter(ctx: Context, fields: Fields, *, setting: str) -> Encounter:
    """The institution's encounter named by ``mdtrt_id``, of the setting the transaction
    belongs to (an outpatient visit is not settled by 2304)."""
    encounter = encounters.own_encounter(
        ctx.session, encounter_id=int_id(fields, "mdtrt_id"), institution_id=ctx.institution.id
    )
    check_encounter(ctx, fields, encounter, setting=setting)
    return encounter


def check_encounter(ctx: Context, fields: Fields, encounter: Encounter, *, setting: str) -> None:
    """The visit is of the transaction's setting and ``psn_no``, when sent, its patient's."""
    if encounter.setting != setting:
        raise MessageError(
            f"{fields.where}.mdtrt_id",
            f"visit {encounter.id} is an {encounter.setting} one; transaction "
            f"{ctx.envelope.infno} is for {setting} visits",
        )
    check_psn_no(fields, encounter.person_id)


def settlement_day(ctx: Context, encounter: Encounter) -> date:
    """The discharge day recorded (2402), else the day of the message (China)."""
    return encounter.discharged_on or ctx.today


def check_total(fields: Fields, total: Decimal) -> None:
    """The HIS's ``medfee_sumamt``, when sent, must be the engine's total of the uploads."""
    stated = fields.amount("medfee_sumamt")
    if stated is not None and stated != total:
        raise MessageError(
            f"{fields.where}.medfee_sumamt",
            f"{stated} differs from the total of the uploaded fee details, {total}: "
            "upload or withdraw details first",
        )


def line_numbers(fields: Fields) -> tuple[Decimal, Decimal]:
    quantity = fields.number("cnt", places=E4, required=True)
    price = fields.number("pric", places=E4, required=True)
    assert quantity is not None and price is not None
    return quantity, price


def person_of(ctx: Context, person_id: int) -> Person:
    return registry.get_person(ctx.session, person_id=person_id)


def preview_output(
    ctx: Context, encounter: Encounter, result: Settlement, *, med_type: str | None
) -> dict[str, Any]:
    """The answer of a pre-settlement (2206 / 2303): nothing is stored."""
    person = person_of(ctx, encounter.person_id)
    breakdown = breakdown_of_result(
        ctx.session, result=result, person_id=person.id, account_person_id=person.id
    )
    figures = figures_of_result(result)
    return {
        "setlinfo": setlinfo(
            figures,
            breakdown,
            person=person,
            today=ctx.today,
            setl_id=None,
            mdtrt_id=str(encounter.id),
            setl_time=None,
            med_type=med_type,
            clr_optins=ctx.institution.region_code,
        ),
        "setldetail": setldetail(figures, breakdown, scheme=person.scheme),
    }


def record_output(ctx: Context, row: SettlementRecord, *, med_type: str | None) -> dict[str, Any]:
    """The answer of a stored settlement or reversal (2207/2208, 2304/2305, 2601, 5203)."""
    person = person_of(ctx, row.person_id)
    breakdown = breakdown_of_record(ctx.session, record_=row)
    return _stored_answer(ctx, row, person, breakdown, med_type=med_type)


def settled_output(
    ctx: Context, settled: encounters.EncounterSettled, *, med_type: str | None
) -> dict[str, Any]:
    """The answer of a settlement just stored (2207, 2304), the same as
    :func:`record_output`'s, from what the settlement step returned: its patient and
    result, nothing read again."""
    breakdown = breakdown_of_settled(ctx.session, record_=settled.record, result=settled.result)
    return _stored_answer(ctx, settled.record, settled.person, breakdown, med_type=med_type)


def _stored_answer(
    ctx: Context,
    row: SettlementRecord,
    person: Person,
    breakdown: Breakdown,
    *,
    med_type: str | None,
) -> dict[str, Any]:
    figures = figures_of_record(row)
    info = setlinfo(
        figures,
        breakdown,
        person=person,
        today=ctx.today,
        setl_id=str(row.id),
        mdtrt_id=str(row.encounter_id) if row.encounter_id is not None else "",
        setl_time=china_time(as_utc(row.created_at)).strftime("%Y-%m-%d %H:%M:%S"),
        med_type=med_type or ("21" if row.setting == "inpatient" else "11"),
        clr_optins=row.treatment_region,
    )
    info["refd_setl_flag"] = "1" if row.kind == "reversal" else "0"
    info["osetl_id"] = str(row.reverses_id) if row.reverses_id is not None else None
    return {"setlinfo": info, "setldetail": setldetail(figures, breakdown, scheme=person.scheme)}
