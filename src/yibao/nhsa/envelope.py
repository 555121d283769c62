"""The national interface's envelope: reading it as real HIS clients send it, and writing
the answer as the platform does (docs/nhsa.md).

Tolerance, as the platform is tolerant: keys in any order; an absent key, ``null`` and an
empty string alike; amounts as JSON numbers or decimal strings (``"3.000000"``), read from
their text, never through a binary float; times as ``yyyy-MM-dd HH:mm:ss`` (also
``yyyy-MM-dd`` or ``yyyyMMddHHmmss``). Every refusal names the field (``input.feedetail[2].cnt``)
and the reason. Answers: ``infcode`` a number (0 success, -1 failure), ``refmsg_time`` and
``respond_time`` as ``yyyyMMddHHmmssSSS`` in China time, ``inf_refmsgid`` 30 characters
(area code 6 + time 14 + serial 10), amounts as JSON numbers with two decimals.

Pure apart from the clock it is given: the standard library only.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao.errors import YibaoError

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
FEN = Decimal("0.01")
E4 = Decimal("0.0001")
MAX_BODY = 8 * 1024 * 1024
ACCEPTED_TYPES = ("application/json", "text/plain")

_AREA = re.compile(r"^\d{6}$")
_TIME14 = "%Y%m%d%H%M%S"


class MessageError(YibaoError):
    """A message that cannot be read: the field and the reason. Answered with infcode -1."""

    code = "nhsa.invalid"
    title = "Invalid message"

    def __init__(self, where: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{where}: {reason}" if where else reason, code=code)
        self.where = where


# --- reading ----------------------------------------------------------------------------


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Fields:
    """One object of a message, read field by field with its place for error messages."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def _at(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def has(self, name: str) -> bool:
        return not _absent(self.data.get(name))

    def raw(self, name: str) -> Any:
        value = self.data.get(name)
        return None if _absent(value) else value

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise MessageError(self._at(name), "is required")
            return None
        if isinstance(value, bool | dict | list):
            raise MessageError(self._at(name), "must be text")
        text = str(value).strip()  # a number where text is expected is read as its text
        if len(text) > max_length:
            raise MessageError(self._at(name), f"has more than {max_length} characters")
        return text

    def need(self, name: str, *, max_length: int = 200) -> str:
        value = self.text(name, required=True, max_length=max_length)
        assert value is not None
        return value

    def number(self, name: str, *, places: Decimal, required: bool = False) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise MessageError(self._at(name), "is required")
            return None
        if isinstance(value, bool | dict | list | float):
            raise MessageError(self._at(name), f"{value!r} is not a number")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            raise MessageError(self._at(name), f"{value!r} is not a number") from None
        if not number.is_finite():
            raise MessageError(self._at(name), f"{value!r} is not a number")
        if number < 0:
            raise MessageError(self._at(name), f"{value} is negative")
        if number != number.quantize(places):
            decimals = 2 if places == FEN else 4
            raise MessageError(self._at(name), f"{value} has more than {decimals} decimals")
        if number > Decimal("1E12"):
            raise MessageError(self._at(name), f"{value} is too large")
        return number.quantize(places)

    def amount(self, name: str, *, required: bool = False) -> Decimal | None:
        """Yuan, whole fen: ``12.3``, ``"12.30"``, ``"12.300000"`` alike."""
        return self.number(name, places=FEN, required=required)

    def time(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.text(name, required=required, max_length=30)
        if value is None:
            return None
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", _TIME14, "%Y-%m-%dT%H:%M:%S"):
            try:
                return datetime.strptime(value, pattern)
            except ValueError:
                continue
        raise MessageError(self._at(name), f"{value!r} is not a time (yyyy-MM-dd HH:mm:ss)")

    def day(self, name: str, *, required: bool = False) -> date | None:
        moment = self.time(name, required=required)
        return moment.date() if moment is not None else None

    def obj(self, name: str, *, required: bool = True) -> Fields:
        value = self.raw(name)
        if value is None:
            if required:
                raise MessageError(self._at(name), "is required")
            return Fields({}, self._at(name))
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            value = value[0]  # one object sent as a list of one
        if not isinstance(value, dict):
            raise MessageError(self._at(name), "must be an object")
        return Fields(value, self._at(name))

    def items(self, name: str, *, required: bool = True) -> list[Fields]:
        value = self.raw(name)
        if value is None:
            if required:
                raise MessageError(self._at(name), "is required (a list)")
            return []
        if isinstance(value, dict):
            value = [value]  # a list of one sent as the object
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise MessageError(self._at(name), "must be a list of objects")
        return [Fields(v, f"{self._at(name)}[{i}]") for i, v in enumerate(value)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The fields every message carries, and its ``input``."""

    infno: str
    msgid: str
    fixmedins_code: str
    fixmedins_name: str | None
    mdtrtarea_admvs: str | None
    insuplc_admdvs: str | None
    opter: str | None
    opter_name: str | None
    inf_time: datetime | None
    sign_no: str | None
    infver: str | None
    input: Fields

    @property
    def offsite(self) -> bool:
        """Off-site (异地) when the insured area differs from the treatment area."""
        return (
            self.insuplc_admdvs is not None
            and self.mdtrtarea_admvs is not None
            and self.insuplc_admdvs != self.mdtrtarea_admvs
        )


def content_type_accepted(content_type: str | None) -> bool:
    """``application/json`` (any charset), ``text/plain``, or none at all."""
    if not content_type or not content_type.strip():
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ACCEPTED_TYPES


def read_json(body: bytes) -> dict[str, Any]:
    """The message as a JSON object; numbers as decimals, never binary floats."""
    if len(body) > MAX_BODY:
        raise MessageError("", f"the message is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise MessageError("", f"the message is not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise MessageError("", "the message is empty")
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise MessageError(
            "", f"the message is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise MessageError("", "the message is nested too deeply") from None
    if not isinstance(data, dict):
        raise MessageError("", "the message must be a JSON object")
    return data


def parse_envelope(data: Mapping[str, Any]) -> Envelope:
    """The envelope's fields, checked: ``infno`` four digits, ``msgid`` the institution's
    code + ``yyyyMMddHHmmss`` + a 4-digit sequence, area codes of six digits."""
    top = Fields(data, "")
    infno = top.need("infno", max_length=10)
    if not re.fullmatch(r"\d{4}", infno):
        raise MessageError("infno", f"{infno!r} is not a transaction number (four digits)")
    code = top.need("fixmedins_code", max_length=40)
    msgid = top.need("msgid", max_length=60)
    tail = msgid[len(code) :] if msgid.startswith(code) else ""
    if not re.fullmatch(r"\d{18}", tail) or not _valid_time14(tail[:14]):
        raise MessageError(
            "msgid",
            f"{msgid!r} is not the institution's code {code} + yyyyMMddHHmmss + a 4-digit sequence",
        )
    areas: dict[str, str | None] = {}
    for name in ("mdtrtarea_admvs", "insuplc_admdvs"):
        value = top.text(name, max_length=12)
        if value is not None and not _AREA.match(value):
            raise MessageError(name, f"{value!r} is not a region code (six digits)")
        areas[name] = value
    raw_input = data.get("input")
    if _absent(raw_input):
        raw_input = {}
    if isinstance(raw_input, str):  # some clients send the input as JSON text
        try:
            raw_input = json.loads(raw_input, parse_float=Decimal)
        except json.JSONDecodeError:
            raise MessageError("input", "is text that is not JSON") from None
    if not isinstance(raw_input, dict):
        raise MessageError("input", "must be an object")
    return Envelope(
        infno=infno,
        msgid=msgid,
        fixmedins_code=code,
        fixmedins_name=top.text("fixmedins_name"),
        mdtrtarea_admvs=areas["mdtrtarea_admvs"],
        insuplc_admdvs=areas["insuplc_admdvs"],
        opter=top.text("opter", max_length=60),
        opter_name=top.text("opter_name", max_length=100),
        inf_time=top.time("inf_time"),
        sign_no=top.text("sign_no", max_length=60),
        infver=top.text("infver", max_length=20),
        input=Fields(raw_input, "input"),
    )


def _valid_time14(text: str) -> bool:
    try:
        datetime.strptime(text, _TIME14)
    except ValueError:
        return False
    return True


def normalised_input(envelope: Envelope) -> Any:
    """The input as a canonical value for the request hash: absent, null and empty alike
    (dropped), amounts by their value (``3``, ``"3.00"`` and ``3.000000`` are one)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items()) if not _absent(v)}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, bool):
            return value
        if isinstance(value, int | Decimal):
            return _canonical_number(Decimal(value))
        if isinstance(value, str):
            text = value.strip()
            try:
                number = Decimal(text)
            except InvalidOperation:
                return text
            return _canonical_number(number) if number.is_finite() else text
        return value

    return norm(envelope.input.data)


