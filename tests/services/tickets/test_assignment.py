"""Automatic assignment over a scripted day, with a frozen clock and a company in São Paulo.

The queue "Suporte" assigns round robin, 2 open tickets per agent, inside Monday-Friday
08:00-18:00, and re-queues a ticket its agent leaves unanswered for 10 minutes. Customers
reach it through the bot (a connection with one queue), as in production; jobs run inline
right after each commit, as the worker would run them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.factories import PASSWORD
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import assignment as assignment_jobs
from whaticket.jobs import outbound as outbound_jobs
from whaticket.models import ReportEvent, Ticket, TicketAssignment
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.messages import replies as message_replies
from whaticket.services.team import settings as settings_service
from whaticket.services.team import users as user_service
from whaticket.services.tickets import lifecycle
from whaticket.whatsapp.base import InboundMessage

WEEKDAYS = [
    {"weekday": "", "weekdayEn": day, "startTime": "08:00", "endTime": "18:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
]
#: Monday 2026-11-30 09:00 in São Paulo (UTC-3).
MON_09 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    """The app's frozen time (FROZEN_NOW), moved by the test."""

    def __init__(self) -> None:
        self.now = MON_09

    def __call__(self) -> datetime:
        return self.now

    def at(self, delta: timedelta) -> None:
        self.now = MON_09 + delta


@pytest.fixture
def clock(app):
    clk = Clock()
    app.config["FROZEN_NOW"] = clk
    # Agents' sockets ping all day: staleness is tested on its own below.
    app.config["USER_STALE_ONLINE_SECONDS"] = 24 * 3600
    return clk


@pytest.fixture
def queue(company, clock):
    company.timezone = "America/Sao_Paulo"
    settings_service.update_setting(company.id, "scheduleType", "queue")
    queue = factories.QueueFactory(
        company=company,
        name="Suporte",
        assignment="round_robin",
        capacity=2,
        reassign_after=10,
        schedules=WEEKDAYS,
    )
    db.session.commit()
    return queue


@pytest.fixture
def conn(company, queue):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    conn.queues = [queue]
    db.session.commit()
    return conn


def _agent(company, queue, name: str, *, online: bool):
    user = factories.UserFactory(company=company, name=name)
    user.queues = [queue]
    db.session.commit()
    if online:
        user_service.touch_online(user)
        dbmod.commit()
    return user


_numbers = iter(range(1000, 9999))


def _customer(company, conn, clock, number: str | None = None) -> Ticket:
    """A customer writes; the bot puts the ticket in the connection's only queue."""
    number = number or f"55119{next(_numbers):08d}"
    event = InboundMessage(
        provider_id=f"IN-{number}-{clock.now.timestamp()}", chat_id=number, body="Oi"
    )
    message = handle_inbound(company.id, conn.id, event, now=clock.now)
    dbmod.commit()
    db.session.expire_all()
    return db.session.get(Ticket, message.ticket_id)


