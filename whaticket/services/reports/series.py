"""`GET /reports/timeseries` and `/reports/heatmap`: events per local hour, day, week, month
or weekday-and-hour cell.

Local buckets are formed here from UTC hour groups (SQL has no portable time-zone
conversion, and MariaDB's CONVERT_TZ needs tz tables).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ReportEvent
from whaticket.services.reports.period import (
    MAX_DAYS,
    MAX_HOUR_DAYS,
    Period,
    in_period,
    period,
    period_json,
)
from whaticket.services.reports.summary import KIND_FIELDS, value_column
from whaticket.utils.queries import utc_slot_columns, utc_slot_start

E = ReportEvent


# -- UTC hour groups -> local buckets -------------------------------------------------------


def _quarter_zone(p: Period) -> bool:
    """True when the zone is offset by a half or quarter hour somewhere in the period."""
    day = p.start
    while day <= p.end:
        offset = day.astimezone(p.zone).utcoffset()
        if offset is not None and offset.total_seconds() % 3600:
            return True
        day += timedelta(days=1)
    return False


def _utc_groups(
    company_id: int, kind: str, p: Period, value: sa.ColumnElement[Any] | None
) -> Iterator[tuple[datetime, int, int, float]]:
    """(UTC slot start, events, values counted, sum of values) per UTC hour (or quarter
    hour in zones offset by a fraction of an hour) of one kind's events in the period."""
    quarters = _quarter_zone(p)
    parts = utc_slot_columns(E.occurred_at, quarters)
    aggs: list[sa.ColumnElement[Any]] = [sa.func.count(E.id)]
    if value is not None:
        aggs += [sa.func.count(value), sa.func.sum(value)]
    rows = db.session.execute(
        sa.select(*parts, *aggs)
        .where(E.company_id == company_id, E.kind == kind, *in_period(p))
        .group_by(*parts)
    )
    width = len(parts)
    for row in rows:
        slot = utc_slot_start(row, quarters)
        counted, total = (
            (int(row[width + 1]), float(row[width + 2] or 0)) if value is not None else (0, 0.0)
        )
        yield slot, int(row[width]), counted, total


def _bucket(moment: datetime, interval: str, zone: ZoneInfo) -> tuple[Any, ...]:
    """The local bucket of a UTC instant: a sortable key whose first item is its start."""
    local = moment.astimezone(zone)
    if interval == "hour":
        # The offset keeps the two 01:00 hours of a DST fall-back apart.
        start = local.replace(minute=0, second=0, microsecond=0)
        return (start.replace(tzinfo=None), local.utcoffset())
    day = local.date()
    if interval == "week":
        return (day - timedelta(days=day.weekday()),)
    if interval == "month":
        return (day.replace(day=1),)
    return (day,)


def _all_buckets(p: Period, interval: str) -> list[tuple[Any, ...]]:
    """Every bucket the period touches, in order, so empty ones answer zero."""
    seen: dict[tuple[Any, ...], None] = {}
    if interval == "hour":
        # Quarter-hour steps catch every local hour, whatever the zone's offset.
        moment = p.start
        while moment < p.end:
            seen.setdefault(_bucket(moment, interval, p.zone))
            moment += timedelta(minutes=15)
    else:
        day = p.first
        while day <= p.last:
            # Noon is inside the local day whatever DST does at midnight.
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=p.zone)
            seen.setdefault(_bucket(noon, interval, p.zone))
            day += timedelta(days=1)
    return list(seen)


def _bucket_label(key: tuple[Any, ...]) -> str:
    """A bucket's start: a local date, or a local hour with its UTC offset."""
    if len(key) == 2:
        naive, offset = key
        return naive.replace(tzinfo=timezone(offset)).isoformat()
    return key[0].isoformat()


# -- GET /reports/timeseries --------------------------------------------------------------


def timeseries(
    company_id: int,
    *,
    interval: str = "day",
    kind: str = "conversation",
    date_from: date | None = None,
    date_to: date | None = None,
    business_hours: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`{from, to, timezone, interval, kind, businessHours, series: [{start, count, avg}]}`."""
    max_days = MAX_HOUR_DAYS if interval == "hour" else MAX_DAYS
    try:
        p = period(company_id, date_from, date_to, max_days=max_days, now=now)
    except AppError as err:
        if interval == "hour" and err.fields:
            err.fields = {"interval": [f"Hourly series are limited to {MAX_HOUR_DAYS} days."]}
        raise
    # Assignments, requeues and SLA marks are counted only: no summary field, no average.
    _, avg_field = KIND_FIELDS.get(kind, (kind, None))
    value = value_column(business_hours) if avg_field else None

    acc: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for slot, count, counted, total in _utc_groups(company_id, kind, p, value):
        bucket = acc[_bucket(slot, interval, p.zone)]
        bucket[0] += count
        bucket[1] += counted
        bucket[2] += total

    series = []
    for key in _all_buckets(p, interval):
        count, counted, total = acc.get(key, (0, 0, 0.0))
        series.append(
            {
                "start": _bucket_label(key),
                "count": int(count),
                "avg": round(total / counted, 2) if counted else None,
            }
        )
    return {
        **period_json(p),
        "interval": interval,
        "kind": kind,
        "business_hours": business_hours,
        "series": series,
    }


# -- GET /reports/heatmap -----------------------------------------------------------------


def heatmap(
    company_id: int,
    *,
    kind: str = "conversation",
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`{from, to, timezone, kind, total, cells: [{weekday, hour, count}]}`: all 168 cells,
    weekday 0 = Monday, in the company's time zone."""
    p = period(company_id, date_from, date_to, now=now)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for slot, count, _counted, _total in _utc_groups(company_id, kind, p, None):
        local = slot.astimezone(p.zone)
        counts[(local.weekday(), local.hour)] += count
    cells = [
        {"weekday": wd, "hour": h, "count": counts.get((wd, h), 0)}
        for wd in range(7)
        for h in range(24)
    ]
    return {**period_json(p), "kind": kind, "total": sum(counts.values()), "cells": cells}
