"""Business days and months are China Standard Time (UTC+8, no daylight saving).

Timestamps are stored in UTC; a settlement made at 23:30 in Beijing on 31 May belongs to
May's clearing and to that day's reconciliation, whatever UTC says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def as_utc(at: datetime) -> datetime:
    """A stored timestamp with its zone: SQLite hands them back naive, and they were
    written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def business_date(at: datetime) -> date:
    """The day in China of a timestamp (a naive one is taken as UTC)."""
    return as_utc(at).astimezone(CHINA).date()


def china_today() -> date:
    """Today's date in China: the day a window, a reviewer or a person lives in (the
    machine's own clock may run in UTC, a day behind for eight hours)."""
    return business_date(datetime.now(UTC))


def business_month(at: datetime) -> str:
    """``YYYY-MM`` in China of a timestamp: the clearing month."""
    return as_utc(at).astimezone(CHINA).strftime("%Y-%m")


def day_start(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in China."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)
