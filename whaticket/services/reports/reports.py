"""Reports: summary, time series and heatmap from report events; live queue state; CSV.

Period reports read only `report_events`, filtered by (company_id, occurred_at) or
(company_id, kind, occurred_at) so each call walks one index range and never the messages
or tickets tables (tag grouping joins the small ticket_tags table). Dates from the client
are calendar days in the company's time zone; events are stored in naive UTC, so the days
become one [start, end) UTC range, and local buckets are formed here from UTC hour groups
(SQL has no portable time-zone conversion, and MariaDB's CONVERT_TZ needs tz tables).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import (
    Queue,
    ReportDaily,
    ReportEvent,
    Tag,
    Ticket,
    User,
    Whatsapp,
    ticket_tags,
)
from whaticket.services.reports.dashboard import company_zone, day_start
from whaticket.utils.queries import utc_slot_columns, utc_slot_start

E = ReportEvent

#: The default period: today and the six days before it, in the company's time zone.
DEFAULT_DAYS = 7
#: The longest period any report accepts (a year, leap day included).
MAX_DAYS = 366
#: Hour buckets make a long series useless and heavy; a month of hours is the cap.
MAX_HOUR_DAYS = 31

GROUP_COLUMNS = {
    "agent": E.user_id,
    "queue": E.queue_id,
    "connection": E.whatsapp_id,
}
#: The label of the group of events without an agent, queue, connection or tag.
NULL_LABELS = {
    "agent": "Sem atendente",
    "queue": "Sem fila",
    "connection": "Sem conexão",
    "tag": "Sem etiqueta",
}

#: kind -> (count field, average field or None).
KIND_FIELDS: dict[str, tuple[str, str | None]] = {
    "conversation": ("conversations", None),
    "message_in": ("incoming_messages", None),
    "message_out": ("outgoing_messages", None),
    "first_response": ("first_responses", "avg_first_response"),
    "reply_time": ("replies", "avg_reply_time"),
    "resolution": ("resolutions", "avg_resolution"),
    "wait": ("waits", "avg_wait"),
    "bot_handoff": ("bot_handoffs", None),
    "transfer": ("transfers", None),
    "rating": ("ratings", "avg_rating"),
}
#: The summary columns in wire order (snake_case; the schema camelCases them).
SUMMARY_FIELDS = [
    "conversations",
    "incoming_messages",
    "outgoing_messages",
    "first_responses",
    "avg_first_response",
    "replies",
    "avg_reply_time",
    "resolutions",
    "avg_resolution",
    "waits",
    "avg_wait",
    "bot_handoffs",
    "transfers",
    "ratings",
    "avg_rating",
]


# -- period -------------------------------------------------------------------------------


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


def _period_json(p: Period) -> dict[str, Any]:
    return {"from": p.first.isoformat(), "to": p.last.isoformat(), "timezone": p.zone.key}


def _in_period(p: Period) -> list[sa.ColumnElement[bool]]:
    # Naive UTC bounds: the column stores naive UTC and UTCDateTime converts aware values.
    return [E.occurred_at >= p.start, E.occurred_at < p.end]


def _round(value: Any) -> float | None:
    """A SQL aggregate (None, float or Decimal) as a float with 2 decimals."""
    return round(float(value), 2) if value is not None else None


# -- GET /reports/summary -----------------------------------------------------------------


def _value_column(business_hours: bool) -> sa.ColumnElement[Any]:
    """The duration to average; a rating event averages its rate instead."""
    duration = E.business_value if business_hours else E.value
    return sa.case((E.kind == "rating", sa.cast(E.rating, sa.Float)), else_=duration)


def _empty_totals() -> dict[str, list[float]]:
    # kind -> [events, values counted, sum of values]
    return defaultdict(lambda: [0, 0, 0.0])


def _row(key: int | None, name: str, acc: dict[str, list[float]]) -> dict[str, Any]:
    """One summary line from per-kind [count, counted values, sum] accumulators."""
    out: dict[str, Any] = {"key": key, "name": name}
    for kind, (count_field, avg_field) in KIND_FIELDS.items():
        count, counted, total = acc.get(kind, (0, 0, 0.0))
        out[count_field] = int(count)
        if avg_field:
            # Averages are sum / count of the events that carry a value (None: no events).
            out[avg_field] = round(total / counted, 2) if counted else None
    return out


def _names(group_by: str, company_id: int) -> dict[int, str]:
    """Every agent, queue, connection or tag of the company by id (idle ones show as zeros)."""
    model = {"agent": User, "queue": Queue, "connection": Whatsapp, "tag": Tag}[group_by]
    rows = db.session.execute(sa.select(model.id, model.name).where(model.company_id == company_id))
    return {row.id: row.name for row in rows}


#: The rollup key column of each groupBy (0 there means "none").
ROLLUP_KEYS = {
    "agent": ReportDaily.user_key,
    "queue": ReportDaily.queue_key,
    "connection": ReportDaily.whatsapp_key,
}


def _rollup_query(company_id: int, p: Period, group_by: str | None, business_hours: bool) -> Any:
    """(key, kind, events, counted, sum) per group from the daily rollup of the period.

    The rollup's days are the company's local days, exactly the period's inclusive days,
    so it answers the same numbers as the events while reading (days x groups) rows.
    """
    d = ReportDaily
    is_rating = d.kind == "rating"
    duration = d.business_sum if business_hours else d.value_sum
    sums = (
        sa.func.sum(d.events),
        sa.func.sum(sa.case((is_rating, d.rated), else_=d.valued)),
        sa.func.sum(sa.case((is_rating, sa.cast(d.rating_sum, sa.Float)), else_=duration)),
    )
    where = (d.company_id == company_id, d.day >= p.first, d.day <= p.last)
    if group_by is None:
        # No literal in GROUP BY: MySQL would read "GROUP BY 0" as a column position.
        return sa.select(sa.null(), d.kind, *sums).where(*where).group_by(d.kind)
    key = ROLLUP_KEYS[group_by]
    return sa.select(key, d.kind, *sums).where(*where).group_by(key, d.kind)


def summary(
    company_id: int,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    group_by: str | None = None,
    business_hours: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`{from, to, timezone, groupBy, businessHours, rows, total}`; averages in seconds."""
    p = period(company_id, date_from, date_to, now=now)
    value = _value_column(business_hours)
    aggregates = (
        sa.func.count(E.id),
        sa.func.count(value),
        sa.func.sum(value),
    )
    where = [E.company_id == company_id, *_in_period(p)]

    if group_by == "tag":
        # Through the event's ticket: an event of a ticket with two tags counts in both;
        # an event of an untagged ticket (or none) falls into the "no tag" group.
        key = ticket_tags.c.tag_id
        query = (
            sa.select(key, E.kind, *aggregates)
            .select_from(E)
            .outerjoin(ticket_tags, ticket_tags.c.ticket_id == E.ticket_id)
            .where(*where)
            .group_by(key, E.kind)
        )
    else:
        query = _rollup_query(company_id, p, group_by, business_hours)

    groups: dict[int | None, dict[str, list[float]]] = defaultdict(_empty_totals)
    total = _empty_totals()
    for group_key, kind, count, counted, value_sum in db.session.execute(query):
        if group_by != "tag" and group_key == 0:
            group_key = None  # the rollup's "none" key
        # MariaDB answers SUM() of integers as Decimal.
        count, counted = int(count or 0), int(counted or 0)
        acc = groups[group_key][kind]
        acc[0] += count
        acc[1] += counted
        acc[2] += float(value_sum or 0)
        if group_by != "tag":
            total[kind][0] += count
            total[kind][1] += counted
            total[kind][2] += float(value_sum or 0)

    if group_by == "tag":
        # Tag groups overlap, so their sum would count multi-tag events twice: the total
        # is its own (ungrouped) pass over the same index range.
        for kind, count, counted, value_sum in db.session.execute(
            sa.select(E.kind, *aggregates).where(*where).group_by(E.kind)
        ):
            total[kind] = [count, counted, float(value_sum or 0)]

    rows: list[dict[str, Any]] = []
    if group_by is None:
        rows.append(_row(None, "Total", total))
    else:
        names = _names(group_by, company_id)
        keys = set(names) | {k for k in groups if k is not None}
        for k in sorted(keys, key=lambda k: (names.get(k, "").lower(), k)):
            rows.append(_row(k, names.get(k, f"#{k}"), groups.get(k, {})))
        if None in groups:
            rows.append(_row(None, NULL_LABELS[group_by], groups[None]))
    return {
        **_period_json(p),
        "group_by": group_by,
        "business_hours": business_hours,
        "rows": rows,
        "total": _row(None, "Total", total),
    }


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
        .where(E.company_id == company_id, E.kind == kind, *_in_period(p))
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
    _, avg_field = KIND_FIELDS[kind]
    value = _value_column(business_hours) if avg_field else None

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
        **_period_json(p),
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
    return {**_period_json(p), "kind": kind, "total": sum(counts.values()), "cells": cells}