def _canonical_number(number: Decimal) -> str:
    return "#" + format(number.normalize(), "f") if number else "#0"


# --- answering --------------------------------------------------------------------------


def china_time(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)


def stamp_ms(moment: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` in China time."""
    local = china_time(moment)
    return local.strftime(_TIME14) + f"{local.microsecond // 1000:03d}"


def ref_msg_id(area: str | None, moment: datetime, serial: int | None = None) -> str:
    """``inf_refmsgid``: area code 6 + China time 14 + serial 10 = 30 characters."""
    area = area if area is not None and _AREA.match(area) else "000000"
    serial = secrets.randbelow(10**10) if serial is None else serial % 10**10
    return f"{area}{china_time(moment).strftime(_TIME14)}{serial:010d}"


_MARK = "\ue000yibao-decimal\ue000"  # stands for a decimal while the standard writer runs
_QUOTED_MARK = json.dumps(_MARK, ensure_ascii=False)
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_FLOAT_TEXT = re.compile(r"\d[eE]|\.")  # outside strings: only a float writes these


def dumps(value: Any) -> str:
    """Compact JSON with decimals written as JSON numbers (``1234.50``), never floats.

    The standard library's writer (C) does the work; each decimal goes in as a marker
    string and its text (``format(d, "f")``) replaces the marker after. The text is byte
    for byte that of :func:`_write`, which is used instead when a marker could be
    confused with a string of the value, and which names what cannot be written (a float,
    an object of another type). Keys are text, as every answer's are."""
    numbers: list[str] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            numbers.append(format(obj, "f"))
            return _MARK
        if isinstance(obj, Mapping):
            return dict(obj)
        raise TypeError(f"cannot write {type(obj).__name__} in an answer")

    try:
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default
        )
    except (TypeError, ValueError):
        return _write(value)  # raises TypeError, naming the type; or a non-text key
    if _FLOAT_TEXT.search(text) and _FLOAT_TEXT.search(_STRING.sub("", text)):
        return _write(value)  # a float: refused there
    if not numbers:
        return text
    parts = text.split(_QUOTED_MARK)
    if len(parts) != len(numbers) + 1:
        return _write(value)  # a string of the value looks like a marker
    out = [parts[0]]
    for number, part in zip(numbers, parts[1:], strict=True):
        out.append(number)
        out.append(part)
    return "".join(out)


def _write(value: Any) -> str:
    """The same JSON as :func:`dumps`, written by walking the value in Python."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_write(str(k))}:{_write(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_write(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} in an answer")


def answer_text(
    *,
    infcode: int,
    refmsgid: str,
    received: datetime,
    responded: datetime,
    output_text: str,
    err_msg: str | None = None,
    warn_msg: str | None = None,
) -> str:
    """The answer's JSON text; ``output_text`` goes in as it is (a replay is byte for byte
    the first answer's output)."""
    return (
        "{"
        f'"infcode":{infcode},'
        f'"inf_refmsgid":{dumps(refmsgid)},'
        f'"refmsg_time":{dumps(stamp_ms(received))},'
        f'"respond_time":{dumps(stamp_ms(responded))},'
        f'"err_msg":{dumps(err_msg)},'
        f'"warn_msg":{dumps(warn_msg)},'
        '"cainfo":null,"signtype":null,'
        f'"output":{output_text}'
        "}"
    )


def money(value: Decimal) -> Decimal:
    """An amount of an answer: two decimals."""
    return value.quantize(FEN)