def _reload(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def _assignments(ticket: Ticket) -> list[TicketAssignment]:
    return list(
        db.session.scalars(
            sa.select(TicketAssignment)
            .where(TicketAssignment.ticket_id == ticket.id)
            .order_by(TicketAssignment.id)
        )
    )


def _events(kind: str) -> list[ReportEvent]:
    return list(
        db.session.scalars(
            sa.select(ReportEvent).where(ReportEvent.kind == kind).order_by(ReportEvent.id)
        )
    )


def test_a_day_of_round_robin_with_capacity_backlog_and_requeue(
    client, prefix, company, queue, conn, clock
):
    ana = _agent(company, queue, "Ana", online=True)
    bruno = _agent(company, queue, "Bruno", online=False)
    carla = _agent(company, queue, "Carla", online=True)
    # Carla already holds two tickets of the queue: she is at capacity.
    held = [
        factories.TicketFactory(
            company=company, whatsapp=conn, status="open", user=carla, queue=queue
        )
        for _ in range(2)
    ]
    db.session.commit()

    # 09:00 - 09:02: three customers. Bruno is offline and Carla full: Ana gets two, and
    # her capacity stops the third, which waits.
    first = _customer(company, conn, clock)
    clock.at(timedelta(minutes=1))
    second = _customer(company, conn, clock)
    clock.at(timedelta(minutes=2))
    third = _customer(company, conn, clock)
    first, second, third = _reload(first), _reload(second), _reload(third)
    assert (first.status, first.user_id) == ("open", ana.id)
    assert (second.status, second.user_id) == ("open", ana.id)
    assert (third.status, third.user_id, third.queue_id) == ("pending", None, queue.id)
    assert [a.reason for a in _assignments(first)] == ["queue_entered"]

    # 09:03: Bruno logs in: the backlog goes to him.
    clock.at(timedelta(minutes=3))
    resp = client.post(f"{prefix}/auth/login", json={"email": bruno.email, "password": PASSWORD})
    assert resp.status_code == 200
    third = _reload(third)
    assert (third.status, third.user_id) == ("open", bruno.id)
    assert [(a.user_id, a.reason) for a in _assignments(third)] == [(bruno.id, "agent_online")]

    # 09:04: Carla closes one of hers: her freed place takes the next customer.
    clock.at(timedelta(minutes=4))
    lifecycle.update_ticket(company.id, held[0].id, {"status": "closed"}, carla)
    dbmod.commit()
    clock.at(timedelta(minutes=5))
    fourth = _customer(company, conn, clock)
    # Round robin after Bruno: Carla (Ana is full).
    assert (fourth.status, fourth.user_id) == ("open", carla.id)

    # 09:06: Ana answers the second customer, not the first.
    clock.at(timedelta(minutes=6))
    message = message_replies.send_text(company.id, second.id, "Bom dia!", ana)
    dbmod.commit()
    outbound_jobs.deliver_now([message])

    # 09:12: over ten minutes after its assignment the first ticket has no answer: it goes back
    # to the queue and to the next agent with room who is not Ana (Bruno).
    clock.at(timedelta(minutes=12))
    outcome = assignment_jobs.sweep()
    assert outcome["requeued"] == 1
    first = _reload(first)
    assert (first.status, first.user_id) == ("open", bruno.id)
    assert [(a.user_id, a.reason, a.outcome) for a in _assignments(first)] == [
        (ana.id, "queue_entered", "requeued"),
        (bruno.id, "reassigned", None),
    ]
    # Answered in time: the second stays with Ana; its assignment is settled as answered.
    assert _reload(second).user_id == ana.id
    assert [a.outcome for a in _assignments(second)] == ["answered"]
    # A second sweep finds nothing more to do.
    assert assignment_jobs.sweep()["requeued"] == 0

    # Reports: one assignment event per assignment, one re-queue for Ana, and the waits.
    assigned = _events("assignment")
    assert len(assigned) == 5
    assert {(e.ticket_id, e.user_id) for e in assigned} >= {(first.id, bruno.id)}
    [requeue] = _events("requeue")
    assert (requeue.ticket_id, requeue.user_id, requeue.queue_id) == (first.id, ana.id, queue.id)
    assert len(_events("wait")) == 5

    # Never over capacity: every agent holds at most 2 open tickets of the queue.
    loads = db.session.execute(
        sa.select(Ticket.user_id, sa.func.count())
        .where(Ticket.queue_id == queue.id, Ticket.status == "open")
        .group_by(Ticket.user_id)
    ).all()
    assert all(count <= 2 for _user, count in loads), loads


def test_round_robin_takes_turns_and_least_busy_fills_the_emptiest(company, queue, conn, clock):
    agents = [_agent(company, queue, name, online=True) for name in ("A", "B", "C")]
    queue.capacity = 10
    db.session.commit()
    tickets = []
    for minute in range(4):
        clock.at(timedelta(minutes=minute))
        tickets.append(_customer(company, conn, clock))
    owners = [_reload(t).user_id for t in tickets]
    a, b, c = (agent.id for agent in agents)
    assert owners == [a, b, c, a]

    queue.assignment = "least_busy"
    db.session.commit()
    clock.at(timedelta(minutes=5))
    # A holds 2, B and C 1 each: B, then C; then all hold 2 and the pointer (after C)
    # breaks the tie: A. Then B has 2 against A's 3 and C's 2: B (after A in turn).
    more = [_customer(company, conn, clock) for _ in range(4)]
    assert [_reload(t).user_id for t in more] == [b, c, a, b]


def test_manual_queues_are_unchanged(company, queue, conn, clock):
    queue.assignment = "manual"
    db.session.commit()
    _agent(company, queue, "Ana", online=True)
    ticket = _customer(company, conn, clock)
    assert (ticket.status, ticket.user_id, ticket.queue_id) == ("pending", None, queue.id)
    assert assignment_jobs.sweep()["assigned"] == 0
    assert _reload(ticket).user_id is None
    assert db.session.scalar(sa.select(sa.func.count(TicketAssignment.id))) == 0


def test_out_of_hours_tickets_wait_for_the_morning(company, queue, conn, clock):
    ana = _agent(company, queue, "Ana", online=True)
    clock.at(timedelta(hours=10))  # Monday 19:00: the queue is closed
    ticket = _customer(company, conn, clock)
    assert (ticket.status, ticket.user_id) == ("pending", None)
    assert assignment_jobs.sweep()["assigned"] == 0
    clock.at(timedelta(hours=23))  # Tuesday 08:00: the sweep hands it over
    assert assignment_jobs.sweep()["assigned"] == 1
    assert _reload(ticket).user_id == ana.id
    assert [a.reason for a in _assignments(ticket)] == ["backlog"]


def test_stale_agents_and_agents_at_zero_capacity_get_nothing(app, company, queue, conn, clock):
    app.config["USER_STALE_ONLINE_SECONDS"] = 300
    ana = _agent(company, queue, "Ana", online=True)
    bruno = _agent(company, queue, "Bruno", online=True)
    db.session.execute(
        sa.text("UPDATE user_queues SET capacity = 0 WHERE user_id = :u"), {"u": bruno.id}
    )
    db.session.commit()
    clock.at(timedelta(minutes=6))  # Ana's (and Bruno's) last activity is 6 minutes old
    ticket = _customer(company, conn, clock)
    assert ticket.user_id is None
    user_service.touch_online(db.session.get(type(ana), ana.id))  # Ana's socket pings
    dbmod.commit()
    user_service.touch_online(db.session.get(type(bruno), bruno.id))
    dbmod.commit()
    assert _reload(ticket).user_id == ana.id  # Bruno's own capacity in the queue is 0


def test_transfer_and_return_to_pending_are_offered_again(company, queue, conn, clock):
    ana = _agent(company, queue, "Ana", online=True)
    other = factories.QueueFactory(company=company, name="Vendas")
    db.session.commit()
    ticket = factories.TicketFactory(company=company, whatsapp=conn, status="pending", queue=other)
    db.session.commit()
    admin = factories.AdminFactory(company=company)
    # An admin transfers it from a manual queue into Suporte: Ana gets it.
    lifecycle.update_ticket(company.id, ticket.id, {"queue_id": queue.id}, admin)
    dbmod.commit()
    assert _reload(ticket).user_id == ana.id
    # Ana returns it to pending: offered again (to Ana, the only one there).
    lifecycle.update_ticket(company.id, ticket.id, {"status": "pending", "user_id": None}, ana)
    dbmod.commit()
    assert [a.reason for a in _assignments(ticket)] == ["transferred", "returned"]
    assert _reload(ticket).user_id == ana.id
