"""Failed authentications, counted per client address and per account, refused cheaply.

One owner for both faces: a wrong bearer token (the API, :mod:`yibao.auth.tokens`) and a
wrong password (the pages, :mod:`yibao.auth.passwords`) count against the same address.
After ``auth_failures_per_address`` failures from one address within
``auth_window_seconds`` (``YIBAO_LIMIT_*``, :mod:`yibao.limits`) every further attempt from
it is refused with 429 and ``Retry-After`` until the oldest failure leaves the window; a
bearer token's account has its own count (``auth_failures_per_account``). The refusal is
decided before any hash is checked, so it costs a dictionary lookup, not an argon2 run.

A password's account keeps its lockout in the database (``users.failed_logins`` and
``locked_until``, :mod:`yibao.auth.passwords`), shared by every node; it is not counted here
a second time.

The counts live in this process (:func:`yibao.limits.active_failures`; the API's start begins
them afresh): with several nodes, each node counts on its own, so an
address may fail up to N × the limit across N nodes before every node refuses it. That is
the accepted trade (no write to the database per failed attempt, which an attacker could
otherwise turn into load); the password lockout, which guards the guessable secret, is in
the database and is shared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yibao.limits import TooManyAttempts, active_failures, active_limits

clock = time.monotonic
"""Seconds, for the windows (a test replaces it to let a window pass)."""


@dataclass(frozen=True, slots=True)
class Key:
    """What failures are counted against: an address or an account, and its limit's name."""

    value: str
    limit: str  # the attribute of Limits that bounds it

    @classmethod
    def address(cls, host: str) -> Key:
        return cls(f"address:{host}", "auth_failures_per_address")

    @classmethod
    def account(cls, name: str) -> Key:
        return cls(f"account:{name}", "auth_failures_per_account")


def refuse_if_limited(*keys: Key | None, now: float | None = None) -> None:
    """Raise :class:`TooManyAttempts` when any of ``keys`` is at its limit (None: skipped)."""
    limits = active_limits()
    failures = active_failures()
    at = clock() if now is None else now
    waits = [
        (wait, key)
        for key in keys
        if key is not None
        and (
            wait := failures.retry_after(
                key.value, limit=getattr(limits, key.limit), limits=limits, now=at
            )
        )
        is not None
    ]
    if waits:
        wait, key = max(waits, key=lambda pair: pair[0])
        raise TooManyAttempts(retry_after=wait, limit=key.limit, value=getattr(limits, key.limit))


def record_failure(*keys: Key | None, now: float | None = None) -> None:
    """Count one failed authentication against each of ``keys`` (None: skipped)."""
    limits = active_limits()
    at = clock() if now is None else now
    failures = active_failures()
    for key in keys:
        if key is not None:
            failures.failed(key.value, limit=getattr(limits, key.limit), limits=limits, now=at)
