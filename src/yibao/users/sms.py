"""Text messages (SMS) to insured persons' registered phones.

Yibao only speaks to an interface: a real deployment plugs in its SMS gateway (an object
with ``send(phone, text)``) as ``app.state.sms``. The demo's sender writes the message to the
server's log, with the phone masked: the one place where a one-time code is ever written.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

_log = logging.getLogger("yibao.sms")


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to ``phone`` (11 digits)."""


def mask_phone(phone: str) -> str:
    """``138****0001``: the first three and the last four digits."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


class LoggingSmsSender:
    """The demo's sender: the message goes to the server's log (level WARNING, so that it
    shows with Python's default logging), nowhere else."""

    demo: ClassVar[bool] = True  # the pages say where the code went

    def send(self, phone: str, text: str) -> None:
        _log.warning("SMS (demo: not sent) to %s: %s", mask_phone(phone), text)


@dataclass
class RecordingSmsSender:
    """Keeps what was sent, for tests (nothing is logged)."""

    demo: ClassVar[bool] = True

    sent: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            self.sent.append((phone, text))

    def last_to(self, phone: str) -> str | None:
        with self._lock:
            for to, text in reversed(self.sent):
                if to == phone:
                    return text
        return None
