"""A HIS's inpatient settlement through the national interface, against a running demo.

Signs each request as the platform's gateway does (x-tif-paasid, x-tif-timestamp,
x-tif-nonce, x-tif-signature = SHA-256 of timestamp + secret + nonce + timestamp) and sends
9001 sign-in → 1101 person → 2401 admission → 2301 fee details → 2303 pre-settlement →
2304 settlement, printing each answer. The demo's guide prints the command with the pass
id and secret of each institution (docs/nhsa.md explains every field).

Standard library and httpx only:

    python examples/his_2304.py --base http://127.0.0.1:8000 --code H460200001 \\
        --pass-id demo-h460200001 --secret SECRET --card BJ1000001
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

PATH = "/fsi/api/rsfComIfsService/callService"
CHINA = timezone(timedelta(hours=8))
# The stay of the demo's guide: catalog codes of Sanya, quantities, unit prices.
LINES = [("S0005", "5", "30.00"), ("D0009", "40", "65.10"), ("F0010", "5", "20.00")]


class His:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.client = httpx.Client(base_url=args.base, timeout=30)
        self.sequence = 0

    def headers(self) -> dict[str, str]:
        stamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        sign = hashlib.sha256(f"{stamp}{self.args.secret}{nonce}{stamp}".encode()).hexdigest()
        return {
            "x-tif-paasid": self.args.pass_id,
            "x-tif-timestamp": stamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": sign,
            "content-type": "application/json;charset=utf-8",
        }

    def send(self, infno: str, data: dict[str, Any], insured_area: str) -> dict[str, Any]:
        self.sequence += 1
        now = datetime.now(CHINA)
        message = {
            "infno": infno,
            "msgid": f"{self.args.code}{now:%Y%m%d%H%M%S}{self.sequence:04d}",
            "mdtrtarea_admvs": self.args.area,
            "insuplc_admdvs": insured_area,
            "recer_sys_code": "YBHIS",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收费员",
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": self.args.code,
            "fixmedins_name": "",
            "sign_no": "",
            "input": data,
        }
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        response = self.client.post(PATH, content=body, headers=self.headers())
        answer = json.loads(response.text, parse_float=Decimal)  # amounts exact, never floats
        print(f"--- {infno} msgid {message['msgid']}")
        print(json.dumps(answer, ensure_ascii=False, indent=2, default=str))
        if answer.get("infcode") != 0:
            sys.exit(f"{infno} refused: {answer.get('err_msg')}")
        return answer["output"] or {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the demo's address")
    parser.add_argument("--code", required=True, help="fixmedins_code of the hospital")
    parser.add_argument("--pass-id", required=True, help="x-tif-paasid of the hospital")
    parser.add_argument("--secret", required=True, help="the secret of the pass id")
    parser.add_argument("--card", required=True, help="the patient's social security card")
    parser.add_argument("--area", default="460200", help="mdtrtarea_admvs (treatment area)")
    parser.add_argument("--ipt-no", default=None, help="the hospital's admission number")
    args = parser.parse_args()
    his = His(args)
    his.send("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}}, args.area)
    person = his.send(
        "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": args.card}}, args.area
    )
    psn_no = person["baseinfo"]["psn_no"]
    insured_area = person["insuinfo"][0]["insuplc_admdvs"]
    today = datetime.now(CHINA)
    admitted = his.send(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": psn_no,
                "insutype": person["insuinfo"][0]["insutype"],
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": args.card,
                "med_type": "21",
                "ipt_no": args.ipt_no or f"ZY{today:%Y%m%d%H%M%S}",
                "begntime": f"{today:%Y-%m-%d} 08:00:00",
                "adm_diag_dscr": "肺炎",
            },
            "diseinfo": [{"diag_type": "1", "diag_code": "J18.9", "diag_name": "肺炎"}],
        },
        insured_area,
    )
    mdtrt_id = admitted["result"]["mdtrt_id"]
    his.send(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": f"{mdtrt_id}-{n}",
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "chrg_bchno": "1",
                    "med_list_codg": code,
                    "medins_list_codg": f"HIS-{code}",
                    "cnt": cnt,
                    "pric": price,
                    "fee_ocur_time": f"{today:%Y-%m-%d %H:%M:%S}",
                }
                for n, (code, cnt, price) in enumerate(LINES, start=1)
            ]
        },
        insured_area,
    )
    settle = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_id": mdtrt_id,
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": args.card,
            "med_type": "21",
            "acct_used_flag": "1",
        }
    }
    his.send("2303", settle, insured_area)
    settled = his.send("2304", settle, insured_area)
    info = settled["setlinfo"]
    print(
        f"settled: setl_id {info['setl_id']}, total {info['medfee_sumamt']}, funds "
        f"{info['fund_pay_sumamt']}, account {info['acct_pay']}, cash {info['psn_cash_pay']}"
    )


if __name__ == "__main__":
    main()