# -- GET /reports/live --------------------------------------------------------------------

LIVE_FIELDS = ("open", "pending", "unassigned", "unattended")


def live(company_id: int) -> dict[str, Any]:
    """`{totals, queues, agents}` of the tickets as they are now (not events).

    open: status open; pending: status pending; unassigned: pending with no agent;
    unattended: open or pending with customer messages nobody has read (unread > 0).
    """
    t = Ticket
    is_open, is_pending = t.status == "open", t.status == "pending"
    # One GROUP BY on the (company_id, status, ...) index: only live tickets are read.
    rows = db.session.execute(
        sa.select(
            t.queue_id,
            t.user_id,
            sa.func.sum(sa.case((is_open, 1), else_=0)),
            sa.func.sum(sa.case((is_pending, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(is_pending, t.user_id.is_(None)), 1), else_=0)),
            sa.func.sum(sa.case((t.unread_messages > 0, 1), else_=0)),
        )
        .where(t.company_id == company_id, t.status.in_(("open", "pending")))
        .group_by(t.queue_id, t.user_id)
    ).all()

    def zero() -> dict[str, int]:
        return dict.fromkeys(LIVE_FIELDS, 0)

    totals = zero()
    per_queue: dict[int | None, dict[str, int]] = defaultdict(zero)
    per_agent: dict[int | None, dict[str, int]] = defaultdict(zero)
    for queue_id, user_id, *values in rows:
        for field, v in zip(LIVE_FIELDS, values, strict=True):
            n = int(v or 0)
            totals[field] += n
            per_queue[queue_id][field] += n
            per_agent[user_id][field] += n

    queues = {
        q.id: q.name
        for q in db.session.execute(
            sa.select(Queue.id, Queue.name).where(Queue.company_id == company_id)
        )
    }
    users = {
        u.id: u
        for u in db.session.execute(
            sa.select(User.id, User.name, User.online).where(User.company_id == company_id)
        )
    }
    return {
        "totals": totals,
        "queues": _live_lines(queues, per_queue, NULL_LABELS["queue"]),
        "agents": [
            {**line, "online": bool(users[line["key"]].online) if line["key"] in users else False}
            for line in _live_lines(
                {k: u.name for k, u in users.items()}, per_agent, NULL_LABELS["agent"]
            )
        ],
    }


