"""Unit tests (no database): reading envelopes tolerantly, answers' formats, the
signature, the secrets' encryption, and the pure comparison of 3202 entries."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from yibao.nhsa.credentials import decrypt_secret, encrypt_secret
from yibao.nhsa.envelope import (
    Fields,
    MessageError,
    answer_text,
    content_type_accepted,
    dumps,
    normalised_input,
    parse_envelope,
    read_json,
    ref_msg_id,
    stamp_ms,
)
from yibao.nhsa.gateway import signature
from yibao.reconciliation.compare import Entry, Totals, reconcile_entries

CODE = "H46020200001"


def message(**over: object) -> dict:
    base = {
        "infno": "2304",
        "msgid": f"{CODE}202605120930000001",
        "fixmedins_code": CODE,
        "input": {},
    }
    base.update(over)
    return base


def test_amounts_as_numbers_or_decimal_strings() -> None:
    data = read_json(b'{"a": 3, "b": "3.000000", "c": 3.10, "d": " 12.5 ", "e": null, "f": ""}')
    fields = Fields(data, "input")
    assert fields.amount("a") == D("3.00")
    assert fields.amount("b") == D("3.00")
    assert fields.amount("c") == D("3.10") and isinstance(data["c"], D)  # never a float
    assert fields.amount("d") == D("12.50")
    assert fields.amount("e") is None and fields.amount("f") is None and fields.amount("zz") is None
    with pytest.raises(MessageError, match=r"input.x: is required"):
        fields.amount("x", required=True)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not a number"),
        ("-1", "negative"),
        ("1.001", "more than 2 decimals"),
        ("NaN", "not a number"),
        (True, "not a number"),
    ],
)
def test_bad_amounts_are_named(value: object, reason: str) -> None:
    with pytest.raises(MessageError, match=reason) as caught:
        Fields({"medfee_sumamt": value}, "input.data").amount("medfee_sumamt")
    assert caught.value.where == "input.data.medfee_sumamt"


def test_times_in_the_platforms_formats() -> None:
    fields = Fields(
        {"a": "2026-05-01 08:00:00", "b": "2026-05-01", "c": "20260501080000", "d": "01/05/2026"},
        "in",
    )
    assert fields.time("a") == datetime(2026, 5, 1, 8, 0, 0)
    assert fields.day("b") == fields.day("c") == datetime(2026, 5, 1).date()
    with pytest.raises(MessageError, match=r"in\.d: .01/05/2026. is not a time"):
        fields.time("d")


def test_objects_and_lists_of_one_are_accepted_either_way() -> None:
    fields = Fields({"data": [{"x": 1}], "feedetail": {"feedetl_sn": "1"}}, "input")
    assert fields.obj("data").text("x") == "1"
    assert [f.where for f in fields.items("feedetail")] == ["input.feedetail[0]"]
    with pytest.raises(MessageError, match=r"input\.none: is required"):
        fields.obj("none")


def test_the_envelope_is_checked() -> None:
    envelope = parse_envelope(
        message(mdtrtarea_admvs="460200", insuplc_admdvs="110000", inf_time="2026-05-12 09:30:00")
    )
    assert envelope.offsite and envelope.infno == "2304"
    assert not parse_envelope(message(mdtrtarea_admvs="460200", insuplc_admdvs="460200")).offsite
    assert parse_envelope(message(input='{"data": {"a": 1}}')).input.obj("data").text("a") == "1"
    for bad, where in [
        (message(msgid="X2026"), "msgid"),
        (message(msgid=f"{CODE}202613450930000001"), "msgid"),  # month 13
        (message(infno="23040"), "infno"),
        (message(insuplc_admdvs="1100"), "insuplc_admdvs"),
        (message(input=[1]), "input"),
    ]:
        with pytest.raises(MessageError, match=where):
            parse_envelope(bad)


def test_keys_in_any_order_absent_and_null_alike_make_one_request_hash() -> None:
    a = parse_envelope(message(input={"data": {"medfee_sumamt": "3.000000", "b": None, "c": ""}}))
    b = parse_envelope(message(input={"data": {"c": None, "medfee_sumamt": 3}}))
    c = parse_envelope(message(input={"data": {"medfee_sumamt": "3.01"}}))
    assert normalised_input(a) == normalised_input(b) != normalised_input(c)


def test_answer_formats() -> None:
    moment = datetime(2026, 5, 12, 1, 30, 5, 123456, tzinfo=UTC)
    assert stamp_ms(moment) == "20260512093005123"  # China time, milliseconds
    ref = ref_msg_id("460200", moment, serial=42)
    assert ref == "460200202605120930050000000042" and len(ref) == 30
    assert len(ref_msg_id(None, moment)) == 30
    text = answer_text(
        infcode=0,
        refmsgid=ref,
        received=moment,
        responded=moment,
        output_text=dumps({"x": D("12.30"), "n": None, "s": "三亚"}),
    )
    answer = json.loads(text)
    assert answer["infcode"] == 0 and isinstance(answer["infcode"], int)
    assert answer["refmsg_time"] == answer["respond_time"] == "20260512093005123"
    assert '"x":12.30' in text and '"s":"三亚"' in text  # a number with two decimals, never a float
    with pytest.raises(TypeError):
        dumps({"f": 1.5})


def test_content_types() -> None:
    for accepted in ("application/json", "application/json;charset=utf-8", "text/plain", None, ""):
        assert content_type_accepted(accepted)
    assert not content_type_accepted("application/xml")


def test_the_signature_of_the_platform() -> None:
    expected = hashlib.sha256(b"1715477400secretnonce1715477400").hexdigest()
    assert signature(timestamp="1715477400", secret="secret", nonce="nonce") == expected
    assert expected == expected.lower() and len(expected) == 64


def test_secrets_are_encrypted_at_rest() -> None:
    stored = encrypt_secret("my-secret-value-123", secret_key="platform-key")
    assert "my-secret" not in stored
    assert decrypt_secret(stored, secret_key="platform-key") == "my-secret-value-123"
    assert decrypt_secret(stored, secret_key="another-key") is None
    assert encrypt_secret("my-secret-value-123", secret_key="platform-key") != stored  # fresh nonce


def test_entries_are_compared_field_by_field() -> None:
    ours = [Entry("1", "7", "5", D("10.00"), D("6.00"), D("4.00"), False)]
    same = reconcile_entries(
        ours, theirs=Totals(1, D("10.00"), D("6.00")), account_pay=D("4.00"), details=list(ours)
    )
    assert same.status == "matched"
    theirs = [Entry("1", "8", "5", D("10.00"), D("6.00"), D("3.00"), True)]
    outcome = reconcile_entries(
        ours, theirs=Totals(1, D("10.00"), D("6.00")), account_pay=D("3.00"), details=theirs
    )
    assert [(d.kind, d.field, d.ours, d.theirs) for d in outcome.differences] == [
        ("totals_differ", "account_pay", "4.00", "3.00"),
        ("amount_differs", "encounter", "7", "8"),
        ("amount_differs", "account_pay", "4.00", "3.00"),
        ("amount_differs", "reversal", "False", "True"),
    ]
