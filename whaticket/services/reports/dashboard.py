"""Dashboard and reports: service-time counters, attendants, tickets per user and per hour/day.

Everything is computed for one company from its ticket-tracking rows (one per service
episode). Dates from the client are calendar days in the company's time zone; timestamps
are stored as naive UTC, so each day is turned into a [start, end) UTC range first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Ticket, TicketTracking, User, UserRating, Whatsapp
from whaticket.utils.queries import company_zone, day_start, utc_slot_columns, utc_slot_start

T = TicketTracking


def _seconds_between(start: Any, end: Any) -> sa.ColumnElement[float]:
    """`end - start` in seconds (NULL when either is NULL), for the bound database.

    No portable SQL expression subtracts timestamps, so this one helper branches on the
    dialect; every caller stays dialect-neutral.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0
    if dialect in ("mysql", "mariadb"):
        return sa.func.timestampdiff(sa.literal_column("MICROSECOND"), start, end) / 1000000.0
    return sa.extract("epoch", end - start)


def _minutes(seconds: Any) -> float:
    """Average seconds from SQL (None, float or Decimal) as minutes, 2 decimals."""
    # Rounding also hides SQLite's julianday float noise (well under a millisecond).
    return round(float(seconds) / 60.0, 2) if seconds is not None else 0.0


# -- GET /dashboard ---------------------------------------------------------------------


def _tracking_filters(
    company_id: int,
    zone: ZoneInfo,
    days: int | None,
    date_from: date | None,
    date_to: date | None,
    now: datetime,
) -> list[sa.ColumnElement[bool]]:
    """The SaaS period filters, all on the episodes: queued since N days / since a day,
    finished by the end of a day (which, as in the SaaS, leaves out unfinished episodes)."""
    where: list[sa.ColumnElement[bool]] = [T.company_id == company_id]
    if days is not None:
        where.append(T.queued_at >= now - timedelta(days=days))
    if date_from is not None:
        where.append(T.queued_at >= day_start(date_from, zone))
    if date_to is not None:
        where.append(T.finished_at < day_start(date_to + timedelta(days=1), zone))
        if date_from is not None:
            # Same rows (nothing finishes before it was queued), but the finished_at index
            # now has a lower bound too, so old history is never read.
            where.append(T.finished_at >= day_start(date_from, zone))
    return where


