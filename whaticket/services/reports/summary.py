"""`GET /reports/summary`: counts and average times per agent, queue, connection or tag.

Read from the daily rollup (`report_daily`) for the plain groupings, and from the events
themselves for tags (an event of a ticket with two tags counts in both).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Queue, ReportDaily, ReportEvent, Tag, User, Whatsapp, ticket_tags
from whaticket.services.reports.period import Period, in_period, period, period_json

E = ReportEvent

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


def value_column(business_hours: bool) -> sa.ColumnElement[Any]:
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
    value = value_column(business_hours)
    aggregates = (
        sa.func.count(E.id),
        sa.func.count(value),
        sa.func.sum(value),
    )
    where = [E.company_id == company_id, *in_period(p)]

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
        **period_json(p),
        "group_by": group_by,
        "business_hours": business_hours,
        "rows": rows,
        "total": _row(None, "Total", total),
    }
