"""Sign-in (9001) and person information (1101)."""

from __future__ import annotations

import hashlib
from typing import Any

from yibao.errors import Forbidden, NotFound
from yibao.nhsa.envelope import china_time, money
from yibao.nhsa.figures import person_fields
from yibao.nhsa.transactions import Context, transaction
from yibao.nhsa.transactions.common import certificate
from yibao.registry import service as registry


@transaction("9001", "签到 sign-in")
def sign_in(ctx: Context) -> dict[str, Any]:
    """The operator signs in; ``sign_no`` names the sign-in (the interface does not
    require it on later messages: the gateway authenticates each one)."""
    data = ctx.envelope.input.obj("signIn", required=False)
    operator = data.text("opter_no", max_length=60) or ctx.envelope.opter or ""
    digest = hashlib.sha256(f"{ctx.envelope.msgid}|{operator}".encode()).hexdigest()
    return {
        "signinoutb": {
            "sign_time": china_time(ctx.now).strftime("%Y-%m-%d %H:%M:%S"),
            "sign_no": str(int(digest[:15], 16))[:16],
        }
    }


@transaction("1101", "人员信息获取 person information")
def person_information(ctx: Context) -> dict[str, Any]:
    """The patient by identity number or card, as the registry lets a hospital find them
    (the identity number masked), with the account's balance when the hospital may see
    the account (its patients: a filing naming it, a visit, a sale)."""
    data = ctx.envelope.input.obj("data")
    identity, card = certificate(data)
    person = registry.lookup_person(
        ctx.session, actor=ctx.user, identity_number=identity, card_number=card
    )
    balance = None
    try:
        balance = money(
            registry.account_of(ctx.session, actor=ctx.user, person_id=person.id).balance
        )
    except (Forbidden, NotFound):
        ctx.warnings.append(
            "balc: the account's balance is shown to the hospital of the patient's visit or "
            "filing; register the visit (2201 / 2401) first"
        )
    base = person_fields(person, today=ctx.today)
    insuinfo = {
        "balc": balance,
        "insutype": base["insutype"],
        "psn_type": base["psn_type"],
        "psn_insu_stas": "1",
        "psn_insu_date": None,
        "paus_insu_date": None,
        "cvlserv_flag": base["cvlserv_flag"],
        "insuplc_admdvs": person.insured_region,
        "emp_name": None,
    }
    idetinfo = (
        [
            {
                "psn_idet_type": "2302",
                "psn_type_lv": None,
                "memo": "医疗救助对象",
                "begntime": None,
                "endtime": None,
            }
        ]
        if person.assistance_eligible
        else []
    )
    baseinfo = {
        k: base[k]
        for k in ("psn_no", "psn_cert_type", "certno", "psn_name", "gend", "naty", "brdy", "age")
    }
    return {"baseinfo": baseinfo, "insuinfo": [insuinfo], "idetinfo": idetinfo}