def dashboard(
    company_id: int,
    *,
    days: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """`{counters, attendants}` for one company; averages in minutes."""
    zone = company_zone(company_id)
    where = _tracking_filters(company_id, zone, days, date_from, date_to, now or utcnow())
    # Support runs from the accept to the rating prompt (or the close when none was asked).
    support = _seconds_between(T.started_at, sa.func.coalesce(T.rating_at, T.finished_at))
    wait = _seconds_between(T.queued_at, T.started_at)
    # Episodes missing an end are left out of the averages; a negative span (clock skew,
    # an episode closed before it was accepted) would only distort them.
    support_ok = sa.case((support >= 0, support))
    wait_ok = sa.case((wait >= 0, wait))

    avg_support, avg_wait, finished = db.session.execute(
        sa.select(sa.func.avg(support_ok), sa.func.avg(wait_ok), sa.func.count(T.finished_at))
        .select_from(T)
        .where(*where)
    ).one()

    # Leads: contacts served exactly once in the period (first-time contacts).
    once = (
        sa.select(Ticket.contact_id)
        .select_from(T)
        .join(Ticket, Ticket.id == T.ticket_id)
        .where(*where)
        .group_by(Ticket.contact_id)
        .having(sa.func.count(T.id) == 1)
        .subquery()
    )
    leads = db.session.scalar(sa.select(sa.func.count()).select_from(once)) or 0

    # Happening and pending are the tickets' state now, not the period's.
    by_status = dict(
        db.session.execute(
            sa.select(Ticket.status, sa.func.count(Ticket.id))
            .where(Ticket.company_id == company_id, Ticket.status.in_(("open", "pending")))
            .group_by(Ticket.status)
        ).all()
    )
    # The SaaS counts every tenant's companies and sessions here (shown to super users);
    # scoped to the caller's company that is 1 and its connected connections.
    connected = db.session.scalar(
        sa.select(sa.func.count(Whatsapp.id)).where(
            Whatsapp.company_id == company_id, Whatsapp.status == "CONNECTED"
        )
    )

    counters = {
        "avg_support_time": _minutes(avg_support),
        "avg_wait_time": _minutes(avg_wait),
        "support_happening": int(by_status.get("open", 0)),
        "support_pending": int(by_status.get("pending", 0)),
        "support_finished": int(finished or 0),
        "leads": int(leads),
        "total_companies": 1,
        "total_whatsapp_sessions": int(connected or 0),
    }
    return {"counters": counters, "attendants": _attendants(company_id, where, support_ok)}


def _attendants(
    company_id: int, where: list[sa.ColumnElement[bool]], support_ok: sa.ColumnElement[Any]
) -> list[dict[str, Any]]:
    """Every user of the company with their period's episodes, support time and rating."""
    per_user = {
        row.user_id: row
        for row in db.session.execute(
            sa.select(
                T.user_id,
                sa.func.avg(support_ok).label("avg_support"),
                sa.func.count(T.id).label("tickets"),
            )
            .where(*where, T.user_id.is_not(None))
            .group_by(T.user_id)
        )
    }
    # A rating counts for the period of the episode it rated (the SaaS matched ratings to
    # episodes by calendar day, which mixed up a user's episodes of the same day).
    ratings = dict(
        db.session.execute(
            sa.select(UserRating.user_id, sa.func.avg(UserRating.rate))
            .join(T, T.id == UserRating.tracking_id)
            .where(*where, UserRating.company_id == company_id, UserRating.user_id.is_not(None))
            .group_by(UserRating.user_id)
        ).all()
    )
    users = db.session.execute(
        sa.select(User.id, User.name, User.online)
        .where(User.company_id == company_id)
        .order_by(User.name, User.id)
    ).all()
    out = []
    for user in users:
        row = per_user.get(user.id)
        rating = ratings.get(user.id)
        out.append(
            {
                "id": user.id,
                "name": user.name,
                "avg_support_time": _minutes(row.avg_support if row else None),
                "tickets": int(row.tickets) if row else 0,
                "rating": round(float(rating), 2) if rating is not None else 0.0,
                "online": bool(user.online),
            }
        )
    return out


# -- GET /dashboard/ticketsUsers and /dashboard/ticketsDay ------------------------------


def tickets_per_user(company_id: int, initial: date, final: date) -> dict[str, Any]:
    """`{data: [{quantidade, nome}]}`: episodes each user finished in the local days
    [initial, final]; every user of the company appears, with 0 when idle."""
    zone = company_zone(company_id)
    start, end = day_start(initial, zone), day_start(final + timedelta(days=1), zone)
    counts = dict(
        db.session.execute(
            sa.select(T.user_id, sa.func.count(T.id))
            .where(
                T.company_id == company_id,
                T.user_id.is_not(None),
                T.finished_at >= start,
                T.finished_at < end,
            )
            .group_by(T.user_id)
        ).all()
    )
    users = db.session.execute(
        sa.select(User.id, User.name)
        .where(User.company_id == company_id)
        .order_by(User.name, User.id)
    ).all()
    # Counted per user id: the SaaS grouped by name, merging two users who share one.
    return {"data": [{"quantidade": int(counts.get(u.id, 0)), "nome": u.name} for u in users]}


def tickets_per_period(company_id: int, initial: date, final: date) -> dict[str, Any]:
    """`{count, data}`: episodes opened per local hour (`{total, horario}`) when both dates
    are the same day, else per local day (`{total, data: "dd/mm/yyyy"}`); empty slots omitted."""
    zone = company_zone(company_id)
    start, end = day_start(initial, zone), day_start(final + timedelta(days=1), zone)
    # Group on UTC calendar fields (portable SQL), then move each bucket into the local
    # zone here. Zones offset by a half or quarter hour need quarter-hour buckets to
    # land every row in the right local hour.
    offsets = {start.astimezone(zone).utcoffset(), end.astimezone(zone).utcoffset()}
    quarters = any(o is not None and o.total_seconds() % 3600 for o in offsets)
    parts = utc_slot_columns(T.created_at, quarters)
    rows = db.session.execute(
        sa.select(*parts, sa.func.count(T.id))
        .where(T.company_id == company_id, T.created_at >= start, T.created_at < end)
        .group_by(*parts)
    ).all()

    per_hour = initial == final
    totals: dict[Any, int] = defaultdict(int)
    for row in rows:
        local = utc_slot_start(row, quarters).astimezone(zone)
        totals[local.hour if per_hour else local.date()] += int(row[-1])

    if per_hour:
        data = [{"total": totals[h], "horario": h} for h in sorted(totals)]
    else:
        data = [{"total": totals[d], "data": d.strftime("%d/%m/%Y")} for d in sorted(totals)]
    # Sorted by time, not by the "dd/mm/yyyy" text as the SaaS did (wrong across months).
    return {"count": sum(totals.values()), "data": data}
