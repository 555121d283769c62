"""What every page's form needs: a service call whose error is shown on the form, and
numbers typed by people."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from sqlalchemy.orm import Session

from yibao.errors import YibaoError
from yibao.web.errors import status_for
from yibao.web.i18n import N_

BAD_NUMBER: Final = N_("Quantity, unit price and deposit are numbers, such as 5 or 65.10.")

T = TypeVar("T")


class FormError(Exception):
    """A form's error said in the page's own words (a message id)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def attempt(session: Session, call: Callable[[], T]) -> tuple[T | None, dict[str, Any] | None]:
    """Run a service call in a savepoint: its result, or the error to show on the form
    (what the call wrote is rolled back, the rest of the request goes on)."""
    try:
        with session.begin_nested():
            return call(), None
    except FormError as exc:
        return None, {"message": exc.message, "detail": None, "code": None, "status": 422}
    except YibaoError as exc:
        return None, {
            "message": None,
            "detail": exc.message,
            "code": exc.code,
            "status": status_for(exc),
        }


def decimal_field(text: str) -> Decimal:
    """A number typed in a form (empty is 0); anything else is the form's error."""
    try:
        value = Decimal(text.strip() or "0")
    except InvalidOperation:
        raise FormError(BAD_NUMBER) from None
    if not value.is_finite():
        raise FormError(BAD_NUMBER)
    return value
