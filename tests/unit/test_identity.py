from datetime import date

import pytest

from yibao.errors import ValidationFailed
from yibao.identity import (
    birth_date_of,
    check_character,
    make_identity_number,
    mask_identity_number,
    sex_of,
    validate_identity_number,
)


def test_known_number_with_x_check_character() -> None:
    # The GB 11643 worked example: weighted sum 167, 167 mod 11 = 2 -> "X".
    assert check_character("11010519491231002") == "X"
    assert validate_identity_number("11010519491231002x") == "11010519491231002X"


def test_check_digit_mismatch_is_refused_without_echoing_the_number() -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_identity_number("110105194912310021")
    assert err.value.code == "identity.check_digit"
    assert "110105194912310021" not in str(err.value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "identity.malformed"),
        ("1101051949123100AX", "identity.malformed"),
        ("110105194902300010", "identity.birth_date"),
    ],
)
def test_malformed_numbers(value: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_identity_number(value)
    assert err.value.code == code


def test_mask_keeps_address_code_and_last_four() -> None:
    assert mask_identity_number("110105194912310014") == "110105********0014"


def test_made_numbers_validate_and_carry_birth_and_sex() -> None:
    number = make_identity_number("460200", date(1960, 2, 29), 13)
    assert validate_identity_number(number) == number
    assert birth_date_of(number) == date(1960, 2, 29)
    assert sex_of(number) == "M"
    assert sex_of(make_identity_number("460200", date(1960, 2, 29), 14)) == "F"
