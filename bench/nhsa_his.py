"""The HIS side of the national interface, for ``bench/settle_api.py``: settlement messages
(2304 inpatient, 2207 outpatient) for the benchmark's seeded visits, signed as the
platform's gateway expects, exactly as ``examples/his_2304.py`` sends them.

Each message gets a fresh ``msgid`` (the institution's code + ``yyyyMMddHHmmss`` (China
time) + a 4-digit sequence, unique across the run) and each sending fresh gateway headers
(``x-tif-timestamp`` in Unix seconds, a random ``x-tif-nonce``, ``x-tif-signature`` = the
lower-case hex SHA-256 of timestamp + secret + nonce + timestamp). Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

PATH = "/fsi/api/rsfComIfsService/callService"
CHINA = timezone(timedelta(hours=8))
# 险种类型 (insutype) by scheme: 310 employee basic, 390 resident basic.
INSUTYPE = {"employee": "310", "resident": "390"}


@dataclass(frozen=True, slots=True)
class Hospital:
    """A hospital as its HIS knows itself: code, name, treatment area and gateway pass."""

    code: str
    name: str
    area: str  # mdtrtarea_admvs
    pass_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class Visit:
    """One seeded open encounter, with what a HIS sends to settle it."""

    id: int  # mdtrt_id
    hospital: int  # institution id
    day: str  # the settlement day: REST's ``on``; for a stay, the discharge day recorded
    setting: str  # inpatient (2304) or outpatient (2207)
    person: int  # psn_no
    identity: str  # mdtrt_cert_no (mdtrt_cert_type 02, the identity card)
    scheme: str
    insured_area: str  # insuplc_admdvs
    total: Decimal  # medfee_sumamt: the sum of the uploaded fee lines


def sign(secret: str) -> dict[str, str]:
    """Fresh ``x-tif-timestamp``, ``x-tif-nonce`` and ``x-tif-signature`` (no pass id)."""
    stamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    digest = hashlib.sha256(f"{stamp}{secret}{nonce}{stamp}".encode()).hexdigest()
    return {"x-tif-timestamp": stamp, "x-tif-nonce": nonce, "x-tif-signature": digest}


class MsgIds:
    """``msgid`` values unique across the run: per institution, the 4-digit sequence counts
    up within one second of China time and starts again at 1 the next second; the second
    never goes back (a clock step back keeps the last one)."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, int]] = {}

    def next(self, code: str, now: datetime) -> str:
        stamp = now.astimezone(CHINA).strftime("%Y%m%d%H%M%S")
        last_stamp, sequence = self.last.get(code, ("", 0))
        if stamp <= last_stamp:
            stamp, sequence = last_stamp, sequence + 1
        else:
            sequence = 1
        if sequence > 9999:
            raise RuntimeError(f"more than 9999 messages of {code} in the second {stamp}")
        self.last[code] = (stamp, sequence)
        return f"{code}{stamp}{sequence:04d}"


def settlement_message(hospital: Hospital, visit: Visit, msgid: str, now: datetime) -> bytes:
    """The UTF-8 JSON of a 2304 (stay) or 2207 (outpatient visit) settling ``visit``."""
    inpatient = visit.setting == "inpatient"
    data: dict[str, Any] = {
        "psn_no": str(visit.person),
        "mdtrt_id": str(visit.id),
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": visit.identity,
        "insutype": INSUTYPE.get(visit.scheme, "310"),
        "med_type": "21" if inpatient else "11",
        "medfee_sumamt": format(visit.total, "f"),  # a decimal string, as many HIS send it
        "psn_setlway": "01",
        "acct_used_flag": "1",
        "chrg_bchno": "1",
    }
    message = {
        "infno": "2304" if inpatient else "2207",
        "msgid": msgid,
        "mdtrtarea_admvs": hospital.area,
        "insuplc_admdvs": visit.insured_area,
        "recer_sys_code": "YBHIS",
        "dev_no": "",
        "dev_safe_info": "",
        "cainfo": "",
        "signtype": "",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "001",
        "opter_name": "收费员",
        "inf_time": now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        "fixmedins_code": hospital.code,
        "fixmedins_name": hospital.name,
        "sign_no": "",
        "input": {"data": data},
    }
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def settlement_failure(visit: Visit, status: int, payload: bytes) -> str | None:
    """None when the answer settled ``visit`` (HTTP 200, ``infcode`` 0, its ``setlinfo``);
    otherwise the failure, short enough to count by kind."""
    if status != 200:
        return f"HTTP {status}"
    try:
        answer = json.loads(payload)
    except ValueError:
        return "an answer that is not JSON"
    if answer.get("infcode") != 0:
        return f"infcode {answer.get('infcode')}: {str(answer.get('err_msg'))[:160]}"
    info = (answer.get("output") or {}).get("setlinfo") or {}
    if info.get("mdtrt_id") != str(visit.id) or not info.get("setl_id"):
        return "infcode 0 without the visit's setlinfo"
    return None
