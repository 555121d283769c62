"""The inpatient sequence as a HIS sends it: 9001 → 1101 → 2401 → 2301 → 2303 → 2304 →
2305 → 2304 again, with every figure checked by hand against the policy of the kit.

The stay (Sanya hospital, level 3; the patient insured in Beijing, not filed: unfiled,
paid at 80 − 20 = 60%):
- L1 X001 class A, 10 × 100.00 = 1,000.00, all in scope;
- L2 X002 class B (10% first), 1 × 1,000.00: pre-self-pay 100.00, in scope 900.00;
- L3 X003 class C, 1 × 200.00: full self-pay 200.00;
- L4 M001 class A, ceiling 50.00, 2 × 80.00 = 160.00: over the limit 60.00, in scope 100.00.
Total 2,360.00 = 200.00 + 60.00 + 100.00 + 2,000.00. Deductible 1,000.00; pool
(2,000 − 1,000) × 60% = 600.00; the personal in-scope share pooled = 2,000 − 1,000 − 600
= 400.00; large_amount 50% × (2,000 − 600) = 700.00; funds 1,300.00; the person
2,360 − 1,300 − 0 = 1,060.00, all from the account (1,500.00 → 440.00), cash 0.
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.nhsa.conftest import His, counts
from yibao.encounters.models import FeeLine
from yibao.registry.models import Account, Person
from yibao.settlements.models import SettlementRecord

STAY = [
    ("L1", "X001", "HX-01", "10", "100.00"),
    ("L2", "X002", "HX-02", "1", "1000.00"),
    ("L3", "X003", "HX-03", "1", "200.00"),
    ("L4", "M001", "HX-04", "2", "80.00"),
]


def admit(his: His, person: Person, ref: str = "ZY2026001") -> str:
    out = his.ok(
        "2401",
        {
            "mdtrtinfo": {
                "psn_no": str(person.id),
                "insutype": "310",
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": person.card_number,
                "med_type": "21",
                "ipt_no": ref,
                "begntime": "2026-05-01 08:00:00",
                "adm_diag_dscr": "肺炎",
            },
            "diseinfo": [{"diag_type": "1", "diag_code": "J18.9", "diag_name": "肺炎"}],
        },
    )
    assert out["result"]["psn_no"] == str(person.id)
    assert out["result"]["ipt_otp_no"] == ref
    return str(out["result"]["mdtrt_id"])


def upload(
    his: His, person: Person, mdtrt_id: str, lines: list[tuple[str, str, str, str, str]] = STAY
) -> list[dict]:
    out = his.ok(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": sn,
                    "mdtrt_id": mdtrt_id,
                    "psn_no": str(person.id),
                    "chrg_bchno": "B1",
                    "med_list_codg": code,
                    "medins_list_codg": own,
                    # numbers as the HIS sends them: a JSON number or a long decimal string
                    "cnt": int(cnt) if index % 2 == 0 else f"{cnt}.000000",
                    "pric": D(price) if index % 2 == 0 else f"{price}00",
                    "det_item_fee_sumamt": str(D(cnt) * D(price)),
                    "fee_ocur_time": "2026-05-02 10:00:00",
                }
                for index, (sn, code, own, cnt, price) in enumerate(lines)
            ]
        },
    )
    return out["result"]


def settle_input(person: Person, mdtrt_id: str, total: str = "2360.00") -> dict:
    return {
        "data": {
            "psn_no": str(person.id),
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": person.card_number,
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
            "mid_setl_flag": "0",
        }
    }


def check_identities(info: dict) -> None:
    assert info["medfee_sumamt"] == (
        info["fulamt_ownpay_amt"]
        + info["overlmt_selfpay"]
        + info["preselfpay_amt"]
        + info["inscp_scp_amt"]
    )
    assert (
        info["psn_part_amt"]
        == info["medfee_sumamt"] - info["fund_pay_sumamt"] - info["hosp_part_amt"]
    )
    assert info["psn_part_amt"] == info["acct_pay"] + info["psn_cash_pay"]


def check_stay_figures(info: dict, sign: int = 1) -> None:
    expected = {
        "medfee_sumamt": "2360.00",
        "fulamt_ownpay_amt": "200.00",
        "overlmt_selfpay": "60.00",
        "preselfpay_amt": "100.00",
        "inscp_scp_amt": "2000.00",
        "act_pay_dedc": "1000.00",
        "hifp_pay": "600.00",
        "pool_prop_selfpay": "400.00",
        "hifob_pay": "700.00",
        "hifmi_pay": "0.00",
        "cvlserv_pay": "0.00",
        "hifes_pay": "0.00",
        "maf_pay": "0.00",
        "oth_pay": "0.00",
        "fund_pay_sumamt": "1300.00",
        "psn_part_amt": "1060.00",
        "acct_pay": "1060.00",
        "psn_cash_pay": "0.00",
        "hosp_part_amt": "0.00",
        "acct_mulaid_pay": "0.00",
    }
    for name, value in expected.items():
        assert info[name] == sign * D(value), name
    check_identities(info)


def test_the_inpatient_sequence_of_a_his(his: His, patient: Person, session: Session) -> None:
    # 9001: sign-in
    signed = his.ok("9001", {"signIn": {"opter_no": "001", "mac": "00-00", "ip": "10.0.0.1"}})
    assert signed["signinoutb"]["sign_no"]
    # 1101 by card: the person; the balance is not the hospital's to see before a visit
    answer = his.send(
        "1101",
        {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "BJ-T-0041", "psn_cert_type": "01"}},
    )
    assert answer["infcode"] == 0
    base = answer["output"]["baseinfo"]
    assert base["psn_no"] == str(patient.id) and base["psn_name"] == "钱退休"
    assert base["certno"] != patient.identity_number and base["certno"].endswith(
        patient.identity_number[-4:]
    )
    assert answer["output"]["insuinfo"][0]["insutype"] == "310"
    assert answer["output"]["insuinfo"][0]["psn_type"] == "12"
    assert answer["output"]["insuinfo"][0]["balc"] is None and "balc" in answer["warn_msg"]
    # 2401: admission
    mdtrt_id = admit(his, patient)
    # 1101 again: now the hospital's patient, the balance shows
    after = his.ok(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": patient.identity_number}}
    )
    assert after["insuinfo"][0]["balc"] == D("1500.00")
    # 2301: fee details, each line as the engine classifies it
    lines = {line["feedetl_sn"]: line for line in upload(his, patient, mdtrt_id)}
    assert lines["L1"]["chrgitm_lv"] == "01" and lines["L1"]["inscp_scp_amt"] == D("1000.00")
    assert lines["L2"]["chrgitm_lv"] == "02" and lines["L2"]["selfpay_prop"] == D("0.10")
    assert lines["L2"]["preselfpay_amt"] == D("100.00") and lines["L2"]["inscp_scp_amt"] == D(
        "900.00"
    )
    assert lines["L3"]["chrgitm_lv"] == "03" and lines["L3"]["fulamt_ownpay_amt"] == D("200.00")
    assert lines["L3"]["selfpay_prop"] == D("1.00")
    assert lines["L4"]["pric_uplmt_amt"] == D("50.00") and lines["L4"]["overlmt_amt"] == D("60.00")
    assert lines["L1"]["pric_uplmt_amt"] == D("999999")
    for line in lines.values():
        assert line["det_item_fee_sumamt"] == (
            line["fulamt_ownpay_amt"]
            + line["overlmt_amt"]
            + line["preselfpay_amt"]
            + line["inscp_scp_amt"]
        )
    stored = session.scalars(select(FeeLine).order_by(FeeLine.id)).all()
    assert [f.hospital_code for f in stored] == ["HX-01", "HX-02", "HX-03", "HX-04"]
    assert [f.code for f in stored] == ["X001", "X002", "X003", "M001"]
    # 2303: pre-settlement, nothing stored
    before = counts(session)
    pre = his.ok("2303", settle_input(patient, mdtrt_id))
    check_stay_figures(pre["setlinfo"])
    assert pre["setlinfo"]["setl_id"] is None
    assert pre["setlinfo"]["balc"] == D("440.00")
    assert counts(session) == before
    # 2304: settlement
    settled = his.ok("2304", settle_input(patient, mdtrt_id))
    info = settled["setlinfo"]
    check_stay_figures(info)
    assert info["balc"] == D("440.00")
    assert info["mdtrt_id"] == mdtrt_id and info["refd_setl_flag"] == "0"
    details = {row["fund_pay_type"]: row["fund_payamt"] for row in settled["setldetail"]}
    assert details == {"310100": D("600.00"), "330100": D("700.00")}
    row = session.get(SettlementRecord, int(info["setl_id"]))
    assert row is not None and row.msg_id == his.last_msgid
    assert session.get(Account, patient.id).balance_fen == 44_000
    # 2305: the settlement cancelled; every figure negated; the account back to 1,500.00
    cancelled = his.ok(
        "2305",
        {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}},
    )
    check_stay_figures(cancelled["setlinfo"], sign=-1)
    assert cancelled["setlinfo"]["refd_setl_flag"] == "1"
    assert cancelled["setlinfo"]["osetl_id"] == info["setl_id"]
    assert cancelled["setlinfo"]["balc"] == D("1500.00")
    # 2304 again: the year was restored exactly, so the same figures (first admission again)
    again = his.ok("2304", settle_input(patient, mdtrt_id))
    check_stay_figures(again["setlinfo"])
    assert again["setlinfo"]["setl_id"] != info["setl_id"]
    assert again["setlinfo"]["balc"] == D("440.00")
    session.expire_all()
    assert session.get(Account, patient.id).balance_fen == 44_000
