"""`GET /reports/live`: the tickets as they are now (not events), per queue and per agent."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Queue, Ticket, User
from whaticket.services.reports.summary import NULL_LABELS

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
