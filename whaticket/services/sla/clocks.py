"""An episode's SLA clocks: its policy, each target's due and warning moments, settling.

Targets: first response (from the episode's first customer message to the first agent
reply), next response (each later customer message awaiting a reply, to the reply) and
resolution (from the episode's start to its close). Due times count office hours (the
company's schedule, zone and closed dates) when the policy says so. Warnings and breaches
are marked once with conditional UPDATEs (`mark`): the sweep and a late reply may race.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import SLA_TARGETS, Company, SlaPolicy, Ticket, TicketTracking
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit
from whaticket.schemas.fields import timestamp
from whaticket.services.reports import events as report_events
from whaticket.utils.office_hours import (
    DEFAULT_TZ,
    business_deadline,
    business_seconds,
    closed_days,
    zone_of,
)


@dataclass(frozen=True)
class Hours:
    """A company's office hours as the arithmetic needs them."""

    schedules: list[dict[str, Any]] = field(default_factory=list)
    tz: str = DEFAULT_TZ
    closed: tuple[date, ...] = ()


def hours_of(company_id: int) -> Hours:
    """The company's schedule, zone and closed dates."""
    company = db.session.get(Company, company_id)
    if company is None:
        return Hours()
    return Hours(
        list(company.schedules or []),
        zone_of(company.timezone).key,
        tuple(closed_days(company.closed_dates)),
    )


def deadline(
    policy: SlaPolicy, hours: Hours, start: datetime, minutes: int | None, share: float = 1.0
) -> datetime | None:
    """`share` of `minutes` after `start`, in office hours or on the wall clock."""
    if minutes is None or start is None:
        return None
    seconds = minutes * 60 * share
    if policy.business_hours:
        return business_deadline(hours.schedules, start, seconds, hours.tz, hours.closed)
    return start + timedelta(seconds=seconds)


def elapsed(policy: SlaPolicy | None, hours: Hours, start: datetime, end: datetime) -> float:
    """Seconds from start to end on the policy's clock."""
    if policy is not None and policy.business_hours:
        return business_seconds(hours.schedules, start, end, hours.tz, hours.closed)
    return max((end - start).total_seconds(), 0.0)


def _minutes(policy: SlaPolicy, target: str) -> int | None:
    return getattr(policy, f"{target}_minutes")


def _first_started(tracking: TicketTracking) -> datetime | None:
    # The first-response clock starts at the episode's first customer message; the reply
    # clock of reports (awaiting_since) holds it while no agent has answered.
    return tracking.awaiting_since or tracking.queued_at


def pending(tracking: TicketTracking, target: str) -> bool:
    """Whether the target's clock runs (due set, not reached, episode open)."""
    if tracking.finished_at is not None or tracking.sla_policy_id is None:
        return False
    if getattr(tracking, f"{target}_due_at") is None:
        return False
    if target == "first_response":
        return tracking.first_response_at is None
    if target == "next_response":
        return tracking.next_response_since is not None
    return True


def _plan(tracking: TicketTracking, policy: SlaPolicy, hours: Hours, target: str) -> None:
    """Set a running target's due and warning moments from its start (a reached target
    keeps the ones it was measured against; a response clock not started has none)."""
    if target == "first_response":
        if tracking.first_response_at is not None or tracking.first_response_due_at is None:
            return
        start = _first_started(tracking)
    elif target == "next_response":
        start = tracking.next_response_since
    else:
        start = tracking.created_at or tracking.queued_at
    minutes = _minutes(policy, target)
    due = deadline(policy, hours, start, minutes) if start else None
    warn = deadline(policy, hours, start, minutes, policy.warning_fraction) if start else None
    setattr(tracking, f"{target}_due_at", due)
    setattr(tracking, f"{target}_warn_at", warn)


