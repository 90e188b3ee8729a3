"""Greeting on accept (sendGreetingAccepted) sent by the server, once per episode."""

from __future__ import annotations

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Message
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.team import settings as settings_service

#: What the unchanged SaaS frontend posts itself right after accepting a ticket.
FRONTEND_COPY = (
    "*Mensagem Automática:*\n{{ms}} *{{name}}*, meu nome é *%s* e agora vou prosseguir "
    "com seu atendimento!"
)


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn


@pytest.fixture
def ticket(company, conn):
    contact = factories.ContactFactory(company=company, name="Maria Cliente")
    return factories.TicketFactory(
        company=company, whatsapp=conn, contact=contact, status="pending"
    )


def _accept(client, prefix, auth, user, ticket):
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "open", "userId": user.id},
        headers=auth(user),
    )
    assert resp.status_code == 200, resp.get_json()


def _texts(conn):
    return [e["body"] for e in fake.read_outbox(conn.id) if e["type"] == "text"]


def test_accept_greets_in_the_agents_name(client, prefix, auth, company, conn, ticket, admin):
    settings_service.update_setting(company.id, "sendGreetingAccepted", "enabled")
    db.session.commit()
    _accept(client, prefix, auth, admin, ticket)
    [greeting] = _texts(conn)
    assert greeting.startswith("*Mensagem Automática:*\n")
    assert f"*Maria Cliente*, meu nome é *{admin.name}*" in greeting
    assert "{{" not in greeting


def test_the_frontends_copy_is_not_sent_again(client, prefix, auth, company, conn, ticket, admin):
    settings_service.update_setting(company.id, "sendGreetingAccepted", "enabled")
    db.session.commit()
    _accept(client, prefix, auth, admin, ticket)
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        json={"body": FRONTEND_COPY % admin.name},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    assert len(_texts(conn)) == 1
    assert db.session.query(Message).filter_by(ticket_id=ticket.id, from_me=True).count() == 1
    # An ordinary reply still goes out.
    client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "Como posso ajudar?"}, headers=auth(admin)
    )
    assert len(_texts(conn)) == 2


def test_no_greeting_when_disabled_or_for_a_transfer(
    client, prefix, auth, company, conn, ticket, admin, agent
):
    _accept(client, prefix, auth, admin, ticket)
    assert _texts(conn) == []
    settings_service.update_setting(company.id, "sendGreetingAccepted", "enabled")
    db.session.commit()
    # Handing an open ticket to another agent is a transfer, not an accept.
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"userId": agent.id}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert _texts(conn) == []


def test_once_per_episode(client, prefix, auth, company, conn, ticket, admin):
    settings_service.update_setting(company.id, "sendGreetingAccepted", "enabled")
    db.session.commit()
    _accept(client, prefix, auth, admin, ticket)
    client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "pending", "userId": None},
        headers=auth(admin),
    )
    _accept(client, prefix, auth, admin, ticket)
    assert len(_texts(conn)) == 1
