"""Resident identity numbers (居民身份证号码, GB 11643-1999).

Eighteen characters: a six-digit address code (GB/T 2260), the birth date ``YYYYMMDD``,
a three-digit sequence (odd for men, even for women) and a check character computed
modulo 11. A full number is personal data: listings and logs show it masked, and free
text is searched for numbers however they are written (:func:`mask_identity_numbers`).
An :class:`AnswerScope` carries, for one answer, the numbers the service layer allowed in
full (``yibao.registry.access.identity_number_for``); the faces mask all others
(docs/access.md). Standard library only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
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


# --- numbers inside free text ----------------------------------------------------------
#
# Free text (reasons, notes, names, log lines, URLs, whole answers) is searched for numbers
# written in any of the ways a person or a browser writes them: plain, with a lowercase x,
# in full-width digits (``１１０１…``), percent-encoded (``%31%31…``, or plain digits right
# after an encoded character: ``%E8%AF%81110105…``, the issue's ``?name=身份证…``), and
# spaced or dashed (``110105 19560412 0317``, ``110105-1956-0412-0317``, ``+`` in a query
# string). The birth date is starred where it stands; the rest keeps its own spelling.
#
# An unbroken run of 17 digits and a digit or X is masked whatever its check character (a
# mistyped number is still personal data) when it holds a province's address code and a
# real birth date, so that hashes and ids that happen to hold 18 digits stay whole. A
# number broken by separators is masked only when it is a valid number (check character
# too), so that phone numbers, dates and amounts stay readable.

_D = "(?:[0-9\uff10-\uff19]|%3[0-9])"  # a digit: ASCII, full-width, percent-encoded
_LAST = "(?:[0-9Xx\uff10-\uff19\uff38\uff58]|%3[0-9]|%58|%78)"  # the check character
_SEP = "(?:[ +\\-\u3000\u00a0]|%20|%2[Dd])"
# not inside a percent-encoded byte (the ``0`` of ``%A0``), and not right after a digit,
# unless that digit ends a percent-encoded byte (``%81`` of 证)
_START = (
    "(?<!%)(?<!%[0-9A-Fa-f])(?:(?<![0-9\uff10-\uff19])|(?<=%[0-9A-Fa-f][0-9A-Fa-f])(?<!%3[0-9]))"
)
_END = "(?![0-9\uff10-\uff19])(?!%3[0-9])"
_CANDIDATE = re.compile(
    f"(?=[0-9\uff10-\uff19%]){_START}{_D}(?:{_SEP}?{_D}){{16}}{_SEP}?{_LAST}{_END}"
)
# where a number could be at all (a fast first pass over long texts: answers, pages)
_STRETCH = re.compile("[0-9\uff10-\uff19%A-Fa-fXx\uff38\uff58 +\\-\u3000\u00a0]{18,}")
_TOKEN = re.compile("%[0-9A-Fa-f]{2}|.", re.DOTALL)
_PLAIN = {f"%3{d}": str(d) for d in range(10)} | {"%58": "X", "%78": "X", "%20": " "}
_PLAIN |= {chr(0xFF10 + d): str(d) for d in range(10)} | {"\uff38": "X", "\uff58": "X"}
_PLAIN |= {"%2D": "-", "%2d": "-", "x": "X"}


def _plausible(number: str) -> bool:
    """An unbroken run that could be a number, its check character aside: an address code
    of a province (11-82) and a real birth date. Hashes and ids that happen to hold 18
    digits in a row almost never pass."""
    if number[0] not in "12345678":
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100


def _valid(number: str) -> bool:
    try:
        validate_identity_number(number)
    except ValidationFailed:
        return False
    return True


def mask_identity_numbers(text: str, *, keep: Collection[str] = ()) -> str:
    """Every identity number in ``text`` masked: address code and last four kept, the birth
    date starred (``110105********0317``), also when it is percent-encoded, ``+``-spaced,
    written in full-width digits, spaced or dashed, or ends in a lowercase x. Numbers in
    ``keep`` (upper-case) stay whole: those the reader may see (:func:`answer_scope`).

    The one function every face applies to free text (log lines, answers, pages).
    """
    if len(text) < 18:
        return text
    pieces: list[str] = []
    at = 0
    for stretch in _STRETCH.finditer(text):
        at = _mask_stretch(text, stretch.start(), stretch.end(), keep, pieces, at)
    if not pieces:
        return text
    pieces.append(text[at:])
    return "".join(pieces)


def _mask_stretch(
    text: str, pos: int, end: int, keep: Collection[str], pieces: list[str], at: int
) -> int:
    """Mask the numbers in ``text[pos:end]`` onto ``pieces`` (``text[at:]`` not yet
    copied); returns the new ``at``."""
    while (m := _CANDIDATE.search(text, pos, end)) is not None:
        tokens = _TOKEN.findall(m.group())
        plain = [_PLAIN.get(token, token) for token in tokens]
        digits = [k for k, ch in enumerate(plain) if ch.isascii() and ch.isalnum()]
        number = "".join(plain[k] for k in digits)
        broken = len(digits) != len(tokens)
        if not (_valid(number) if broken else _plausible(number)):
            pos = m.start() + 1  # no number here: look again from the next place
            continue
        pos = m.end()
        if number in keep:
            continue
        for k in digits[6:14]:
            tokens[k] = "*"
        pieces.append(text[at : m.start()])
        pieces.append("".join(tokens))
        at = m.end()
    return at


class _Gathered(set[str]):
    """A ``keep`` that keeps every number and remembers it (see :func:`identity_numbers_in`)."""

    def __contains__(self, number: object) -> bool:
        if isinstance(number, str):
            self.add(number)
        return True


def identity_numbers_in(text: str) -> set[str]:
    """The identity numbers written in ``text`` (upper-case, plain digits), in any of the
    spellings :func:`mask_identity_numbers` knows."""
    found = _Gathered()
    mask_identity_numbers(text, keep=found)
    return set(found)


# the former name, kept for the callers that use it
mask_identity_numbers_in = mask_identity_numbers


# --- what one answer may show in full ----------------------------------------------------


@dataclass
class AnswerScope:
    """One answer being made (an HTTP request, a command): why it is made (the route or the
    command, recorded with every full number read) and the full numbers the service layer
    decided its reader may see (:func:`yibao.registry.access.identity_number_for`). The
    face masks every other number in the answer."""

    why: str
    shown: set[str] = field(default_factory=set)


_ANSWER: ContextVar[AnswerScope | None] = ContextVar("yibao_identity_answer", default=None)


@contextmanager
def answer_scope(why: str) -> Iterator[AnswerScope]:
    """Open the scope of one answer. Threads started inside with a copy of the context
    (FastAPI's sync routes) share the same :class:`AnswerScope` object."""
    scope = AnswerScope(why=why)
    token = _ANSWER.set(scope)
    try:
        yield scope
    finally:
        _ANSWER.reset(token)


def current_answer() -> AnswerScope | None:
    """The answer being made, if a face opened one."""
    return _ANSWER.get()


# --- log records ------------------------------------------------------------------------

_MASKING_INSTALLED = False

# the attributes every LogRecord has; anything else on a record came from ``extra=``
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_identity_numbers(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_masked(item) for item in value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def _plain_args(args: Any) -> bool:
    values = args.values() if isinstance(args, dict) else args
    return all(value is None or isinstance(value, (str, int, float)) for value in values)


def mask_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with identity numbers masked in its message, arguments, traceback, stack
    and ``extra=`` fields; the arguments keep their shape (formatters such as uvicorn's
    access log unpack ``record.args`` themselves). Idempotent."""
    if isinstance(record.msg, str):
        record.msg = mask_identity_numbers(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_masked(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _masked(value) for key, value in record.args.items()}
    if record.args and not _plain_args(record.args):
        # an argument only its own ``repr``/``str`` can show (SQLAlchemy's statement
        # parameters): the message is formatted here, and kept whole only when it is clean
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: let the handler say so
            pass
        else:
            masked = mask_identity_numbers(message)
            if masked != message:
                record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        # formatted once here, masked; formatters reuse ``exc_text`` when it is set
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_identity_numbers(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_identity_numbers(record.stack_info)
    for key, value in vars(record).items():
        if key not in _RECORD_FIELDS and isinstance(value, (str, tuple, list, dict)):
            setattr(record, key, _masked(value))
    return record


class IdentityMaskingFilter(logging.Filter):
    """A filter for handlers and formatters of any shape (plain text, JSON lines): masks the
    record in place and lets it through. The record factory installed by
    :func:`install_log_masking` already masks message and arguments when a record is made;
    this filter also covers ``extra=`` fields, which are set after the factory ran."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_log_record(record)
        return True


def install_log_masking() -> None:
    """Mask identity numbers in every log record the process creates, whatever the logger.

    Wraps the log record factory once, so a number that reaches a log — in a URL (also
    percent-encoded), an error, a traceback or a statement's parameters — is never written
    in full.
    """
    global _MASKING_INSTALLED
    if _MASKING_INSTALLED:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_log_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _MASKING_INSTALLED = True
