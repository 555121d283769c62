"""3201 totals and 3202 details reconciliation, through the reconciliation service.

After one stay settled (2,360.00, funds 1,300.00, account 1,060.00), cancelled (the
reversal: −2,360.00, −1,300.00, −1,060.00) and settled again, the day holds three records:
count 3, total 2,360.00, funds 1,300.00, account 1,060.00.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.nhsa.conftest import His, counts
from tests.nhsa.test_inpatient_sequence import admit, settle_input, upload
from yibao.reconciliation.models import Reconciliation
from yibao.registry.models import Person


def _three_records(his: His, patient: Person) -> tuple[str, str, str, str]:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    first = his.ok("2304", settle_input(patient, mdtrt_id))["setlinfo"]["setl_id"]
    reversal = his.ok("2305", {"data": {"setl_id": first, "mdtrt_id": mdtrt_id}})["setlinfo"][
        "setl_id"
    ]
    second = his.ok("2304", settle_input(patient, mdtrt_id))["setlinfo"]["setl_id"]
    return mdtrt_id, first, reversal, second


def _totals(**over: object) -> dict:
    data = {
        "insutype": "310",
        "clr_type": "21",
        "setl_optins": "460200",
        "stmt_begndate": "2026-05-12",
        "stmt_enddate": "2026-05-12",
        "medfee_sumamt": "2360.00",
        "fund_pay_sumamt": 1300,
        "acct_pay": "1060.00",
        "fixmedins_setl_cnt": "3",
    }
    data.update(over)
    return {"data": data}


def test_3201_balanced_and_not(his: His, patient: Person, session: Session) -> None:
    _three_records(his, patient)
    balanced = his.ok("3201", _totals())["stmtinfo"]
    assert balanced["stmt_rslt"] == "0" and balanced["differences"] == []
    assert balanced["setl_optins"] == "460200"
    off = his.ok("3201", _totals(fixmedins_setl_cnt=2, acct_pay="0.00"))["stmtinfo"]
    assert off["stmt_rslt"] == "1"
    assert {(d["field"], d["yibao"], d["fixmedins"]) for d in off["differences"]} == {
        ("fixmedins_setl_cnt", "3", "2"),
        ("acct_pay", "1060.00", "0.00"),
    }
    assert "acct_pay" in off["stmt_rslt_dscr"] and "1060.00" in off["stmt_rslt_dscr"]
    row = session.get(Reconciliation, int(off["stmt_id"]))
    assert row is not None and row.status == "differences"


def test_3202_answers_every_difference(his: His, patient: Person, session: Session) -> None:
    mdtrt_id, first, reversal, second = _three_records(his, patient)
    psn = str(patient.id)
    good = "\n".join(
        [
            "setl_id\tmdtrt_id\tpsn_no\tmedfee_sumamt\tfund_pay_sumamt\tacct_pay\trefd_setl_flag",
            f"{first}\t{mdtrt_id}\t{psn}\t2360.00\t1300.00\t1060.00\t0",
            f"{reversal}\t{mdtrt_id}\t{psn}\t-2360.00\t-1300.00\t-1060.00\t1",
            f"{second}\t{mdtrt_id}\t{psn}\t2360.00\t1300.00\t1060.00\t0",
        ]
    )
    ok = his.ok("3202", _totals(detail_file=good))["stmtinfo"]
    assert ok["stmt_rslt"] == "0" and ok["differences"] == []
    # the hospital lacks the reversal, has a settlement Yibao never made, and a wrong account
    bad = "\n".join(
        [
            f"{first}\t{mdtrt_id}\t{psn}\t2360.00\t1300.00\t1000.00\t0",
            f"{second}\t{mdtrt_id}\t{psn}\t2360.00\t1300.00\t1060.00\t1",
            f"9999\t{mdtrt_id}\t{psn}\t10.00\t0.00\t0.00\t0",
        ]
    )
    off = his.ok("3202", _totals(detail_file=bad))["stmtinfo"]
    assert off["stmt_rslt"] == "1"
    assert [
        (d["kind"], d["setl_id"], d["field"], d["yibao"], d["fixmedins"])
        for d in off["differences"]
    ] == [
        ("missing", reversal, "medfee_sumamt", "-2360.00", None),
        ("extra", "9999", "medfee_sumamt", None, "10.00"),
        ("amount_differs", first, "acct_pay", "1060.00", "1000.00"),
        ("amount_differs", second, "refd_setl_flag", "0", "1"),
    ]


def test_3202_with_a_broken_file_changes_nothing(
    his: His, patient: Person, session: Session
) -> None:
    _three_records(his, patient)
    before = counts(session)
    answer = his.send("3202", _totals(detail_file="1\t2\t3\n"))
    assert answer["infcode"] == -1 and "line 1" in answer["err_msg"] and "7" in answer["err_msg"]
    answer = his.send("3202", _totals(detail_file="1\t1\t1\tabc\t0\t0\t0\n"))
    assert answer["infcode"] == -1 and "line 1.medfee_sumamt" in answer["err_msg"]
    answer = his.send("3202", _totals())
    assert answer["infcode"] == -1 and "detail_file" in answer["err_msg"]
    assert counts(session) == before
