"""``parse_decimal`` reads plain decimal text without taking the number apart; whatever the
text, it accepts and refuses exactly what the general reading does (the reading below, as it
was before the shortcut)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hypothesis import example, given
from hypothesis import strategies as st

from yibao.money import parse_decimal


def general(value: str, max_places: int | None) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not finite")
    if max_places is not None:
        exponent = number.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and -exponent > max_places
            and number != number.quantize(Decimal(1).scaleb(-max_places))
        ):
            raise ValueError("too many decimals")
    return number


def outcome(func: object, value: str, places: int | None) -> tuple[str, str]:
    try:
        number = func(value, places)  # type: ignore[operator]
    except ValueError:
        return ("refused", "")
    return ("read", f"{number!r}")


TEXT = st.one_of(
    st.from_regex(r"\A\s?[0-9]{1,6}(\.[0-9]{0,6})?\s?\Z"),
    st.from_regex(r"\A[-+]?[0-9٠-٩]{0,3}[.eE]?[0-9]{0,3}\Z"),
    st.text(max_size=8),
)


@given(TEXT, st.sampled_from([None, 0, 2, 4]))
@example("1.500", 2)
@example("12.", 0)
@example("0.0001", 4)
@example("0.00001", 4)
@example(" 7 ", 2)
@example("١٢", 2)
def test_the_shortcut_reads_as_the_general_reading(value: str, places: int | None) -> None:
    ours = outcome(lambda v, p: parse_decimal(v, max_places=p), value, places)
    assert ours == outcome(general, value, places)
