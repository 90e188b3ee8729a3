"""Scheduled message sends: at sendAt, by the sweep, exactly once, re-armed, failures, media."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import schedules as schedule_jobs
from whaticket.jobs.periodic import PERIODIC_JOBS
from whaticket.models import Message, Schedule, Ticket, Whatsapp
from whaticket.services.campaigns import schedule_delivery
from whaticket.services.connections import fake_whatsapp as fake

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _no_fake_acks(app):
    """No automatic fake acks: only the jobs under test are waiting on the backend."""
    app.config["FAKE_GATEWAY_AUTO_ACKS"] = ""


@pytest.fixture
def conn(company) -> Whatsapp:
    """The company's default connection, connected."""
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    fake.clear_outbox(conn.id)
    return conn


@pytest.fixture
def contact(company):
    return factories.ContactFactory(company=company, name="Maria", number="5511999990001")


def _backend():
    return jobs.get_backend()


def _create(client, prefix, auth, user, contact, minutes: float = 30, **extra) -> dict:
    """POST /schedules; returns the answer (the send is armed for sendAt)."""
    send_at = (utcnow() + timedelta(minutes=minutes)).isoformat()
    resp = client.post(
        f"{prefix}/schedules",
        json={
            "body": "Olá {{name}}, sua consulta é amanhã.",
            "sendAt": send_at,
            "contactId": contact.id,
            **extra,
        },
        headers=auth(user),
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _overdue(user, contact, **over) -> Schedule:
    """A PENDENTE schedule already past its time, with no job armed (a lost job)."""
    record = Schedule(
        company_id=user.company_id,
        body=over.pop("body", "Lembrete: {{name}}"),
        send_at=over.pop("send_at", utcnow() - timedelta(minutes=1)),
        status="PENDENTE",
        contact_id=contact.id,
        user_id=user.id,
        **over,
    )
    db.session.add(record)
    db.session.commit()
    return record


def _reload(schedule_id: int) -> Schedule:
    db.session.expire_all()
    return db.session.get(Schedule, schedule_id)


def _at(body: dict) -> datetime:
    return datetime.fromisoformat(body["sendAt"].replace("Z", "+00:00"))


def _texts(conn_id: int) -> list[str]:
    return [e["body"] for e in fake.read_outbox(conn_id)]


def _schedule_messages() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Message).where(Message.origin == "schedule")))


# -- the send at sendAt ---------------------------------------------------------------


def test_sent_at_send_at_into_a_closed_new_ticket(
    client, prefix, auth, agent, contact, conn, socket_client
):
    body = _create(client, prefix, auth, agent, contact)
    sock = socket_client(agent)
    sock.get_received()
    send_at = _at(body)

    assert _backend().run_due(send_at - timedelta(seconds=1)) == 0
    assert _reload(body["id"]).status == "PENDENTE" and _texts(conn.id) == []

    assert _backend().run_due(send_at) == 1
    row = _reload(body["id"])
    assert row.status == "ENVIADA" and row.sent_at is not None and row.error is None
    assert _texts(conn.id) == ["Olá Maria, sua consulta é amanhã."]
    [message] = _schedule_messages()
    assert row.message_id == message.id and message.from_me and message.ack == 2
    assert message.body == "Olá Maria, sua consulta é amanhã."
    ticket = db.session.get(Ticket, message.ticket_id)
    # Recorded in the contact's history without leaving an open conversation behind.
    assert ticket.contact_id == contact.id and ticket.whatsapp_id == conn.id
    assert ticket.status == "closed" and row.ticket_id == ticket.id

    name = f"company{agent.company_id}-schedule"
    statuses = [
        e["args"][0]["schedule"]["status"] for e in sock.get_received() if e["name"] == name
    ]
    assert statuses == ["AGENDADA", "ENVIADA"]


