"""Outpatient (2201 → 2203 → 2204 → 2206 → 2207 → 2208), a lost 2304 answer reversed by
2601, exactly once by msgid, and 5203, with every figure checked by hand.

Outpatient visit (Sanya, level 3; unfiled: 50 − 20 = 30%):
- S1 S001 class A, 1 × 50.00, in scope 50.00;
- S2 X002 class B (10% first), 1 × 200.00: pre-self-pay 20.00, in scope 180.00;
- S3 X003 class C, 1 × 30.00: full self-pay 30.00.
Total 280.00 = 30.00 + 0 + 20.00 + 230.00. Deductible min(230, 100) = 100.00; pool
(230 − 100) × 30% = 39.00; pooled personal share 230 − 100 − 39 = 91.00; large_amount is
for inpatient stays only: 0; funds 39.00; the person 280 − 39 = 241.00, all from the
account (1,500.00 → 1,259.00).
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy.orm import Session

from tests.nhsa.conftest import His, counts
from tests.nhsa.test_inpatient_sequence import (
    admit,
    check_identities,
    check_stay_figures,
    settle_input,
    upload,
)
from yibao.encounters.models import Encounter
from yibao.registry.models import Account, Person
from yibao.settlements.models import SettlementRecord

VISIT = [
    ("S1", "S001", "MZ-01", "1", "50.00"),
    ("S2", "X002", "MZ-02", "1", "200.00"),
    ("S3", "X003", "MZ-03", "1", "30.00"),
]


def register(his: His, person: Person) -> str:
    out = his.ok(
        "2201",
        {
            "data": {
                "psn_no": str(person.id),
                "insutype": "310",
                "begntime": "2026-05-12 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": person.identity_number,
                "ipt_otp_no": "MZ2026001",
                "atddr_no": "D001",
                "dr_name": "李医生",
                "dept_code": "01",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
    )
    return str(out["data"]["mdtrt_id"])


def outpatient_fees(his: His, person: Person, mdtrt_id: str) -> list[dict]:
    return his.ok(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": sn,
                    "mdtrt_id": mdtrt_id,
                    "psn_no": str(person.id),
                    "chrg_bchno": "C1",
                    "med_list_codg": code,
                    "medins_list_codg": own,
                    "cnt": cnt,
                    "pric": price,
                    "fee_ocur_time": "2026-05-12 09:10:00",
                }
                for sn, code, own, cnt, price in VISIT
            ]
        },
    )["result"]


def outpatient_input(person: Person, mdtrt_id: str) -> dict:
    return {
        "data": {
            "psn_no": str(person.id),
            "mdtrt_id": mdtrt_id,
            "medfee_sumamt": 280,
            "med_type": "11",
            "insutype": "310",
        }
    }


VISIT_FIGURES = {
    "medfee_sumamt": "280.00",
    "fulamt_ownpay_amt": "30.00",
    "overlmt_selfpay": "0.00",
    "preselfpay_amt": "20.00",
    "inscp_scp_amt": "230.00",
    "act_pay_dedc": "100.00",
    "hifp_pay": "39.00",
    "pool_prop_selfpay": "91.00",
    "hifob_pay": "0.00",
    "fund_pay_sumamt": "39.00",
    "psn_part_amt": "241.00",
    "acct_pay": "241.00",
    "psn_cash_pay": "0.00",
    "hosp_part_amt": "0.00",
}


def test_the_outpatient_sequence_of_a_his(his: His, patient: Person, session: Session) -> None:
    mdtrt_id = register(his, patient)
    visit = his.ok(
        "2203",
        {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": str(patient.id),
                "med_type": "11",
                "dise_codg": "J06.9",
            },
            "diseinfo": [],
        },
    )
    assert visit["data"]["dise_codg"] == "J06.9"
    assert session.get(Encounter, int(mdtrt_id)).diagnosis == "J06.9"
    lines = outpatient_fees(his, patient, mdtrt_id)
    assert [line["inscp_scp_amt"] for line in lines] == [D("50.00"), D("180.00"), D("0.00")]
    pre = his.ok("2206", outpatient_input(patient, mdtrt_id))["setlinfo"]
    for name, value in VISIT_FIGURES.items():
        assert pre[name] == D(value), name
    check_identities(pre)
    settled = his.ok("2207", outpatient_input(patient, mdtrt_id))
    info = settled["setlinfo"]
    for name, value in VISIT_FIGURES.items():
        assert info[name] == D(value), name
    assert info["balc"] == D("1259.00") and info["clr_type"] == "11"
    assert [row["fund_pay_type"] for row in settled["setldetail"]] == ["310100"]
    cancelled = his.ok(
        "2208",
        {"data": {"setl_id": info["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}},
    )
    for name, value in VISIT_FIGURES.items():
        assert cancelled["setlinfo"][name] == -D(value), name
    check_identities(cancelled["setlinfo"])
    assert cancelled["setlinfo"]["balc"] == D("1500.00")
    session.expire_all()
    assert session.get(Account, patient.id).balance_fen == 150_000
    # 5203: the settlement, now cancelled, read back
    queried = his.ok("5203", {"data": {"setl_id": info["setl_id"], "psn_no": str(patient.id)}})
    assert queried["setlinfo"]["hifp_pay"] == D("39.00") and queried["setlinfo"]["balc"] == D(
        "1259.00"
    )


def test_a_lost_2304_answer_is_reversed_by_2601(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    his.send("2304", settle_input(patient, mdtrt_id))  # the answer never reached the HIS
    lost = his.last_msgid
    session.expire_all()
    assert session.get(Account, patient.id).balance_fen == 44_000
    out = his.ok("2601", {"data": {"psn_no": str(patient.id), "omsgid": lost, "oinfno": "2304"}})
    check_stay_figures(out["setlinfo"], sign=-1)
    assert out["data"] == {
        "omsgid": lost,
        "oinfno": "2304",
        "osetl_id": out["setlinfo"]["osetl_id"],
    }
    session.expire_all()
    assert session.get(Account, patient.id).balance_fen == 150_000
    original = session.get(SettlementRecord, int(out["setlinfo"]["osetl_id"]))
    assert original is not None and original.state == "reversed" and original.msg_id == lost
    # the visit is open again: it settles anew under a new msgid, as the first admission
    again = his.ok("2304", settle_input(patient, mdtrt_id))
    check_stay_figures(again["setlinfo"])
    # a second 2601 of the same message: nothing left to reverse
    twice = his.send(
        "2601", {"data": {"psn_no": str(patient.id), "omsgid": lost, "oinfno": "2304"}}
    )
    assert twice["infcode"] == -1 and "reverse" in twice["err_msg"]


def test_2601_of_a_message_never_stored_changes_nothing(
    his: His, patient: Person, session: Session
) -> None:
    before = counts(session)
    answer = his.send(
        "2601", {"data": {"omsgid": f"{his.code}202605120929599999", "oinfno": "2304"}}
    )
    assert answer["infcode"] == -1
    assert "settlement.message_not_found" in answer["err_msg"]
    assert counts(session) == before


def test_the_same_msgid_returns_the_first_answer_byte_for_byte(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    message = his.envelope("2304", settle_input(patient, mdtrt_id))
    from yibao.nhsa.envelope import dumps

    first, first_text = his.post(dumps(message))
    after_first = counts(session)
    # the same message again (amounts written differently, keys reordered, nulls added)
    same = dict(message)
    same["input"] = {
        "data": {
            **settle_input(patient, mdtrt_id)["data"],
            "medfee_sumamt": "2360.000000",
            "invono": None,
        }
    }
    second, second_text = his.post(dumps(same))
    assert second["infcode"] == 0
    assert first_text.split('"output":', 1)[1] == second_text.split('"output":', 1)[1]
    assert counts(session) == after_first
    # a different message under the used msgid is refused, and changes nothing
    other = dict(message)
    other["input"] = settle_input(patient, mdtrt_id, total="2361.00")
    refused, _ = his.post(dumps(other))
    assert refused["infcode"] == -1 and "already used for a different message" in refused["err_msg"]
    assert refused["output"] is None
    assert counts(session) == after_first
    assert first["output"]["setlinfo"]["setl_id"] == second["output"]["setlinfo"]["setl_id"]