def refresh(tracking: TicketTracking, *, closing: bool = False) -> None:
    """The episode's status and its next moment to check, from its marks (`closing`: the
    final status, nothing left to check)."""
    if tracking.sla_policy_id is None:
        tracking.sla_status, tracking.sla_check_at = None, None
        return
    breached = tracking.sla_status == "breached" or any(
        getattr(tracking, f"{t}_breached_at") is not None for t in SLA_TARGETS
    )
    moments: list[datetime] = []
    at_risk = False
    for target in SLA_TARGETS:
        if not pending(tracking, target):
            continue
        warned = getattr(tracking, f"{target}_warned_at")
        at_risk = at_risk or warned is not None
        if warned is None and getattr(tracking, f"{target}_warn_at") is not None:
            moments.append(getattr(tracking, f"{target}_warn_at"))
        if getattr(tracking, f"{target}_breached_at") is None:
            moments.append(getattr(tracking, f"{target}_due_at"))
    if closing or tracking.finished_at is not None:
        tracking.sla_status = "breached" if breached else "met"
        tracking.sla_check_at = None
        return
    tracking.sla_status = "breached" if breached else ("at_risk" if at_risk else "ok")
    tracking.sla_check_at = min(moments) if moments else None


def assign(ticket: Ticket, tracking: TicketTracking, policy: SlaPolicy | None) -> None:
    """Give the episode its policy (or none) and plan its clocks; the ticket shows it."""
    if policy is None:
        if tracking.sla_policy_id is not None:
            tracking.sla_policy, tracking.sla_policy_id = None, None
            refresh(tracking)
        ticket.sla_tracking_id = None
        return
    ticket.sla_tracking_id = tracking.id
    if tracking.sla_policy_id == policy.id:
        return
    tracking.sla_policy, tracking.sla_policy_id = policy, policy.id
    replan(tracking, policy, hours_of(tracking.company_id))


def replan(tracking: TicketTracking, policy: SlaPolicy, hours: Hours) -> None:
    """Every target's moments again (a new policy, changed targets or office hours)."""
    for target in SLA_TARGETS:
        _plan(tracking, policy, hours, target)
    refresh(tracking)


def customer_wrote(tracking: TicketTracking, at: datetime) -> None:
    """A customer message starts the first-response clock, or a next-response one."""
    policy = tracking.sla_policy
    if policy is None or tracking.finished_at is not None:
        return
    hours = hours_of(tracking.company_id)
    if tracking.first_response_at is None:
        if tracking.first_response_due_at is None and policy.first_response_minutes:
            tracking.first_response_due_at = deadline(
                policy, hours, at, policy.first_response_minutes
            )
            tracking.first_response_warn_at = deadline(
                policy, hours, at, policy.first_response_minutes, policy.warning_fraction
            )
    elif tracking.next_response_since is None and policy.next_response_minutes:
        tracking.next_response_since = at
        tracking.next_response_warned_at = None
        tracking.next_response_breached_at = None
        _plan(tracking, policy, hours, "next_response")
    refresh(tracking)