def test_an_existing_ticket_is_reused_and_keeps_its_status(
    client, prefix, auth, admin, contact, conn
):
    ticket = factories.TicketFactory(
        company=admin.company, contact=contact, whatsapp=conn, status="open", user_id=admin.id
    )
    body = _create(client, prefix, auth, admin, contact)
    _backend().run_due(_at(body))
    [message] = _schedule_messages()
    assert message.ticket_id == ticket.id
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "open"
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_the_schedules_connection_wins_then_the_tickets(client, prefix, auth, admin, contact, conn):
    chosen = factories.WhatsappFactory(company=admin.company, provider="fake", status="CONNECTED")
    via_ticket = factories.WhatsappFactory(
        company=admin.company, provider="fake", status="CONNECTED"
    )
    ticket = factories.TicketFactory(company=admin.company, contact=contact, whatsapp=via_ticket)
    for c in (chosen, via_ticket):
        fake.clear_outbox(c.id)
    first = _create(client, prefix, auth, admin, contact, whatsappId=chosen.id)
    second = _create(client, prefix, auth, admin, contact, minutes=31, ticketId=ticket.id)
    _backend().run_due(_at(second))
    assert len(_texts(chosen.id)) == 1 and len(_texts(via_ticket.id)) == 1
    assert _texts(conn.id) == []
    assert _reload(first["id"]).whatsapp_id == chosen.id
    assert _reload(second["id"]).ticket_id == ticket.id


