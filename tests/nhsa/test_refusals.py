"""Messages that are malformed, of an unknown infno, for another institution, out of order,
or badly signed get infcode -1 with a clear err_msg, HTTP 200, and change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import World
from tests.nhsa.conftest import NOW, PASS_ID, SECRET, His, counts, signature
from tests.nhsa.test_inpatient_sequence import admit, settle_input, upload
from yibao.config import Settings
from yibao.nhsa.credentials import issue_credential, revoke_credential
from yibao.nhsa.envelope import dumps
from yibao.registry.models import Person


def refused(his: His, body: bytes | str, headers: dict[str, str] | None = None) -> str:
    answer, text = his.post(body, headers)
    assert answer["infcode"] == -1, text
    assert isinstance(answer["infcode"], int)
    assert answer["output"] is None
    assert len(answer["inf_refmsgid"]) == 30
    assert answer["err_msg"]
    return str(answer["err_msg"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        ('{"infno": "2304"}', "fixmedins_code: is required"),
        ('{"infno": "23A4", "msgid": "x", "fixmedins_code": "H460200001"}', "infno"),
    ],
)
def test_a_malformed_message_changes_nothing(
    his: His, patient: Person, session: Session, body: Any, reason: str
) -> None:
    before = counts(session)
    assert reason in refused(his, body)
    assert counts(session) == before


def test_a_bad_msgid_and_a_bad_area_are_named(his: His, patient: Person, session: Session) -> None:
    before = counts(session)
    message = his.envelope(
        "1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "BJ-T-0041"}}, msgid="M-1"
    )
    assert "msgid" in refused(his, dumps(message))
    message = his.envelope("1101", {}, insuplc_admdvs="11000X")
    assert "insuplc_admdvs" in refused(his, dumps(message))
    assert counts(session) == before


def test_an_unknown_infno_changes_nothing(his: His, patient: Person, session: Session) -> None:
    before = counts(session)
    reason = refused(his, dumps(his.envelope("9999", {})))
    assert "infno 9999" in reason and "2304" in reason
    assert counts(session) == before


def test_another_institutions_code_is_refused(
    his: His, patient: Person, session: Session, world: World
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    before = counts(session)
    other = world.other_hospital.code
    message = his.envelope(
        "2304",
        settle_input(patient, mdtrt_id),
        fixmedins_code=other,
        msgid=f"{other}202605120930009001",
    )
    reason = refused(his, dumps(message))
    assert f"fixmedins_code '{other}'" in reason and PASS_ID in reason
    assert counts(session) == before


def test_another_institutions_visit_is_not_found(
    his: His, patient: Person, session: Session, world: World, settings: Settings, client: Any
) -> None:
    mdtrt_id = admit(his, patient)
    upload(his, patient, mdtrt_id)
    issue_credential(
        session,
        institution_id=world.other_hospital.id,
        secret_key=settings.secret_key,
        pass_id="other-1",
        secret=SECRET,
        actor="test",
    )
    session.commit()
    baoding = His(client=client, code=world.other_hospital.code, pass_id="other-1")
    before = counts(session)
    answer = baoding.send("2304", settle_input(patient, mdtrt_id))
    assert answer["infcode"] == -1 and "encounter.not_found" in answer["err_msg"]
    answer = baoding.send("5203", {"data": {"setl_id": "1"}})
    assert answer["infcode"] == -1 and "not found" in answer["err_msg"]
    assert counts(session) == before


def test_out_of_order_messages_change_nothing(his: His, patient: Person, session: Session) -> None:
    mdtrt_id = admit(his, patient)
    before = counts(session)
    # settle before any fee detail
    answer = his.send("2304", settle_input(patient, mdtrt_id))
    assert answer["infcode"] == -1 and "settlement.no_lines" in answer["err_msg"]
    # cancel a settlement that does not exist
    answer = his.send("2305", {"data": {"setl_id": "999", "mdtrt_id": mdtrt_id}})
    assert answer["infcode"] == -1 and "not found" in answer["err_msg"]
    # an inpatient visit settled as an outpatient one
    answer = his.send("2207", {"data": {"mdtrt_id": mdtrt_id}})
    assert answer["infcode"] == -1 and "inpatient" in answer["err_msg"]
    # a second admission while admitted
    answer = his.send(
        "2401",
        {
            "mdtrtinfo": {
                "mdtrt_cert_type": "03",
                "mdtrt_cert_no": patient.card_number,
                "begntime": "2026-05-02 08:00:00",
                "ipt_no": "ZY2",
            }
        },
    )
    assert answer["infcode"] == -1 and "already admitted" in answer["err_msg"]
    assert counts(session) == before
    # the HIS's total differs from the uploaded details: refused, the settlement rolled back
    upload(his, patient, mdtrt_id)
    before = counts(session)
    answer = his.send("2304", settle_input(patient, mdtrt_id, total="2000.00"))
    assert (
        answer["infcode"] == -1
        and "medfee_sumamt" in answer["err_msg"]
        and "2360.00" in answer["err_msg"]
    )
    assert counts(session) == before
    # settled, then settled again: the visit is settled already
    assert his.send("2304", settle_input(patient, mdtrt_id))["infcode"] == 0
    before = counts(session)
    answer = his.send("2304", settle_input(patient, mdtrt_id))
    assert answer["infcode"] == -1 and "settled" in answer["err_msg"]
    assert counts(session) == before


def test_a_fee_line_with_an_unknown_code_or_a_bad_amount(
    his: His, patient: Person, session: Session
) -> None:
    mdtrt_id = admit(his, patient)
    before = counts(session)
    answer = his.send(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "med_list_codg": "NOPE",
                    "cnt": 1,
                    "pric": 1,
                }
            ]
        },
    )
    assert answer["infcode"] == -1 and "catalog.unknown_code" in answer["err_msg"]
    answer = his.send(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "med_list_codg": "X001",
                    "cnt": "abc",
                    "pric": 1,
                }
            ]
        },
    )
    assert answer["infcode"] == -1 and "input.feedetail[0].cnt" in answer["err_msg"]
    answer = his.send(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "med_list_codg": "X001",
                    "cnt": 1,
                    "pric": "1.000001",
                }
            ]
        },
    )
    assert (
        answer["infcode"] == -1
        and "pric" in answer["err_msg"]
        and "4 decimals" in answer["err_msg"]
    )
    answer = his.send(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "med_list_codg": "X001",
                    "cnt": 2,
                    "pric": 3,
                    "det_item_fee_sumamt": "7.00",
                }
            ]
        },
    )
    assert (
        answer["infcode"] == -1
        and "det_item_fee_sumamt" in answer["err_msg"]
        and "6.00" in answer["err_msg"]
    )
    assert counts(session) == before


def _signed(his: His, **over: str) -> dict[str, str]:
    headers = his.headers()
    headers.update(over)
    return headers


def test_the_gateway_refuses_what_the_platform_refuses(
    his: His, patient: Person, session: Session, settings: Settings
) -> None:
    body = dumps(
        his.envelope("1101", {"data": {"mdtrt_cert_type": "03", "mdtrt_cert_no": "BJ-T-0041"}})
    )
    before = counts(session)
    # a wrong signature
    assert "x-tif-signature does not match" in refused(
        his, body, _signed(his, **{"x-tif-signature": "0" * 64})
    )
    # signed with another secret
    stamp = str(int(NOW.timestamp()))
    assert "does not match" in refused(
        his,
        body,
        _signed(
            his,
            **{
                "x-tif-nonce": "n1",
                "x-tif-signature": signature(stamp, "wrong-secret-000000", "n1"),
            },
        ),
    )
    # stale timestamp (10 minutes old)
    old = str(int(NOW.timestamp()) - 600)
    assert "stale" in refused(
        his,
        body,
        _signed(
            his,
            **{
                "x-tif-timestamp": old,
                "x-tif-nonce": "n2",
                "x-tif-signature": signature(old, SECRET, "n2"),
            },
        ),
    )
    # missing headers, unknown pass id
    assert "missing header(s) x-tif-signature" in refused(
        his, body, {k: v for k, v in his.headers().items() if k != "x-tif-signature"}
    )
    assert "unknown or revoked" in refused(his, body, _signed(his, **{"x-tif-paasid": "nobody"}))
    # a nonce used once is refused the second time
    headers = his.headers(nonce="once-only")
    ok, _ = his.post(body, headers)
    assert ok["infcode"] == 0
    assert "already used" in refused(his, body, headers)
    assert counts(session) == before
    # a revoked credential
    revoke_credential(session, pass_id=PASS_ID, actor="test")
    session.commit()
    before = counts(session)
    assert "unknown or revoked" in refused(his, body)
    assert counts(session) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json;charset=utf-8",
        "text/plain",
        "TEXT/PLAIN; charset=UTF-8",
    ],
)
def test_content_types_real_clients_send(his: His, patient: Person, content_type: str) -> None:
    headers = his.headers()
    headers["content-type"] = content_type
    body = dumps(his.envelope("9001", {"signIn": {"opter_no": "1"}}))
    answer, _ = his.post(body.encode("utf-8"), headers)
    assert answer["infcode"] == 0


def test_another_content_type_is_refused(his: His, patient: Person) -> None:
    headers = his.headers()
    headers["content-type"] = "application/xml"
    assert "Content-Type" in refused(his, dumps(his.envelope("9001", {})), headers)


def test_the_route_is_not_in_the_openapi(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any("callService" in path for path in paths)
    assert json.dumps(paths).count("/api/v1") > 0


def test_a_refused_messages_nonce_stays_used(his: His, patient: Person) -> None:
    headers = his.headers(nonce="refused-once")
    assert "infno 9999" in refused(his, dumps(his.envelope("9999", {})), headers)
    body = dumps(his.envelope("9001", {"signIn": {"opter_no": "1"}}))
    assert "already used" in refused(his, body, headers)
