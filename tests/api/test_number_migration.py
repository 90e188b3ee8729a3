"""POST /whatsapp/<id>/migrate: a banned or retired number's conversations move to another
connection; the old one stays read-only for its history."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as stubs
from tests.stubs.evolution import API_KEY
from tests.whatsapp.evolution.test_parser import SECRET
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import inbound as inbound_jobs
from whaticket.models import (
    Campaign,
    Contact,
    Message,
    Schedule,
    Ticket,
    TicketNote,
    Whatsapp,
)
from whaticket.utils.crypto import encrypt_json

evolution_stub = stubs.evolution_stub


def _count(model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


@pytest.fixture
def pair(company):
    """The banned number (with history) and the connection taking over."""
    old = factories.WhatsappFactory(
        company=company,
        name="Banido",
        provider="fake",
        is_default=True,
        token="old-number-token-1234567890",
    )
    new = factories.WhatsappFactory(company=company, name="Novo", provider="fake")
    db.session.commit()
    return old, new


def _migrate(client, prefix, auth, user, old_id, body):
    return client.post(f"{prefix}/whatsapp/{old_id}/migrate", json=body, headers=auth(user))


def test_migration_moves_tickets_contacts_campaigns_schedules_and_merges_by_rule(
    client, prefix, auth, admin, agent, company, pair
):
    old, new = pair
    only_old = factories.ContactFactory(company=company, whatsapp_id=old.id)
    both = factories.ContactFactory(company=company, whatsapp_id=old.id)
    t1 = factories.TicketFactory(company=company, contact=only_old, whatsapp=old, status="pending")
    t2_old = factories.TicketFactory(
        company=company, contact=both, whatsapp=old, status="open", user=agent, unread_messages=2
    )
    t2_new = factories.TicketFactory(
        company=company, contact=both, whatsapp=new, status="closed", unread_messages=1
    )
    now = utcnow()
    factories.MessageFactory(ticket=t1, body="a", created_at=now - timedelta(minutes=9))
    factories.MessageFactory(ticket=t2_new, body="b1", created_at=now - timedelta(minutes=8))
    factories.MessageFactory(ticket=t2_old, body="b2", created_at=now - timedelta(minutes=7))
    factories.MessageFactory(ticket=t2_new, body="b3", created_at=now - timedelta(minutes=6))
    running = Campaign(company_id=company.id, name="c1", status="PROGRAMADA", whatsapp_id=old.id)
    done = Campaign(company_id=company.id, name="c2", status="FINALIZADA", whatsapp_id=old.id)
    pending = Schedule(
        company_id=company.id, body="x", send_at=now, contact_id=both.id, whatsapp_id=old.id
    )
    db.session.add_all([running, done, pending])
    db.session.commit()
    t2_old_id = t2_old.id

    resp = _migrate(client, prefix, auth, admin, old.id, {"to": new.id})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "from": old.id,
        "to": new.id,
        "ticketsMoved": 1,
        "ticketsMerged": 1,
        "contacts": 2,
        "users": 0,
        "campaigns": 1,
        "schedules": 1,
    }
    db.session.expire_all()
    assert _count(Ticket, whatsapp_id=old.id) == 0
    assert db.session.get(Ticket, t2_old_id) is None
    merged = db.session.get(Ticket, t2_new.id)
    # The open ticket wins over the closed one, with its agent; unread counts add up.
    assert (merged.status, merged.user_id, merged.unread_messages) == ("open", agent.id, 3)
    bodies = db.session.scalars(
        sa.select(Message.body).where(Message.ticket_id == merged.id).order_by(Message.created_at)
    )
    assert list(bodies) == ["b1", "b2", "b3"]
    assert db.session.scalar(sa.select(TicketNote.note).where(TicketNote.ticket_id == merged.id))
    assert db.session.get(Ticket, t1.id).whatsapp_id == new.id
    assert _count(Contact, whatsapp_id=new.id) == 2
    assert db.session.get(Campaign, running.id).whatsapp_id == new.id
    assert db.session.get(Campaign, done.id).whatsapp_id == old.id  # history stays
    assert db.session.get(Schedule, pending.id).whatsapp_id == new.id
    gone = db.session.get(Whatsapp, old.id)
    assert gone.migrated_to_id == new.id and not gone.is_default
    assert db.session.get(Whatsapp, new.id).is_default

    # The old connection is read-only: no new ticket, no API send, no second migration.
    resp = client.post(
        f"{prefix}/tickets",
        json={"contactId": only_old.id, "status": "open", "whatsappId": old.id},
        headers=auth(admin),
    )
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_WAPP_MIGRATED"}
    resp = client.post(
        "/api/messages/send",  # fixed: never under API_PREFIX
        json={"number": only_old.number, "body": "hi"},
        headers={"Authorization": "Bearer old-number-token-1234567890"},
    )
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_WAPP_MIGRATED"}, (
        resp.get_data(as_text=True)
    )
    resp = _migrate(client, prefix, auth, admin, old.id, {"to": new.id})
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_WAPP_MIGRATED"}
    # Its history is still readable, in the ticket that took it over.
    resp = client.get(f"{prefix}/messages/{t1.id}", headers=auth(admin))
    assert resp.status_code == 200 and [m["body"] for m in resp.get_json()["messages"]] == ["a"]


def test_a_message_still_arriving_on_the_old_number_lands_in_the_new_ticket(
    client, prefix, auth, admin, company, pair
):
    old, new = pair
    contact = factories.ContactFactory(company=company, number="5511912345678")
    ticket = factories.TicketFactory(company=company, contact=contact, whatsapp=old)
    db.session.commit()
    assert _migrate(client, prefix, auth, admin, old.id, {"to": new.id}).status_code == 200
    resp = client.post(
        f"{prefix}/fake-gateway/{old.id}/inbound",
        json={"from": "5511912345678", "name": "X", "body": "still here", "id": "LATE-1"},
        headers=auth(admin),
    )
    assert resp.status_code == 202, resp.get_json()
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "LATE-1"))
    assert message.ticket_id == ticket.id and message.whatsapp_id == old.id
    assert db.session.get(Ticket, ticket.id).whatsapp_id == new.id
    assert _count(Ticket) == 1


def test_bad_input_is_400_and_changes_nothing(client, prefix, auth, admin, company, pair):
    old, _new = pair
    factories.TicketFactory(company=company, whatsapp=old)
    db.session.commit()
    for body, code in (
        ({}, "ERR_VALIDATION"),
        ({"to": "abc"}, "ERR_VALIDATION"),
        ({"to": 2**40}, "ERR_VALIDATION"),
        ({"to": old.id}, "ERR_MIGRATION_TARGET"),
    ):
        resp = _migrate(client, prefix, auth, admin, old.id, body)
        assert resp.status_code == 400 and resp.get_json()["error"] == code, body
    db.session.expire_all()
    assert _count(Ticket, whatsapp_id=old.id) == 1
    assert db.session.get(Whatsapp, old.id).migrated_to_id is None


def test_other_company_is_404_and_agents_403(
    client, prefix, auth, admin, agent, other_admin, other_company, pair
):
    old, new = pair
    theirs = factories.WhatsappFactory(company=other_company)
    db.session.commit()
    resp = _migrate(client, prefix, auth, other_admin, old.id, {"to": theirs.id})
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    resp = _migrate(client, prefix, auth, admin, old.id, {"to": theirs.id})
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    assert _migrate(client, prefix, auth, agent, old.id, {"to": new.id}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Whatsapp, old.id).migrated_to_id is None


def _evolution(company, stub, name: str, instance: str) -> Whatsapp:
    stub.instances[instance] = "open"
    return factories.WhatsappFactory(
        company=company,
        name=name,
        provider="evolution",
        status="CONNECTED",
        provider_account_id=instance,
        provider_config=encrypt_json(
            {"baseUrl": stub.url, "apiKey": API_KEY, "instance": instance, "webhookSecret": SECRET}
        ),
    )


@pytest.mark.real_db
@pytest.mark.shared_db
def test_migration_under_concurrent_inbound_traffic_loses_nothing(app, company, evolution_stub):
    """Webhooks keep arriving on both numbers while the migration runs: every message is
    stored once, and each contact ends with one ticket, on the new connection."""
    old = _evolution(company, evolution_stub, "Banido", "inst-old")
    new = _evolution(company, evolution_stub, "Novo", "inst-new")
    db.session.commit()
    company_id, old_id, new_id = company.id, old.id, new.id
    prefix = app.config["API_PREFIX"]
    people = [f"55119{n:08d}" for n in range(6)]
    per_thread = 24
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def traffic(conn_id: int, tag: str) -> None:
        try:
            web = app.test_client()
            start.wait(timeout=10)
            for n in range(per_thread):
                number = people[n % len(people)]
                data = {
                    "key": {
                        "remoteJid": f"{number}@s.whatsapp.net",
                        "fromMe": False,
                        "id": f"{tag}-{n}",
                    },
                    "pushName": "P",
                    "message": {"conversation": f"{tag} {n}"},
                    "messageType": "conversation",
                    "messageTimestamp": int(utcnow().timestamp()),
                }
                body = json.dumps({"event": "messages.upsert", "instance": "x", "data": data})
                resp = web.post(
                    f"{prefix}/webhooks/evolution/{conn_id}/{SECRET}",
                    data=body,
                    content_type="application/json",
                )
                assert resp.status_code == 200
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=traffic, args=(old_id, "OLD")),
        threading.Thread(target=traffic, args=(new_id, "NEW")),
    ]
    for t in threads:
        t.start()
    start.wait(timeout=10)
    from whaticket.jobs import number_migration

    with app.app_context():
        summary = number_migration.migrate(company_id, old_id, new_id)
        db.session.remove()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    # Whatever a drain left pending (its lease was ours for a moment) is applied now.
    inbound_jobs.drain(old_id)
    inbound_jobs.drain(new_id)

    db.session.expire_all()
    ids = list(db.session.scalars(sa.select(Message.provider_id)))
    assert len(ids) == 2 * per_thread and len(set(ids)) == len(ids)
    assert _count(Ticket, whatsapp_id=old_id) == 0
    owners = db.session.execute(sa.select(Ticket.contact_id, Ticket.whatsapp_id)).all()
    assert len(owners) == len(people) and {w for _, w in owners} == {new_id}
    assert summary["to"] == new_id
    assert db.session.get(Whatsapp, old_id).migrated_to_id == new_id