def test_media_is_sent_with_the_body_as_caption(client, prefix, auth, agent, contact, conn):
    body = _create(client, prefix, auth, agent, contact)
    resp = client.post(
        f"{prefix}/schedules/{body['id']}/media-upload",
        data={"file": (io.BytesIO(PNG), "boleto.png")},
        headers=auth(agent),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    _backend().run_due(_at(body))
    [entry] = fake.read_outbox(conn.id)
    assert entry["type"] == "image" and entry["body"] == "Olá Maria, sua consulta é amanhã."
    assert entry["filename"] == "boleto.png"
    [message] = _schedule_messages()
    assert message.media_type == "image" and message.media_name == "boleto.png"
    assert _reload(body["id"]).status == "ENVIADA"


# -- safety net and exactly once --------------------------------------------------------


def test_the_sweep_sends_overdue_schedules_once(admin, contact, conn):
    record = _overdue(admin, contact)
    future = _overdue(admin, contact, send_at=utcnow() + timedelta(hours=1))
    assert schedule_jobs.send_due_schedules(utcnow()) == 1
    assert schedule_jobs.send_due_schedules(utcnow()) == 0
    assert _reload(record.id).status == "ENVIADA"
    assert _reload(future.id).status == "PENDENTE"
    assert _texts(conn.id) == ["Lembrete: Maria"]


def test_job_and_sweep_together_send_once(client, prefix, auth, agent, contact, conn):
    first = _create(client, prefix, auth, agent, contact)
    second = _create(client, prefix, auth, agent, contact, minutes=31)
    # The sweep gets the first one before its job fires; the job finds it taken.
    assert schedule_jobs.send_due_schedules(_at(first)) == 1
    # The job gets the second one first; the sweep finds nothing left.
    assert _backend().run_due(_at(second)) == 2
    assert schedule_jobs.send_due_schedules(_at(second) + timedelta(minutes=1)) == 0
    assert len(_texts(conn.id)) == 2 and len(_schedule_messages()) == 2
    assert {_reload(first["id"]).status, _reload(second["id"]).status} == {"ENVIADA"}


def test_claim_is_atomic(admin, contact, conn):
    record = _overdue(admin, contact)
    assert schedule_delivery.claim(record.id, now=utcnow()) is True
    dbmod.commit()
    assert schedule_delivery.claim(record.id, now=utcnow()) is False
    armed_for = _reload(record.id).send_at
    assert schedule_delivery.claim(record.id, armed_for=armed_for) is False
    dbmod.rollback()
    # A second run of the same job does nothing either.
    assert schedule_jobs.send_schedule(record.id, armed_for.isoformat()) == "skipped"
    assert _texts(conn.id) == []


def test_a_rearmed_schedules_old_job_is_a_no_op(client, prefix, auth, agent, contact, conn):
    body = _create(client, prefix, auth, agent, contact)
    old_at = _at(body)
    new_at = (old_at + timedelta(hours=1)).isoformat()
    resp = client.put(
        f"{prefix}/schedules/{body['id']}", json={"sendAt": new_at}, headers=auth(agent)
    )
    assert resp.status_code == 200
    assert _backend().run_due(old_at) == 1  # the old job ran...
    assert _reload(body["id"]).status == "PENDENTE" and _texts(conn.id) == []  # ...and did nothing
    assert _backend().run_due(datetime.fromisoformat(new_at)) == 1
    assert _reload(body["id"]).status == "ENVIADA" and len(_texts(conn.id)) == 1


def test_a_deleted_schedule_is_not_sent(client, prefix, auth, agent, contact, conn):
    body = _create(client, prefix, auth, agent, contact)
    assert client.delete(f"{prefix}/schedules/{body['id']}", headers=auth(agent)).status_code == 200
    _backend().run_due(_at(body))
    assert _texts(conn.id) == [] and _schedule_messages() == []


# -- failures -------------------------------------------------------------------------


def test_a_refused_number_is_erro_with_the_failed_message_kept(
    client, prefix, auth, agent, company, conn
):
    refused = factories.ContactFactory(company=company, number="000123456789")
    body = _create(client, prefix, auth, agent, refused)
    _backend().run_due(_at(body))
    row = _reload(body["id"])
    assert row.status == "ERRO" and "refuses" in row.error and row.sent_at is None
    [message] = _schedule_messages()
    assert message.ack == 0 and row.message_id == message.id
    assert _backend().scheduled == []  # not retried: it would be refused again


def test_without_a_connection_it_is_erro(client, prefix, auth, agent, contact):
    body = _create(client, prefix, auth, agent, contact)
    _backend().run_due(_at(body))
    row = _reload(body["id"])
    assert row.status == "ERRO" and row.error == "ERR_NO_DEF_WAPP_FOUND"


def test_retryable_failures_retry_with_backoff_then_erro(
    client, prefix, auth, agent, contact, conn
):
    conn.status = "DISCONNECTED"
    db.session.commit()
    body = _create(client, prefix, auth, agent, contact)
    armed_for = _reload(body["id"]).send_at
    # Run the armed job as the worker would at sendAt (the clock stays now for its retries).
    _backend().scheduled.clear()
    assert schedule_jobs.send_schedule(body["id"], armed_for.isoformat()) == "retry"
    for attempt, delay in enumerate(schedule_jobs.BACKOFF, start=2):
        row = _reload(body["id"])
        assert row.status == "AGENDADA" and "DISCONNECTED" in row.error
        [pending] = _backend().scheduled
        assert pending.args == (body["id"], armed_for.isoformat(), attempt)
        assert _backend().run_due(utcnow() + timedelta(seconds=delay - 5)) == 0
        assert _backend().run_due(utcnow() + timedelta(seconds=delay + 1)) == 1
    row = _reload(body["id"])
    assert row.status == "ERRO" and "DISCONNECTED" in row.error and _backend().scheduled == []
    # The retried attempts leave nothing behind; the last one's failed row is the history.
    assert len(_schedule_messages()) == 1 and _texts(conn.id) == []


def test_a_retry_succeeds_once_the_session_is_back(agent, contact, conn):
    conn.status = "DISCONNECTED"
    db.session.commit()
    record = _overdue(agent, contact)
    assert schedule_jobs.send_due_schedules(utcnow()) == 0
    assert _reload(record.id).status == "AGENDADA"
    db.session.get(Whatsapp, conn.id).status = "CONNECTED"
    db.session.commit()
    # The sweep leaves an AGENDADA schedule to its own retry.
    assert schedule_jobs.send_due_schedules(utcnow() + timedelta(hours=1)) == 0
    assert _texts(conn.id) == []
    assert _backend().run_due(utcnow() + timedelta(seconds=schedule_jobs.BACKOFF[0] + 1)) == 1
    row = _reload(record.id)
    assert row.status == "ENVIADA" and row.error is None
    assert _texts(conn.id) == ["Lembrete: Maria"] and len(_schedule_messages()) == 1


def test_the_sweep_runs_every_30_seconds():
    by_func = {job.func: job.interval for job in PERIODIC_JOBS}
    assert by_func[schedule_jobs.send_due_schedules] == 30
