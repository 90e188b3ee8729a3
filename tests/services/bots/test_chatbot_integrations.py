"""Integrations inside the inbound flow: Typebot on a connection or a queue, webhooks as a feed.

The conversations run through handle_inbound; Typebot and the webhook receiver are local
stub servers speaking their documented contracts.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.services.bots.test_chatbot import Chat
from tests.stubs import typebot as typebot_stubs
from tests.stubs import webhook_sink as sink_stubs
from whaticket.extensions import db
from whaticket.models import QueueIntegration
from whaticket.services.tickets import lifecycle as ticket_service

typebot_stub = typebot_stubs.typebot_stub
webhook_sink = sink_stubs.webhook_sink


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        greeting_message="Escolha um setor:",
    )


@pytest.fixture
def queues(company, conn):
    made = [
        factories.QueueFactory(company=company, name=name, order_queue=i, greeting_message=name)
        for i, name in enumerate(("Vendas", "Suporte"), start=1)
    ]
    conn.queues.extend(made)
    db.session.commit()
    return made


@pytest.fixture
def bot(company, typebot_stub) -> QueueIntegration:
    record = QueueIntegration(
        company_id=company.id,
        type="typebot",
        name="Typebot",
        url_n8n=typebot_stub.url,
        typebot_slug=typebot_stubs.SLUG,
        typebot_delay_message=0,
    )
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def hook(company, webhook_sink) -> QueueIntegration:
    record = QueueIntegration(
        company_id=company.id, type="webhook", name="CRM", url_n8n=webhook_sink.url
    )
    db.session.add(record)
    db.session.commit()
    return record


def test_connection_typebot_answers_first_then_hands_over_to_the_menu(
    company, conn, queues, bot, typebot_stub
):
    conn.integration_id = bot.id
    db.session.commit()
    chat = Chat(company, conn)

    first = chat.texts("Oi")
    assert first and first[0].startswith("Olá, *Maria Cliente*")
    assert len(typebot_stub.calls("startChat")) == 1
    assert chat.ticket.use_integration is True

    # The bot's `#{"stopBot": true}` trigger ends it; the next message gets the queue menu.
    assert chat.texts("atendente") == ["Transferindo..."]
    assert chat.ticket.use_integration is False
    [menu] = chat.texts("e agora?")
    assert "*[ 1 ]* - Vendas" in menu
    assert len(typebot_stub.calls("startChat")) == 1  # not started again in this episode


def test_queue_typebot_starts_when_the_queue_is_chosen(company, conn, queues, bot, typebot_stub):
    queues[1].integration_id = bot.id
    db.session.commit()
    chat = Chat(company, conn)
    chat.say("Oi")

    entered = chat.texts("2")
    assert entered[0] == "Suporte"  # the queue greeting, then the bot
    assert any(text.startswith("Olá, *Maria Cliente*") for text in entered[1:])
    ticket = chat.ticket
    assert ticket.queue_id == queues[1].id and ticket.use_integration and not ticket.chatbot

    chat.say("vendas")
    assert len(typebot_stub.calls("continueChat")) == 1

    # Once an agent accepts, the bot is out of the conversation.
    agent = factories.AdminFactory(company=company)
    ticket_service.update_ticket(
        company.id, ticket.id, {"status": "open", "user_id": agent.id}, agent
    )
    db.session.commit()
    assert chat.texts("vendas") == []
    assert len(typebot_stub.calls("continueChat")) == 1


def test_typebot_down_never_loses_the_message(company, conn, queues, bot, typebot_stub):
    conn.integration_id = bot.id
    db.session.commit()
    typebot_stub.fail_next(1, 500)
    chat = Chat(company, conn)
    chat.say("Oi")
    ticket = chat.ticket
    assert ticket.last_message == "Oi" and ticket.typebot_session_id is None


def test_queue_webhook_receives_every_customer_message(company, conn, queues, hook, webhook_sink):
    queues[0].integration_id = hook.id
    db.session.commit()
    chat = Chat(company, conn)
    chat.say("Oi")
    assert chat.texts("1") == ["Vendas"]  # the webhook is a feed: the flow goes on
    chat.say("quero um orçamento")
    agent = factories.AdminFactory(company=company)
    ticket_service.update_ticket(
        company.id, chat.ticket.id, {"status": "open", "user_id": agent.id}, agent
    )
    db.session.commit()
    chat.say("obrigada")

    bodies = [d.json()["message"]["body"] for d in webhook_sink.requests]
    assert bodies == ["quero um orçamento", "obrigada"]
    assert all(
        d.headers["X-Whaticket-Signature"].startswith("sha256=") for d in webhook_sink.requests
    )
