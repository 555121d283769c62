"""Business days and months follow China time, whatever the stored UTC timestamp says."""

from datetime import UTC, date, datetime

from yibao.clock import business_date, business_month, day_start


def test_late_evening_utc_is_the_next_day_and_month_in_china() -> None:
    at = datetime(2026, 5, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 June in Beijing
    assert business_date(at) == date(2026, 6, 1)
    assert business_month(at) == "2026-06"


def test_a_naive_timestamp_is_utc() -> None:
    assert business_month(datetime(2026, 5, 31, 15, 59)) == "2026-05"
    assert business_month(datetime(2026, 5, 31, 16, 0)) == "2026-06"


def test_a_china_day_starts_at_16_utc_the_day_before() -> None:
    assert day_start(date(2026, 6, 1)) == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
