"""The SLA clocks follow the lifecycle: bus subscriptions (the core never imports this).

An episode takes its policy when it starts, and again when its queue is chosen or
changed (the bot's hand-off, a transfer: the rules may name queues; its clocks keep their
starts); customer messages start response clocks; an agent's reply stops them (order 50:
before reports mark the reply); the close settles resolution. Changed office hours plan
the running clocks again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from whaticket import bus, jobs
from whaticket.models import Ticket, TicketTracking
from whaticket.services.sla import clocks, policies
from whaticket.services.tickets import episodes


@bus.episode_started.subscribe
def _on_episode_started(ticket: Ticket, tracking: TicketTracking) -> None:
    clocks.assign(ticket, tracking, policies.match(ticket.company_id, ticket))


@bus.ticket_updated.subscribe
def _on_ticket_updated(
    ticket: Ticket, old_status: str | None, old_user_id: int | None, old_queue_id: int | None
) -> None:
    # A queue chosen (the bot's hand-off) or changed (a transfer): the rules may name it.
    if old_queue_id == ticket.queue_id or ticket.status == "closed":
        return
    tracking = episodes.current_tracking(ticket)
    if tracking is not None:
        clocks.assign(ticket, tracking, policies.match(ticket.company_id, ticket))


@bus.customer_wrote.subscribe(order=110)
def _on_customer_wrote(ticket: Ticket, message: Any, at: datetime) -> None:
    tracking = episodes.current_tracking(ticket)
    if tracking is not None and tracking.sla_policy_id is not None:
        clocks.customer_wrote(tracking, at)


@bus.we_wrote.subscribe(order=50)
def _on_we_wrote(ticket: Ticket, message: Any, at: datetime, by_agent: bool) -> None:
    if not by_agent or ticket.sla_tracking_id is None:
        return
    tracking = episodes.current_tracking(ticket)
    if tracking is not None and tracking.sla_policy_id is not None:
        clocks.agent_replied(ticket, tracking, at)


@bus.episode_resolved.subscribe
def _on_resolved(ticket: Ticket, tracking: TicketTracking, at: datetime) -> None:
    if tracking.sla_policy_id is not None:
        clocks.resolved(ticket, tracking, at)


@bus.office_hours_changed.subscribe
def _on_office_hours_changed(company_id: int) -> None:
    # Only a company that measures something has due times to plan again.
    if policies.has_policies(company_id):
        jobs.enqueue("sla.recompute", company_id, durable=True)
