"""Office hours: plain days, ranges across midnight, holidays and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from whaticket.utils.office_hours import is_open

WEEK = [
    {"weekday": "Segunda-feira", "weekdayEn": "monday", "startTime": "08:00", "endTime": "18:00"},
    {"weekday": "Terça-feira", "weekdayEn": "tuesday", "startTime": "22:00", "endTime": "02:00"},
    {"weekday": "Quarta-feira", "weekdayEn": "wednesday", "startTime": "", "endTime": ""},
]


def _sp(y, m, d, hh, mm) -> datetime:
    """A São Paulo local time (UTC-3, no DST since 2019) as an aware UTC datetime."""
    return (
        datetime(y, m, d, hh + 3, mm, tzinfo=UTC)
        if hh + 3 < 24
        else datetime(y, m, d + 1, hh + 3 - 24, mm, tzinfo=UTC)
    )


def test_inside_and_outside_a_plain_day():
    # 2026-11-30 is a Monday.
    assert is_open(WEEK, _sp(2026, 11, 30, 9, 0))
    assert is_open(WEEK, _sp(2026, 11, 30, 18, 0))  # the end minute is still open
    assert not is_open(WEEK, _sp(2026, 11, 30, 18, 1))
    assert not is_open(WEEK, _sp(2026, 11, 30, 7, 59))


def test_range_across_midnight():
    # Tuesday 22:00 - 02:00: open Tuesday 23:00 and Wednesday 01:00, closed at 03:00.
    assert is_open(WEEK, _sp(2026, 12, 1, 23, 0))
    assert is_open(WEEK, _sp(2026, 12, 2, 1, 0))
    assert not is_open(WEEK, _sp(2026, 12, 2, 3, 0))
    assert not is_open(WEEK, _sp(2026, 12, 1, 21, 59))


def test_day_without_hours_and_missing_day_are_closed_empty_schedule_is_open():
    assert not is_open(WEEK, _sp(2026, 12, 2, 12, 0))  # Wednesday: empty times
    assert not is_open(WEEK, _sp(2026, 12, 3, 12, 0))  # Thursday: not listed
    assert is_open([], _sp(2026, 12, 3, 12, 0))
    assert is_open(None, _sp(2026, 12, 3, 3, 0))


def test_holiday_closes_the_day_and_the_night_it_starts():
    assert not is_open(WEEK, _sp(2026, 11, 30, 9, 0), closed_dates=[date(2026, 11, 30)])
    # Tuesday 2026-12-01 is a holiday: its 22:00-02:00 night is closed on both sides.
    holiday = [date(2026, 12, 1)]
    assert not is_open(WEEK, _sp(2026, 12, 1, 23, 0), closed_dates=holiday)
    assert not is_open(WEEK, _sp(2026, 12, 2, 1, 0), closed_dates=holiday)


def test_time_zone_decides_the_local_time():
    monday_noon_utc = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert is_open(WEEK, monday_noon_utc, tz="America/Sao_Paulo")  # 09:00 local
    assert not is_open(WEEK, monday_noon_utc, tz="Asia/Tokyo")  # 21:00 local


def test_business_seconds_counts_only_open_time():
    from datetime import UTC, datetime

    from whaticket.utils.office_hours import business_seconds

    week = [{"weekdayEn": "monday", "startTime": "08:00", "endTime": "18:00"}]
    start = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Monday 17:00 in São Paulo
    end = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # next Monday 09:00
    assert business_seconds(week, start, end) == 2 * 3600  # 17-18 and 08-09
    assert business_seconds([], start, end) == (end - start).total_seconds()
    night = [{"weekdayEn": "monday", "startTime": "22:00", "endTime": "02:00"}]
    assert business_seconds(night, start, end) == 4 * 3600  # Monday 22:00 to Tuesday 02:00
    assert business_seconds(week, end, start) == 0
