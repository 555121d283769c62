"""What every page's form needs: a service call whose error is shown on the form, and
numbers typed by people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar, cast

from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.errors import YibaoError
from yibao.web.error_messages import sentence_for
from yibao.web.errors import status_for
from yibao.web.i18n import N_
from yibao.web.page import Page

BAD_NUMBER: Final = N_("Quantity, unit price and deposit are numbers, such as 5 or 65.10.")

T = TypeVar("T")


class FormError(Exception):
    """A form's error said in the page's own words (a message id)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def shown(self) -> dict[str, Any]:
        """The error as the form shows it (as :func:`attempt` gives it): a bad input, 422."""
        return {"message": self.message, "detail": None, "code": None, "status": 422}


def attempt(session: Session, call: Callable[[], T]) -> tuple[T | None, dict[str, Any] | None]:
    """Run a service call in a savepoint: its result, or the error to show on the form
    (what the call wrote is rolled back, the rest of the request goes on).

    A service's refusal is shown by the sentence for its code (``message``, a message id of
    :mod:`yibao.web.error_messages`; None when the code has none), with the service's own
    message (``detail``) and the code as technical details."""
    try:
        with session.begin_nested():
            return call(), None
    except FormError as exc:
        return None, exc.shown()
    except YibaoError as exc:
        return None, {
            "message": sentence_for(exc.code),
            "detail": exc.message,
            "code": exc.code,
            "status": status_for(exc),
        }


def act(
    page: Page,
    session: Session,
    call: Callable[[], T],
    *,
    then: str | Callable[[T], str],
    failed: Callable[[dict[str, Any]], Response],
) -> Response:
    """A form's action: run the service call (:func:`attempt`); done, go to ``then`` (an
    address, or made from the call's result: 303, the page reloads without the form's
    data); refused, ``failed`` shows the page again with the error (its status the API's)."""
    result, error = attempt(session, call)
    if error is not None:
        return failed(error)
    return page.redirect(then if isinstance(then, str) else then(cast(T, result)))


def status_of(error: dict[str, Any] | None) -> int:
    """The status of a page showing a form: the error's (as the API would answer), else 200."""
    return int(error["status"]) if error else 200


def day_field(text: str | None, message: str) -> date | None:
    """A day typed in a form or a filter (``YYYY-MM-DD``); empty is none; anything else is
    the form's error ``message``."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormError(message) from None


def decimal_field(text: str) -> Decimal:
    """A number typed in a form (empty is 0); anything else is the form's error."""
    try:
        value = Decimal(text.strip() or "0")
    except InvalidOperation:
        raise FormError(BAD_NUMBER) from None
    if not value.is_finite():
        raise FormError(BAD_NUMBER)
    return value
