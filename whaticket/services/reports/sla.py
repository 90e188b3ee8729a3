"""The SLA report: per policy, queue and agent, targets met and breached, warnings, and the
median and 90th percentile of each target's actual time, over a period of local days.

It reads the SLA report events (`services/sla/clocks`): `sla_met` and `sla_missed` carry
the time a target actually took, on its policy's clock (office hours when the policy
counts them); `sla_breach` and `sla_warning` are the sweep's marks.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import SLA_TARGETS, Queue, ReportEvent, SlaPolicy, User
from whaticket.models.report_event import SLA_KINDS
from whaticket.services.reports.period import in_period, period, period_json

E = ReportEvent

#: The counts of a row, then each target's median and p90 (seconds), in CSV order.
SLA_FIELDS = (
    "met",
    "breached",
    "at_risk",
    *(f"{target}_{stat}" for target in SLA_TARGETS for stat in ("median", "p90")),
)
#: The groupings of the report and the event column each reads.
_SCOPES = {"policies": E.sla_policy_id, "queues": E.queue_id, "agents": E.user_id}
_NAMED = {"policies": SlaPolicy, "queues": Queue, "agents": User}
_NONE = {"policies": "Deleted policy", "queues": "No queue", "agents": "No agent"}


def p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank (a value that occurred)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


class _Bucket:
    """The counts and actual times of one row."""

    def __init__(self) -> None:
        self.counts = {"met": 0, "breached": 0, "at_risk": 0}
        self.times: dict[str, list[float]] = defaultdict(list)

    def add(self, kind: str, target: str, seconds: float | None) -> None:
        if kind == "sla_met":
            self.counts["met"] += 1
        elif kind == "sla_breach":
            self.counts["breached"] += 1
        elif kind == "sla_warning":
            self.counts["at_risk"] += 1
        if kind in ("sla_met", "sla_missed") and seconds is not None:
            self.times[target].append(seconds)

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counts)
        for target in SLA_TARGETS:
            values = self.times.get(target, [])
            out[f"{target}_median"] = statistics.median(values) if values else None
            out[f"{target}_p90"] = p90(values)
        return out


def sla_report(
    company_id: int, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    """`{from, to, timezone, total, policies, queues, agents}`: each row `{key, name,
    met, breached, atRisk, <target>Median, <target>P90}` (seconds)."""
    p = period(company_id, date_from, date_to)
    stmt = sa.select(
        E.kind, E.sla_target, E.sla_policy_id, E.queue_id, E.user_id, E.value, E.business_value
    ).where(E.company_id == company_id, E.kind.in_(SLA_KINDS), *in_period(p))
    events = db.session.execute(stmt).all()
    business = dict(
        db.session.execute(
            sa.select(SlaPolicy.id, SlaPolicy.business_hours).where(
                SlaPolicy.company_id == company_id
            )
        ).all()
    )
    total = _Bucket()
    buckets: dict[str, dict[int | None, _Bucket]] = {scope: {} for scope in _SCOPES}
    for kind, target, policy_id, queue_id, user_id, value, business_value in events:
        seconds = business_value if business.get(policy_id) else value
        total.add(kind, target, seconds)
        keys = {"policies": policy_id, "queues": queue_id, "agents": user_id}
        for scope, key in keys.items():
            buckets[scope].setdefault(key, _Bucket()).add(kind, target, seconds)
    out: dict[str, Any] = {**period_json(p), "total": total.row()}
    for scope, rows in buckets.items():
        names = _names(company_id, scope, [k for k in rows if k is not None])
        lines = [
            {"key": key, "name": _name(scope, key, names), **bucket.row()}
            for key, bucket in rows.items()
        ]
        lines.sort(key=lambda line: (line["key"] is None, line["name"].lower(), line["key"] or 0))
        out[scope] = lines
    return out


def _names(company_id: int, scope: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    model = _NAMED[scope]
    stmt = sa.select(model.id, model.name).where(model.id.in_(ids), model.company_id == company_id)
    return dict(db.session.execute(stmt).all())


def _name(scope: str, key: int | None, names: dict[int, str]) -> str:
    if key is None:
        return _NONE[scope]
    return names.get(key, f"#{key}")