def agent_replied(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """An agent's reply settles the running response clock (before reports mark it)."""
    if tracking.sla_policy is None:
        return
    if pending(tracking, "first_response"):
        settle(ticket, tracking, "first_response", _first_started(tracking), at)
    elif pending(tracking, "next_response"):
        settle(ticket, tracking, "next_response", tracking.next_response_since, at)
        tracking.next_response_since = None
    refresh(tracking)


def resolved(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    """The episode closes: resolution settles; response clocks past due are breaches."""
    if tracking.sla_policy is None:
        return
    for target in ("first_response", "next_response"):
        due = getattr(tracking, f"{target}_due_at")
        if pending(tracking, target) and due is not None and due <= at:
            breach(ticket, tracking, target, at)
    if pending(tracking, "resolution"):
        settle(ticket, tracking, "resolution", tracking.created_at or tracking.queued_at, at)
    tracking.next_response_since = None
    refresh(tracking, closing=True)


def settle(
    ticket: Ticket, tracking: TicketTracking, target: str, start: datetime | None, at: datetime
) -> None:
    """The target was reached at `at`: met or missed (late: a breach, marked once)."""
    due = getattr(tracking, f"{target}_due_at")
    late = due is not None and at > due
    if late:
        breach(ticket, tracking, target, at)
    _record(ticket, tracking, "sla_missed" if late else "sla_met", target, at, start=start)


def mark(tracking: TicketTracking, target: str, what: str, at: datetime) -> bool:
    """Set `<target>_<what>_at` only if unset, in one conditional UPDATE: True for the one
    caller (process, thread) that set it. The object shows the mark either way."""
    attr = f"{target}_{what}_at"
    column = getattr(TicketTracking, attr)
    result = db.session.execute(
        sa.update(TicketTracking)
        .where(TicketTracking.id == tracking.id, column.is_(None))
        .values({attr: at}),
        execution_options={"synchronize_session": False},
    )
    won = result.rowcount == 1
    if won or getattr(tracking, attr) is None:
        set_committed_value(tracking, attr, at)
    return won


def warn(ticket: Ticket, tracking: TicketTracking, target: str, at: datetime) -> bool:
    """Mark the target's warning once: event, report event and socket frame."""
    if not mark(tracking, target, "warned", at):
        return False
    _record(ticket, tracking, "sla_warning", target, at)
    _emit(ticket, tracking, "warning", target, at)
    return True


def breach(ticket: Ticket, tracking: TicketTracking, target: str, at: datetime) -> bool:
    """Mark the target's breach once (and its warning, silently, if it never went out)."""
    if getattr(tracking, f"{target}_warned_at") is None:
        mark(tracking, target, "warned", at)
    if not mark(tracking, target, "breached", at):
        return False
    _record(ticket, tracking, "sla_breach", target, at)
    _emit(ticket, tracking, "breached", target, at)
    return True


def _record(
    ticket: Ticket,
    tracking: TicketTracking,
    kind: str,
    target: str,
    at: datetime,
    *,
    start: datetime | None = None,
) -> None:
    """A report event of the target, on the policy's clock (`value` is that time)."""
    event = report_events.build(
        ticket.company_id,
        kind,
        at,
        start=start,
        ticket_id=ticket.id,
        queue_id=ticket.queue_id,
        user_id=ticket.user_id or tracking.user_id,
        whatsapp_id=ticket.whatsapp_id,
    )
    event.sla_policy_id = tracking.sla_policy_id
    event.sla_target = target
    report_events.add_event(event)


def _emit(ticket: Ticket, tracking: TicketTracking, what: str, target: str, at: datetime) -> None:
    """`sla.warning` / `sla.breached` to the company and the assignee, after the commit."""
    policy = tracking.sla_policy
    data = {
        "action": what,
        "ticketId": ticket.id,
        "target": target,
        "policy": None if policy is None else {"id": policy.id, "name": policy.name},
        "dueAt": _iso(getattr(tracking, f"{target}_due_at")),
        "at": _iso(at),
        "userId": ticket.user_id,
        "queueId": ticket.queue_id,
    }
    to = [rooms.mainchannel(ticket.company_id)]
    if ticket.user_id:
        to.append(rooms.user_room(ticket.user_id))
    emit(f"sla.{what}", data, to)


def _iso(value: datetime | None) -> str | None:
    return timestamp(value) if value is not None else None


def recompute(company_id: int, policy_id: int | None = None) -> int:
    """Plan again the running episodes of a company (of one policy): targets or office
    hours changed. Marks already made stay. Returns how many episodes."""
    stmt = sa.select(TicketTracking).where(
        TicketTracking.company_id == company_id,
        TicketTracking.finished_at.is_(None),
        TicketTracking.sla_policy_id.is_not(None),
    )
    if policy_id is not None:
        stmt = stmt.where(TicketTracking.sla_policy_id == policy_id)
    hours = hours_of(company_id)
    count = 0
    for tracking in db.session.scalars(stmt):
        replan(tracking, tracking.sla_policy, hours)
        count += 1
    return count


def now() -> datetime:
    """The clock the SLA reads (frozen in tests)."""
    return utcnow()
