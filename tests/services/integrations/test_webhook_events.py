"""Company webhooks hear the core: each domain event becomes one signed delivery per active
subscription that wants it, recorded with the change and sent only after its commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import webhook_receiver as receivers
from tests.webhooks import deliveries, subscribe
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Campaign, Message, WebhookDelivery
from whaticket.models.message import ACK_DELIVERED, ACK_READ, ACK_SENT
from whaticket.services.campaigns import claims
from whaticket.services.campaigns import report as campaign_report
from whaticket.services.connections import sessions
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.inbound import acks, provider_events
from whaticket.services.messages import history
from whaticket.services.tickets import episodes, ratings
from whaticket.services.tickets import events as ticket_events
from whaticket.whatsapp.base import AckUpdate, MessageEdited, SessionState

ENVELOPE = {"id", "type", "createdAt", "companyId", "data"}
receiver = receivers.receiver


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )


def _only(receiver, kind: str):
    """The one request of that event type, checked as a receiver checks it."""
    got = receiver.events(kind)
    assert len(got) == 1, [r.event for r in receiver.events()]
    request = got[0]
    assert request.verified, "the signature must verify with the subscription's secret"
    body = request.json()
    assert set(body) == ENVELOPE and body["type"] == kind
    uuid.UUID(body["id"])
    return body


# -- tickets, contacts and messages through the API --------------------------------------------


def test_an_inbound_message_tells_contact_ticket_and_message_once_each(
    client, prefix, auth, admin, company, conn, receiver
):
    subscribe(company.id, receiver)
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": "5511988887777", "name": "Ana", "body": "Oi, preciso de ajuda"},
        headers=auth(admin),
    )
    assert resp.status_code == 202, resp.get_json()
    contact = _only(receiver, "contact.created")["data"]["contact"]
    ticket = _only(receiver, "ticket.created")["data"]["ticket"]
    message = _only(receiver, "message.created")["data"]["message"]
    assert contact["number"] == "5511988887777" and contact["name"] == "Ana"
    assert ticket["contactId"] == contact["id"] and ticket["status"] == "pending"
    assert message["body"] == "Oi, preciso de ajuda" and message["ticketId"] == ticket["id"]
    # Created in that transaction: its updates are not news of their own.
    assert receiver.events("ticket.updated") == [] and receiver.events("contact.updated") == []
    assert {r.json()["companyId"] for r in receiver.events()} == {company.id}


def test_a_second_message_updates_the_ticket(client, prefix, auth, admin, company, conn, receiver):
    client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": "5511988887777", "body": "Oi"},
        headers=auth(admin),
    )
    subscribe(company.id, receiver, ["ticket.updated", "message.created"])
    client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": "5511988887777", "body": "Alguém?"},
        headers=auth(admin),
    )
    assert _only(receiver, "ticket.updated")["data"]["ticket"]["lastMessage"] == "Alguém?"
    assert _only(receiver, "message.created")["data"]["message"]["body"] == "Alguém?"


def test_accepting_a_ticket_is_an_update_a_status_change_and_an_assignment(
    client, prefix, auth, admin, company, conn, receiver
):
    ticket = factories.TicketFactory(company=company, whatsapp=conn, status="pending")
    subscribe(company.id, receiver)
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "open", "userId": admin.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    updated = _only(receiver, "ticket.updated")["data"]["ticket"]
    changed = _only(receiver, "ticket.status_changed")["data"]
    assigned = _only(receiver, "ticket.assigned")["data"]
    assert updated["status"] == "open" and updated["userId"] == admin.id
    assert changed["previousStatus"] == "pending" and changed["ticket"]["status"] == "open"
    assert assigned["previousUserId"] is None and assigned["ticket"]["userId"] == admin.id
    assert receiver.events("ticket.transferred") == []


def test_a_transfer_says_where_the_ticket_was(
    client, prefix, auth, admin, agent, company, conn, receiver
):
    queue = factories.QueueFactory(company=company)
    ticket = factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id
    )
    subscribe(company.id, receiver, ["ticket.transferred", "ticket.assigned"])
    client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"queueId": queue.id, "userId": agent.id},
        headers=auth(admin),
    )
    moved = _only(receiver, "ticket.transferred")["data"]
    assert moved["previousQueueId"] is None and moved["previousUserId"] == admin.id
    assert moved["ticket"]["queueId"] == queue.id and moved["ticket"]["userId"] == agent.id
    assert _only(receiver, "ticket.assigned")["data"]["previousUserId"] == admin.id


def test_a_ticket_opened_by_an_agent_is_created_only(
    client, prefix, auth, admin, company, conn, receiver
):
    contact = factories.ContactFactory(company=company)
    subscribe(company.id, receiver)
    resp = client.post(f"{prefix}/tickets", json={"contactId": contact.id}, headers=auth(admin))
    assert resp.status_code == 200
    created = _only(receiver, "ticket.created")["data"]["ticket"]
    assert created["status"] == "open" and created["userId"] == admin.id  # as committed
    assert {r.event for r in receiver.events()} == {"ticket.created"}


def test_contacts_created_and_updated_through_the_api(
    client, prefix, auth, agent, company, receiver
):
    subscribe(company.id, receiver)
    resp = client.post(
        f"{prefix}/contacts", json={"name": "Bia", "number": "11987654321"}, headers=auth(agent)
    )
    contact_id = resp.get_json()["id"]
    client.put(f"{prefix}/contacts/{contact_id}", json={"name": "Beatriz"}, headers=auth(agent))
    assert _only(receiver, "contact.created")["data"]["contact"]["number"] == "5511987654321"
    assert _only(receiver, "contact.updated")["data"]["contact"]["name"] == "Beatriz"


# -- messages: edits, deletions, receipts --------------------------------------------------


def test_edits_deletions_and_receipts(app, company, conn, receiver):
    ticket = factories.TicketFactory(company=company, whatsapp=conn, status="open")
    inbound = factories.MessageFactory(ticket=ticket, from_me=False, provider_id="IN-1")
    ours = factories.MessageFactory(ticket=ticket, from_me=True, provider_id="OUT-1", ack=ACK_SENT)
    dbmod.commit()
    subscribe(company.id, receiver, ["message.updated", "message.ack"])
    provider_events.apply(conn, MessageEdited(provider_id="IN-1", body="Corrigido"))
    dbmod.commit()
    history.mark_deleted(company.id, inbound.id)
    dbmod.commit()
    acks.apply_ack(company.id, conn.id, AckUpdate("OUT-1", ACK_DELIVERED))
    acks.apply_ack(company.id, conn.id, AckUpdate("OUT-1", ACK_READ))  # same transaction
    dbmod.commit()
    changes = [r.json()["data"] for r in receiver.events("message.updated")]
    assert [c["change"] for c in changes] == ["edited", "deleted"]
    assert changes[0]["message"]["body"] == "Corrigido" and changes[1]["message"]["isDeleted"]
    # Two receipts in one transaction: one event, the message as committed.
    assert _only(receiver, "message.ack")["data"]["message"]["ack"] == ACK_READ
    assert ours.id == receiver.events("message.ack")[0].json()["data"]["message"]["id"]


# -- connections, campaigns, ratings --------------------------------------------------------


def test_a_connection_status_change(company, conn, receiver):
    subscribe(company.id, receiver, ["connection.status_changed"])
    sessions.apply_state(company.id, conn.id, SessionState("DISCONNECTED"))
    dbmod.commit()
    sessions.apply_state(company.id, conn.id, SessionState("DISCONNECTED"))  # no change
    dbmod.commit()
    data = _only(receiver, "connection.status_changed")["data"]
    assert data["previousStatus"] == "CONNECTED" and data["connection"]["status"] == "DISCONNECTED"


def test_campaign_progress_and_finish(app, company, conn, receiver):
    app.config["CAMPAIGN_PROGRESS_EVERY"] = 0
    campaign = Campaign(
        company_id=company.id, name="Black Friday", status="EM_ANDAMENTO", whatsapp_id=conn.id
    )
    db.session.add(campaign)
    dbmod.commit()
    subscribe(company.id, receiver, ["campaign.progress", "campaign.finished"])
    campaign_report.emit_progress(campaign)
    dbmod.commit()
    assert claims.finish_if_done(campaign, datetime.now(UTC))
    dbmod.commit()
    progress = _only(receiver, "campaign.progress")["data"]
    finished = _only(receiver, "campaign.finished")["data"]
    assert progress["campaign"]["name"] == "Black Friday" and "sent" in progress["report"]
    assert finished["campaign"]["status"] == "FINALIZADA"


def test_a_rating_received(company, conn, admin, receiver):
    ticket = factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id
    )
    tracking = episodes.open_tracking(ticket)
    dbmod.commit()
    subscribe(company.id, receiver, ["rating.received", "ticket.status_changed"])
    assert ratings.apply_rating(ticket, tracking, "5")
    dbmod.commit()
    data = _only(receiver, "rating.received")["data"]
    assert data["rating"]["rate"] == 5 and data["rating"]["userId"] == admin.id
    assert data["ticket"]["id"] == ticket.id
    assert _only(receiver, "ticket.status_changed")["data"]["ticket"]["status"] == "closed"


# -- who gets what, and when -----------------------------------------------------------------


def test_nothing_is_written_or_sent_for_a_rolled_back_change(company, receiver):
    subscribe(company.id, receiver)
    contact_service.create_contact(company.id, {"name": "X", "number": "11912345678"})
    dbmod.rollback()
    assert deliveries() == [] and receiver.events() == []


def test_rows_are_written_with_the_change_and_sent_after_its_commit(app, company, receiver):
    subscribe(company.id, receiver, ["contact.created"])
    contact_service.create_contact(company.id, {"name": "X", "number": "11912345678"})
    db.session.flush()
    assert receiver.events() == []  # nothing leaves before the commit
    dbmod.commit()
    (row,) = deliveries()
    assert row.status == "succeeded" and row.event_type == "contact.created"
    assert receiver.events()[0].delivery == row.uuid


def test_each_subscription_gets_what_it_asked_for(
    client, prefix, auth, agent, company, other_company, receiver
):
    contacts_only = subscribe(company.id, receiver, ["contact.created"])
    everything = subscribe(company.id, receiver)
    off = subscribe(company.id, receiver, active=False)
    foreign = subscribe(other_company.id, receiver)
    receiver.secret = ""  # four subscriptions, four secrets: not checked here
    client.post(
        f"{prefix}/contacts", json={"name": "Bia", "number": "11987654321"}, headers=auth(agent)
    )
    rows = deliveries()
    assert sorted(r.subscription_id for r in rows) == sorted([contacts_only.id, everything.id])
    assert not db.session.scalar(
        sa.select(sa.func.count(WebhookDelivery.id)).where(
            WebhookDelivery.subscription_id.in_([off.id, foreign.id])
        )
    )
    # One event, one id; one delivery id per subscription.
    assert len({r.event_id for r in rows}) == 1 and len({r.uuid for r in rows}) == 2
    assert {r.delivery for r in receiver.events()} == {r.uuid for r in rows}
    assert all(r.payload == rows[0].payload for r in rows)


def test_ordered_subscriptions_key_ticket_events_by_ticket(company, conn, receiver):
    plain = subscribe(company.id, receiver, ["message.created", "contact.updated"])
    ordered = subscribe(company.id, receiver, ["message.created", "contact.updated"], ordered=True)
    ticket = factories.TicketFactory(company=company, whatsapp=conn)
    message = db.session.get(Message, factories.MessageFactory(ticket=ticket).id)
    ticket_events.emit_message_create(message, ticket)
    contact_service.update_contact(company.id, ticket.contact_id, {"name": "Outro nome"})
    dbmod.commit()
    keys = {(r.subscription_id, r.event_type): r.ordering_key for r in deliveries()}
    assert keys[(ordered.id, "message.created")] == f"ticket:{ticket.id}"
    assert keys[(plain.id, "message.created")] is None
    assert keys[(ordered.id, "contact.updated")] is None  # not about one ticket
