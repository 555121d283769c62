"""Resident identity numbers (居民身份证号码, GB 11643-1999).

Eighteen characters: a six-digit address code (GB/T 2260), the birth date ``YYYYMMDD``,
a three-digit sequence (odd for men, even for women) and a check character computed
modulo 11. A full number is personal data: listings and logs show it masked.
Standard library only.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from yibao.errors import ValidationFailed

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first seventeen digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_identity_number(value: str) -> str:
    """The normalised number (upper-case X), or ``ValidationFailed`` saying why not.

    The message never repeats the number in full.
    """
    number = value.strip().upper()
    if not _SHAPE.match(number):
        raise ValidationFailed(
            "identity number must be 17 digits followed by a digit or X",
            code="identity.malformed",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "identity number holds an impossible birth date", code="identity.birth_date"
        ) from None
    if born.year < 1900:
        raise ValidationFailed(
            "identity number holds an impossible birth date", code="identity.birth_date"
        )
    if check_character(number[:17]) != number[17]:
        raise ValidationFailed(
            "identity number check character does not match (GB 11643)",
            code="identity.check_digit",
        )
    return number


def mask_identity_number(value: str) -> str:
    """Address code and last four kept, the rest starred: ``110105********0014``."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def birth_date_of(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_of(number: str) -> str:
    """``M`` when the sequence's last digit is odd, ``F`` when even."""
    return "M" if int(number[16]) % 2 else "F"


def make_identity_number(region: str, born: date, sequence: int) -> str:
    """A valid number for test and demo data (``sequence`` 0-999; odd = male)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


_ANYWHERE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}\d{3})([\dXx])(?![0-9A-Za-z])")


def mask_identity_numbers_in(text: str) -> str:
    """Every 18-character identity number in ``text`` masked (address code and last four kept)."""
    return _ANYWHERE.sub(lambda m: m.group(1) + "*" * 8 + m.group(2)[8:] + m.group(3), text)


_MASKING_INSTALLED = False


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_identity_numbers_in(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_masked(item) for item in value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def install_log_masking() -> None:
    """Mask identity numbers in every log record the process creates, whatever the logger.

    Wraps the log record factory once, so a number that reaches a log — in a URL, an error
    or a statement's parameters — is never written in full.
    """
    global _MASKING_INSTALLED
    if _MASKING_INSTALLED:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # mask the parts, keeping their shape: formatters such as uvicorn's access log
        # unpack ``record.args`` themselves
        if isinstance(record.msg, str):
            record.msg = mask_identity_numbers_in(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _MASKING_INSTALLED = True
