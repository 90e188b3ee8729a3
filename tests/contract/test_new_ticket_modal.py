"""New ticket modal: a contact that already has an active ticket is answered with that
ticket as JSON text in `error`, which the modal parses (`JSON.parse(err.response.data.error)`)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Ticket


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )


@pytest.fixture
def queue(company):
    return factories.QueueFactory(company=company, name="Vendas")


def _modal_body(user, contact_id: int, queue_id: int | None = None) -> dict:
    """What handleSaveTicket (NewTicketModal:156) posts: whatsappId is always a key."""
    return {
        "contactId": contact_id,
        "queueId": queue_id,
        "whatsappId": None,
        "userId": user.id,
        "status": "open",
    }


def _parsed(resp) -> dict:
    """NewTicketModal:167 — `JSON.parse(err.response.data.error)`."""
    assert resp.status_code == 409, resp.get_json()
    body = resp.get_json()
    assert body["code"] == "ERR_OTHER_OPEN_TICKET"
    return json.loads(body["error"])


def _tickets(company_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Ticket.id)).where(Ticket.company_id == company_id)
    )


def test_own_open_ticket_is_parsed_and_opened(client, prefix, auth, agent, conn, queue):
    """src/components/NewTicketModal/index.js:167-180: ticket.userId === user.id → onClose
    (ticket), and TicketsManagerTabs opens /tickets/${ticket.uuid}."""
    agent.queues = [queue]
    db.session.commit()
    mine = factories.TicketFactory(
        company=agent.company, whatsapp=conn, status="open", user=agent, queue=queue
    )
    resp = client.post(
        f"{prefix}/tickets", json=_modal_body(agent, mine.contact_id, queue.id), headers=auth(agent)
    )
    ticket = _parsed(resp)
    assert ticket["userId"] == agent.id and ticket["uuid"] == mine.uuid
    assert ticket["id"] == mine.id and ticket["status"] == "open"
    assert ticket["user"]["name"] == agent.name and ticket["queue"]["name"] == "Vendas"
    # The page the modal navigates to opens for this agent.
    shown = client.get(f"{prefix}/tickets/u/{ticket['uuid']}", headers=auth(agent))
    assert shown.status_code == 200 and shown.get_json()["id"] == mine.id
    assert _tickets(agent.company_id) == 1


def test_someone_elses_ticket_names_agent_and_queue(
    client, prefix, auth, admin, agent, conn, queue
):
    """NewTicketModal:169-172: another agent's ticket → user.name and queue.name are read
    (the alert that would show them is commented out; the modal stays open, quiet)."""
    theirs = factories.TicketFactory(
        company=admin.company, whatsapp=conn, status="open", user=agent, queue=queue
    )
    resp = client.post(
        f"{prefix}/tickets", json=_modal_body(admin, theirs.contact_id), headers=auth(admin)
    )
    ticket = _parsed(resp)
    assert ticket["userId"] == agent.id != admin.id
    assert ticket["user"] == {"id": agent.id, "name": agent.name}
    assert ticket["queue"] == {"id": queue.id, "name": "Vendas", "color": queue.color}
    # Nothing changed: the ticket stays the agent's.
    db.session.expire_all()
    assert db.session.get(Ticket, theirs.id).user_id == agent.id


def test_pending_ticket_without_agent_or_queue_still_has_objects(client, prefix, auth, admin, conn):
    """NewTicketModal:171-172 dereference ticket.user.name and ticket.queue.name whatever the
    ticket: a waiting ticket has placeholders, never null."""
    waiting = factories.TicketFactory(company=admin.company, whatsapp=conn, status="pending")
    resp = client.post(
        f"{prefix}/tickets", json=_modal_body(admin, waiting.contact_id), headers=auth(admin)
    )
    ticket = _parsed(resp)
    assert ticket["userId"] is None and ticket["queueId"] is None
    assert ticket["user"] == {"id": None, "name": ""}
    assert ticket["queue"] == {"id": None, "name": "", "color": ""}
    assert ticket["uuid"] == waiting.uuid and ticket["status"] == "pending"


def test_the_card_button_keeps_the_translated_code(client, prefix, auth, admin, conn):
    """src/components/VCardPreview/index.js:132 posts {contactId, queueId, userId, status}
    (no whatsappId) and toasts `error` through backendErrors: it gets the plain code."""
    busy = factories.TicketFactory(company=admin.company, whatsapp=conn, status="open", user=admin)
    body = {"contactId": busy.contact_id, "queueId": None, "userId": admin.id, "status": "open"}
    resp = client.post(f"{prefix}/tickets", json=body, headers=auth(admin))
    assert resp.status_code == 409
    assert resp.get_json() == {"error": "ERR_OTHER_OPEN_TICKET"}


def test_a_closed_ticket_is_reopened_not_refused(client, prefix, auth, admin, conn):
    """NewTicketModal:156 then reads data.uuid: a contact whose ticket is closed gets it
    back, open and assigned (one ticket per contact and connection)."""
    closed = factories.TicketFactory(company=admin.company, whatsapp=conn, status="closed")
    resp = client.post(
        f"{prefix}/tickets", json=_modal_body(admin, closed.contact_id), headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["uuid"] == closed.uuid and resp.get_json()["userId"] == admin.id


def test_other_errors_stay_plain_codes(client, prefix, auth, admin, conn, other_admin):
    """Only the conflict is JSON text: NewTicketModal cannot parse other errors either way,
    and every other screen toasts the code."""
    theirs = factories.TicketFactory(company=other_admin.company, status="open", user=other_admin)
    resp = client.post(
        f"{prefix}/tickets", json=_modal_body(admin, theirs.contact_id), headers=auth(admin)
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CONTACT_FOUND"}
    contact = factories.ContactFactory(company=admin.company)
    body = {**_modal_body(admin, contact.id), "whatsappId": theirs.whatsapp_id}
    resp = client.post(f"{prefix}/tickets", json=body, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"


def test_another_companys_ticket_is_never_revealed(client, prefix, auth, admin, conn, other_admin):
    """The same phone number with an open ticket in another company is another contact:
    ours gets its own ticket, and nothing of theirs appears in any answer."""
    theirs = factories.TicketFactory(company=other_admin.company, status="open", user=other_admin)
    ours = factories.ContactFactory(company=admin.company, number=theirs.contact.number)
    resp = client.post(f"{prefix}/tickets", json=_modal_body(admin, ours.id), headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    created = resp.get_json()
    assert created["contactId"] == ours.id and created["companyId"] == admin.company_id
    assert created["uuid"] != theirs.uuid
    # Asked again, the conflict names our ticket, never theirs.
    ticket = _parsed(
        client.post(f"{prefix}/tickets", json=_modal_body(admin, ours.id), headers=auth(admin))
    )
    assert ticket["id"] == created["id"] and ticket["uuid"] != theirs.uuid


def test_reopen_and_transfer_conflicts_stay_translated(client, prefix, auth, admin, conn):
    """src/components/TicketListItemCustom/index.js:305 (reopen) and
    TransferTicketModalCustom:150 toast `error` through backendErrors: a move onto a
    connection where the contact is already being served is the plain code."""
    other_conn = factories.WhatsappFactory(company=admin.company, provider="fake")
    closed = factories.TicketFactory(company=admin.company, whatsapp=conn, status="closed")
    factories.TicketFactory(
        company=admin.company, whatsapp=other_conn, contact=closed.contact, status="open"
    )
    resp = client.put(
        f"{prefix}/tickets/{closed.id}",
        json={"status": "open", "userId": admin.id, "whatsappId": other_conn.id},
        headers=auth(admin),
    )
    assert resp.status_code == 409
    assert resp.get_json() == {"error": "ERR_OTHER_OPEN_TICKET"}
