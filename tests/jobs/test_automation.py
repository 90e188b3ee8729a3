"""Ticket automation: auto-close of inactive open tickets and auto-transfer of pending ones."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import automation as automation_jobs
from whaticket.jobs.periodic import PERIODIC_JOBS
from whaticket.models import Message, Ticket, TicketTracking, Whatsapp
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.tickets import automation, episodes

IDLE = utcnow() - timedelta(hours=2)


@pytest.fixture
def closing_conn(company) -> Whatsapp:
    """A connected fake connection closing tickets after 30 idle minutes."""
    conn = factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        expires_ticket=30,
        expires_inactive_message="Tchau {{name}}, encerrado por inatividade.",
    )
    fake.clear_outbox(conn.id)
    return conn


@pytest.fixture
def queue(company):
    """The transfer target queue."""
    return factories.QueueFactory(company=company)


@pytest.fixture
def transfer_conn(company, queue) -> Whatsapp:
    """A connected fake connection moving queue-less pending tickets after 10 minutes."""
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        time_to_transfer=10,
        transfer_queue_id=queue.id,
    )


def _ticket(company, conn: Whatsapp, updated_at: datetime, **kw) -> Ticket:
    """A ticket last touched at `updated_at`, with its open tracking row."""
    ticket = factories.TicketFactory(company=company, whatsapp=conn, **kw)
    episodes.open_tracking(ticket)
    ticket.updated_at = updated_at
    db.session.commit()
    return ticket


def _reload(ticket_id: int) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def _bot_messages(ticket_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            sa.select(Message).where(Message.ticket_id == ticket_id, Message.origin == "bot")
        )
    )


def _tracking(ticket_id: int) -> TicketTracking:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(TicketTracking)
        .where(TicketTracking.ticket_id == ticket_id)
        .order_by(TicketTracking.id.desc())
    ).first()


# -- auto-close -------------------------------------------------------------------


def test_auto_close_closes_an_idle_ticket_once_and_sends_the_text(company, admin, closing_conn):
    ticket = _ticket(
        company,
        closing_conn,
        IDLE,
        status="open",
        from_me=True,
        user_id=admin.id,
        unread_messages=2,
    )
    now = utcnow()
    assert automation.auto_close(now) == 1
    dbmod.commit()
    assert automation.auto_close(now + timedelta(hours=1)) == 0
    dbmod.commit()

    row = _reload(ticket.id)
    assert row.status == "closed" and row.unread_messages == 0
    sent = _bot_messages(ticket.id)
    expected = f"Tchau {ticket.contact.name}, encerrado por inatividade."
    assert [m.body for m in sent] == [expected]
    assert row.last_message == expected
    outbox = [e for e in fake.read_outbox(closing_conn.id) if e["type"] == "text"]
    assert [e["body"] for e in outbox] == [expected]
    tracking = _tracking(ticket.id)
    assert tracking.finished_at == now and tracking.user_id == admin.id


def test_auto_close_leaves_contact_last_recent_and_disabled(company, admin, closing_conn):
    contact_last = _ticket(company, closing_conn, IDLE, status="open", from_me=False)
    recent = _ticket(
        company, closing_conn, utcnow() - timedelta(minutes=5), status="open", from_me=True
    )
    pending = _ticket(company, closing_conn, IDLE, status="pending", from_me=True)
    group = _ticket(company, closing_conn, IDLE, status="open", from_me=True, is_group=True)
    off = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    disabled = _ticket(company, off, IDLE, status="open", from_me=True)

    assert automation.auto_close(utcnow()) == 0
    dbmod.commit()
    for ticket, status in (
        (contact_last, "open"),
        (recent, "open"),
        (pending, "pending"),
        (group, "open"),
        (disabled, "open"),
    ):
        assert _reload(ticket.id).status == status
        assert _bot_messages(ticket.id) == []
        assert _tracking(ticket.id).finished_at is None


def test_auto_close_without_text_sends_nothing(company):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", expires_ticket=15
    )
    ticket = _ticket(company, conn, IDLE, status="open", from_me=True)
    assert automation.auto_close(utcnow()) == 1
    dbmod.commit()
    assert _reload(ticket.id).status == "closed" and _bot_messages(ticket.id) == []


def test_auto_close_job_commits_and_emits_to_the_rooms(company, admin, closing_conn, socket_client):
    ticket = _ticket(company, closing_conn, IDLE, status="open", from_me=True, user_id=admin.id)
    sock = socket_client(admin)
    sock.emit("joinTickets", "open", callback=True)
    sock.emit("joinTickets", "closed", callback=True)
    sock.get_received()
    ticket_id, cid = ticket.id, company.id

    assert automation_jobs.auto_close_tickets() == 1
    db.session.remove()  # a fresh session sees only what the job committed
    assert db.session.get(Ticket, ticket_id).status == "closed"
    events = [e["args"][0] for e in sock.get_received() if e["name"] == f"company-{cid}-ticket"]
    assert {"action": "delete", "ticketId": ticket_id} in events
    updates = [e["ticket"] for e in events if e["action"] == "update"]
    assert updates and updates[-1]["id"] == ticket_id and updates[-1]["status"] == "closed"


# -- auto-transfer ----------------------------------------------------------------


def test_auto_transfer_moves_a_queueless_pending_ticket_once(company, queue, transfer_conn):
    ticket = _ticket(company, transfer_conn, IDLE, status="pending")
    now = utcnow()
    assert automation.auto_transfer(now) == 1
    dbmod.commit()
    assert automation.auto_transfer(now + timedelta(hours=1)) == 0
    dbmod.commit()
    assert _reload(ticket.id).queue_id == queue.id
    tracking = _tracking(ticket.id)
    assert tracking.queued_at == now and tracking.queue_id == queue.id


def test_auto_transfer_leaves_queued_recent_open_and_unconfigured(company, queue, transfer_conn):
    other_queue = factories.QueueFactory(company=company)
    queued = _ticket(company, transfer_conn, IDLE, status="pending", queue_id=other_queue.id)
    recent = _ticket(company, transfer_conn, utcnow() - timedelta(minutes=2), status="pending")
    opened = _ticket(company, transfer_conn, IDLE, status="open")
    no_queue_conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", time_to_transfer=10
    )
    no_target = _ticket(company, no_queue_conn, IDLE, status="pending")
    no_time_conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", transfer_queue_id=queue.id
    )
    no_time = _ticket(company, no_time_conn, IDLE, status="pending")

    assert automation.auto_transfer(utcnow()) == 0
    dbmod.commit()
    assert _reload(queued.id).queue_id == other_queue.id
    for ticket in (recent, opened, no_target, no_time):
        assert _reload(ticket.id).queue_id is None


def test_auto_transfer_job_emits_to_the_queue_room(
    company, admin, queue, transfer_conn, socket_client
):
    ticket = _ticket(company, transfer_conn, IDLE, status="pending")
    sock = socket_client(admin)
    sock.emit("joinTickets", "pending", callback=True)
    sock.get_received()
    ticket_id, cid, queue_id = ticket.id, company.id, queue.id

    assert automation_jobs.auto_transfer_tickets() == 1
    db.session.remove()  # a fresh session sees only what the job committed
    assert db.session.get(Ticket, ticket_id).queue_id == queue_id
    events = [e["args"][0] for e in sock.get_received() if e["name"] == f"company-{cid}-ticket"]
    updates = [e["ticket"] for e in events if e["action"] == "update"]
    assert updates and updates[-1]["id"] == ticket_id and updates[-1]["queueId"] == queue_id


def test_sweeps_are_scheduled_every_minute():
    by_func = {job.func: job.interval for job in PERIODIC_JOBS}
    assert by_func[automation_jobs.auto_close_tickets] == 60
    assert by_func[automation_jobs.auto_transfer_tickets] == 60
