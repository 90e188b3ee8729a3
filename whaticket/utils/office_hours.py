"""Office hours: is a weekly schedule open at a given moment, in the company's time zone?"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The zone of a company that has none (the SaaS's home market).
DEFAULT_TZ = "America/Sao_Paulo"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def zone_of(name: str | None) -> ZoneInfo:
    """A company's ZoneInfo; unset or unknown names fall back to DEFAULT_TZ (never a 500)."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def closed_days(raw: Iterable[Any] | None) -> list[date]:
    """Stored ISO closed dates as dates (malformed entries are ignored)."""
    out = []
    for item in raw or []:
        try:
            out.append(date.fromisoformat(str(item)))
        except ValueError:
            continue
    return out


def _parse(hhmm: str | None) -> time | None:
    """ "08:30" -> time(8, 30); empty or malformed -> None."""
    if not hhmm:
        return None
    try:
        hours, minutes = (int(part) for part in hhmm.split(":")[:2])
        return time(hours, minutes)
    except (ValueError, TypeError):
        return None


def _day(schedules: Iterable[dict[str, Any]], weekday: str) -> tuple[time, time] | None:
    """The (start, end) of a weekday; None when the day has no hours (closed)."""
    for entry in schedules:
        if str(entry.get("weekdayEn", "")).lower() == weekday:
            start, end = _parse(entry.get("startTime")), _parse(entry.get("endTime"))
            if start is None or end is None:
                return None
            return start, end
    return None


def is_open(
    schedules: list[dict[str, Any]] | None,
    now: datetime,
    tz: str = "America/Sao_Paulo",
    closed_dates: Iterable[date] = (),
) -> bool:
    """Whether `now` falls inside the schedule (SaaS shape: weekdayEn, startTime, endTime).

    An empty schedule means always open. A range whose end is before its start crosses
    midnight: Monday 22:00-02:00 is open Monday 23:00 and Tuesday 01:00. A closed date
    (holiday) closes its whole local day, and the night that starts on it.
    """
    if not schedules:
        return True
    closed = set(closed_dates)
    local = now.astimezone(zone_of(tz))
    if local.date() in closed:
        return False
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    clock = local.time().replace(second=0, microsecond=0)
    hours = _day(schedules, today)
    if hours is not None:
        start, end = hours
        if start <= end and start <= clock <= end:
            return True
        if start > end and clock >= start:  # today's range runs past midnight
            return True
    spill = _day(schedules, yesterday)
    if spill is not None:
        start, end = spill
        if start > end and clock <= end:  # yesterday's range reaches into today
            return local.date() - timedelta(days=1) not in closed
    return False


def business_seconds(
    schedules: list[dict[str, Any]] | None,
    start: datetime,
    end: datetime,
    tz: str = "America/Sao_Paulo",
    closed_dates: Iterable[date] = (),
) -> float:
    """Seconds of [start, end] that fall inside the weekly schedule (same rules as is_open).

    An empty schedule is always open. Each local day contributes its open range (a range
    ending before it starts runs past midnight into the next day); closed dates contribute
    nothing, and neither does the night that starts on them.
    """
    if end <= start:
        return 0.0
    if not schedules:
        return (end - start).total_seconds()
    zone = zone_of(tz)
    closed = set(closed_dates)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    total = 0.0
    day = first
    while day <= last:
        hours = None if day in closed else _day(schedules, WEEKDAYS[day.weekday()])
        if hours is not None:
            open_at = datetime.combine(day, hours[0], tzinfo=zone)
            close_day = day if hours[0] <= hours[1] else day + timedelta(days=1)
            close_at = datetime.combine(close_day, hours[1], tzinfo=zone)
            overlap = (min(end, close_at) - max(start, open_at)).total_seconds()
            if overlap > 0:
                total += overlap
        day += timedelta(days=1)
    return total


#: How far ahead a deadline is searched (a schedule with no open day has none).
_DEADLINE_HORIZON_DAYS = 800


def business_deadline(
    schedules: list[dict[str, Any]] | None,
    start: datetime,
    seconds: float,
    tz: str = "America/Sao_Paulo",
    closed_dates: Iterable[date] = (),
) -> datetime | None:
    """The moment `seconds` of office hours have passed since `start` (same rules as
    business_seconds: weekly ranges, ranges past midnight, closed dates).

    An empty schedule is always open (wall-clock). None when the schedule never opens
    within the horizon (every day closed).
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if seconds <= 0:
        return start
    if not schedules:
        return start + timedelta(seconds=seconds)
    zone = zone_of(tz)
    closed = set(closed_dates)
    left = float(seconds)
    day = start.astimezone(zone).date() - timedelta(days=1)
    for _ in range(_DEADLINE_HORIZON_DAYS):
        hours = None if day in closed else _day(schedules, WEEKDAYS[day.weekday()])
        if hours is not None:
            open_at = datetime.combine(day, hours[0], tzinfo=zone)
            close_day = day if hours[0] <= hours[1] else day + timedelta(days=1)
            close_at = datetime.combine(close_day, hours[1], tzinfo=zone)
            # Aware arithmetic in UTC: a local wall-clock sum would be off across DST.
            begin = max(start, open_at).astimezone(UTC)
            available = (close_at - begin).total_seconds()
            if available > 0:
                if available >= left:
                    return begin + timedelta(seconds=left)
                left -= available
        day += timedelta(days=1)
    return None