def _live_lines(
    names: dict[int, str], counts: dict[int | None, dict[str, int]], null_label: str
) -> list[dict[str, Any]]:
    """Every named group (zeros when idle) by name, then the null group when it has tickets."""
    keys = set(names) | {k for k in counts if k is not None}
    lines = [
        {"key": k, "name": names.get(k, f"#{k}"), **counts.get(k, dict.fromkeys(LIVE_FIELDS, 0))}
        for k in sorted(keys, key=lambda k: (names.get(k, "").lower(), k))
    ]
    if None in counts:
        lines.append({"key": None, "name": null_label, **counts[None]})
    return lines


# -- CSV ----------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def to_csv(report: str, data: dict[str, Any]) -> tuple[str, str]:
    """(filename, CSV text) of a report's data as built above."""
    if report == "summary":
        fields = ["key", "name", *SUMMARY_FIELDS]
        lines = [[row[f] for f in fields] for row in data["rows"]]
        if data["group_by"] is not None:
            lines.append(["", "Total", *(data["total"][f] for f in SUMMARY_FIELDS)])
        text = _csv([_camel(f) for f in fields], lines)
    elif report == "timeseries":
        text = _csv(
            ["start", "count", "avg"], ([s["start"], s["count"], s["avg"]] for s in data["series"])
        )
    elif report == "heatmap":
        text = _csv(
            ["weekday", "hour", "count"],
            ([c["weekday"], c["hour"], c["count"]] for c in data["cells"]),
        )
    elif report == "live":
        header = ["scope", "key", "name", *LIVE_FIELDS]
        lines = [["total", "", "Total", *(data["totals"][f] for f in LIVE_FIELDS)]]
        for scope, items in (("queue", data["queues"]), ("agent", data["agents"])):
            lines += [[scope, i["key"], i["name"], *(i[f] for f in LIVE_FIELDS)] for i in items]
        text = _csv(header, lines)
    else:  # pragma: no cover - the views name the report
        raise AppError("ERR_NOT_FOUND", 404)
    if "from" in data:
        filename = f"report-{report}-{data['from']}-{data['to']}.csv"
    else:
        filename = f"report-{report}-{utcnow().strftime('%Y-%m-%dT%H%M')}.csv"
    return filename, text
