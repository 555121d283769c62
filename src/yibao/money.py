"""Money values.

Money is :class:`~decimal.Decimal` yuan in code and whole fen (integers) in the database;
binary floats never touch it. Rounding is half up to one fen, and only where the
settlement contract says (``round2``). Quantities and unit prices may carry 4 decimals
(contract): they are stored as integers of 1/10,000 (``*_e4``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
_HUNDRED = Decimal(100)
E4 = Decimal(10_000)


def round2(value: Decimal) -> Decimal:
    """Round half up to 0.01 yuan (one fen)."""
    return value.quantize(FEN, ROUND_HALF_UP)  # positional: half the cost of rounding=


def to_fen(value: Decimal) -> int:
    """Whole fen of an amount that is already a multiple of one fen."""
    fen = value * _HUNDRED
    if fen != fen.to_integral_value():
        raise ValueError(f"{value} is not a whole number of fen")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    """Yuan with two decimals from whole fen."""
    return (Decimal(fen) / _HUNDRED).quantize(FEN)


def to_e4(value: Decimal) -> int:
    """A quantity or unit price (up to 4 decimals) as an integer of 1/10,000."""
    scaled = value * E4
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 4 decimals")
    return int(scaled)


def from_e4(value: int) -> Decimal:
    """A quantity or unit price from its integer of 1/10,000."""
    return Decimal(value) / E4


def fmt(value: Decimal) -> str:
    """The contract's text form of money: yuan with exactly two decimals."""
    return str(value.quantize(FEN))


# Plain decimal text, ASCII digits only: "12", "12.5", "0.0001" (Decimal reads more forms)
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.([0-9]*))?")


def parse_decimal(value: object, *, max_places: int | None = None) -> Decimal:
    """Read a number from its text (or an int/Decimal), never through a binary float.

    Raises ``ValueError`` with a short reason on anything else.
    """
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, float):
        raise ValueError("binary floats are not accepted; write the number as text")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        plain = _PLAIN_NUMBER.fullmatch(text)
        if plain is not None:
            # the common case, digits with an optional fraction: finite, and its places are
            # the fraction's length (no need to take the number apart)
            fraction = plain.group(1)
            if max_places is None or fraction is None or len(fraction) <= max_places:
                return Decimal(text)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if max_places is not None:
        exponent = number.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and -exponent > max_places
            and number != number.quantize(Decimal(1).scaleb(-max_places))
        ):
            raise ValueError(f"{value!r} has more than {max_places} decimals")
    return number
