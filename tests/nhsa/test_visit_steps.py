"""The other steps of a visit: 2402 discharge (the settlement is made on its day), 2405 its
cancellation, 2404 an admission cancelled, 2202 a registration cancelled, 2302 / 2205 fee
details withdrawn; and the encounters service's own functions behind them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session

from tests.nhsa.conftest import His, counts
from tests.nhsa.test_inpatient_sequence import admit, check_stay_figures, settle_input, upload
from tests.nhsa.test_outpatient_and_reversal import outpatient_fees, register
from yibao.encounters import service as encounters
from yibao.encounters.models import Encounter, FeeLine
from yibao.errors import InvalidTransition, ValidationFailed
from yibao.registry.models import Person
from yibao.settlements.models import SettlementRecord


def test_discharge_sets_the_settlement_day_and_can_be_cancelled(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    out = his.ok(
        "2402",
        {
            "dscginfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": str(patient.id),
                "endtime": "2026-05-08 10:00:00",
                "dise_codg": "J18.9",
            }
        },
    )
    assert out["result"]["endtime"] == "2026-05-08"
    assert session.get(Encounter, int(mdtrt_id)).discharged_on == date(2026, 5, 8)
    his.ok("2405", {"data": {"mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}})
    session.expire_all()
    assert session.get(Encounter, int(mdtrt_id)).discharged_on is None
    # cancelling again: not discharged, refused, nothing changes
    before = counts(session)
    answer = his.send("2405", {"data": {"mdtrt_id": mdtrt_id}})
    assert answer["infcode"] == -1 and "not discharged" in answer["err_msg"]
    # a discharge before the admission is refused
    answer = his.send(
        "2402", {"dscginfo": {"mdtrt_id": mdtrt_id, "endtime": "2026-04-30 10:00:00"}}
    )
    assert answer["infcode"] == -1 and "before the admission" in answer["err_msg"]
    assert counts(session) == before
    his.ok("2402", {"dscginfo": {"mdtrt_id": mdtrt_id, "endtime": "2026-05-09 10:00:00"}})
    settled = his.ok("2304", settle_input(patient, mdtrt_id))["setlinfo"]
    check_stay_figures(settled)
    assert session.get(SettlementRecord, int(settled["setl_id"])).claim_date == date(2026, 5, 9)


def test_admission_cancelled_and_fee_lines_withdrawn(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    out = his.ok(
        "2302", {"data": [{"feedetl_sn": "L3", "mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}]}
    )
    assert out["result"] == [{"feedetl_sn": "L3"}]
    # without L3 (class C, 200.00): total 2,160.00; the funds' figures stay (L3 was self-paid)
    pre = his.ok("2303", settle_input(patient, mdtrt_id, total="2160.00"))["setlinfo"]
    assert pre["medfee_sumamt"] == D("2160.00") and pre["fulamt_ownpay_amt"] == D("0.00")
    assert pre["fund_pay_sumamt"] == D("1300.00") and pre["psn_part_amt"] == D("860.00")
    out = his.ok("2302", {"data": {"feedetl_sn": "0000", "mdtrt_id": mdtrt_id}})
    assert sorted(line["feedetl_sn"] for line in out["result"]) == ["L1", "L2", "L4"]
    assert {f.state for f in session.query(FeeLine).all()} == {"withdrawn"}
    his.ok("2404", {"data": {"mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}})
    session.expire_all()
    assert session.get(Encounter, int(mdtrt_id)).state == "cancelled"
    # admitted again afterwards
    assert admit(his, patient, ref="ZY2026002") != mdtrt_id


def test_outpatient_registration_cancelled_and_lines_withdrawn(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = register(his, patient)
    outpatient_fees(his, patient, mdtrt_id)
    out = his.ok(
        "2205", {"data": {"chrg_bchno": "0000", "mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}}
    )
    assert len(out["result"]) == 3
    before = counts(session)
    answer = his.send("2205", {"data": {"chrg_bchno": "C1", "mdtrt_id": mdtrt_id}})
    assert answer["infcode"] == -1 and "chrg_bchno" in answer["err_msg"]
    answer = his.send("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": "99999"}})
    assert answer["infcode"] == -1 and "psn_no" in answer["err_msg"]
    assert counts(session) == before
    his.ok("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": str(patient.id)}})
    session.expire_all()
    assert session.get(Encounter, int(mdtrt_id)).state == "cancelled"


def test_the_encounters_service_functions(
    his: His, patient: Person, session: Session, world
) -> None:
    mdtrt_id = int(admit(his, patient))
    hospital = world.hospital.id
    with pytest.raises(ValidationFailed, match="20 characters"):
        encounters.record_visit(
            session, encounter_id=mdtrt_id, institution_id=hospital, diagnosis="X" * 21
        )
    encounters.record_visit(
        session, encounter_id=mdtrt_id, institution_id=hospital, diagnosis="K35.8"
    )
    assert session.get(Encounter, mdtrt_id).diagnosis == "K35.8"
    with pytest.raises(ValidationFailed, match="in the future"):
        encounters.record_discharge(
            session,
            encounter_id=mdtrt_id,
            institution_id=hospital,
            on=date(2026, 5, 20),
            today=date(2026, 5, 12),
        )
    encounters.record_discharge(
        session,
        encounter_id=mdtrt_id,
        institution_id=hospital,
        on=date(2026, 5, 11),
        today=date(2026, 5, 12),
    )
    encounters.cancel_encounter(
        session, encounter_id=mdtrt_id, institution_id=hospital, reason="test"
    )
    with pytest.raises(InvalidTransition):
        encounters.cancel_discharge(session, encounter_id=mdtrt_id, institution_id=hospital)
    with pytest.raises(InvalidTransition):
        encounters.record_visit(
            session, encounter_id=mdtrt_id, institution_id=hospital, diagnosis="A00"
        )
