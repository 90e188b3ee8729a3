"""The period a report covers: local calendar days of the company, as one UTC range.

Dates from the client are calendar days in the company's time zone; report events are
stored in naive UTC, so the days become one [start, end) UTC range that every report
filters on (one index range of `report_events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.models import ReportEvent
from whaticket.utils.queries import company_zone, day_start

E = ReportEvent

#: The default period: today and the six days before it, in the company's time zone.
DEFAULT_DAYS = 7
#: The longest period any report accepts (a year, leap day included).
MAX_DAYS = 366
#: Hour buckets make a long series useless and heavy; a month of hours is the cap.
MAX_HOUR_DAYS = 31


@dataclass(frozen=True)
class Period:
    """Inclusive local days [first, last] of one company and their UTC [start, end)."""

    first: date
    last: date
    zone: ZoneInfo
    start: datetime
    end: datetime


def period(
    company_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    max_days: int = MAX_DAYS,
    now: datetime | None = None,
) -> Period:
    """Resolve `from`/`to` (either may be missing) into a bounded period in the company zone."""
    zone = company_zone(company_id)
    span = timedelta(days=DEFAULT_DAYS - 1)
    if date_to is None:
        today = (now or utcnow()).astimezone(zone).date()
        date_to = max(today, date_from) if date_from is not None else today
    if date_from is None:
        date_from = date_to - span
    if date_to < date_from:
        raise AppError("ERR_VALIDATION", 400, {"to": ["Must not be before from."]})
    if (date_to - date_from).days >= max_days:
        raise AppError("ERR_VALIDATION", 400, {"to": [f"The range is limited to {max_days} days."]})
    return Period(
        date_from,
        date_to,
        zone,
        day_start(date_from, zone),
        day_start(date_to + timedelta(days=1), zone),
    )


def period_json(p: Period) -> dict[str, Any]:
    """The period as every report answers it: `{from, to, timezone}`."""
    return {"from": p.first.isoformat(), "to": p.last.isoformat(), "timezone": p.zone.key}


def in_period(p: Period) -> list[sa.ColumnElement[bool]]:
    """The report-event conditions of the period (one index range)."""
    # Naive UTC bounds: the column stores naive UTC and UTCDateTime converts aware values.
    return [E.occurred_at >= p.start, E.occurred_at < p.end]
