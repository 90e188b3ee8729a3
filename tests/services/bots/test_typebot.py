"""Typebot integration against a local Typebot stub: sessions, replies, triggers, keywords."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import typebot as stubs
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, QueueIntegration, Ticket, TicketTracking
from whaticket.services.bots import integrations, typebot_wire

typebot_stub = stubs.typebot_stub


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", complation_message="Até logo!"
    )


@pytest.fixture
def ticket(company, conn):
    contact = factories.ContactFactory(company=company, name="Maria", number="5511987654321")
    return factories.TicketFactory(company=company, whatsapp=conn, contact=contact)


@pytest.fixture
def bot(company, typebot_stub) -> QueueIntegration:
    record = QueueIntegration(
        company_id=company.id,
        type="typebot",
        name="Typebot",
        url_n8n=typebot_stub.url + "/",
        typebot_slug=stubs.SLUG,
        typebot_expires=30,
        typebot_delay_message=0,
        typebot_keyword_finish="#sair",
        typebot_keyword_restart="#reiniciar",
        typebot_restart_message="Vamos recomeçar!",
        typebot_unknown_message="Não entendi, {{name}}.",
    )
    db.session.add(record)
    db.session.commit()
    return record


def _say(ticket: Ticket, bot: QueueIntegration, body: str, now=None) -> bool:
    """An inbound message on the ticket, handed to the integration, then committed."""
    message = factories.MessageFactory(ticket=ticket, body=body, from_me=False)
    consumed = integrations.run(ticket, message, bot, now or utcnow())
    dbmod.commit()
    return consumed


def _bot_texts(ticket: Ticket) -> list[str]:
    rows = db.session.scalars(
        sa.select(Message)
        .where(Message.ticket_id == ticket.id, Message.origin == "bot")
        .order_by(Message.id)
    )
    return [m.body for m in rows]


GREETING = "Olá, *Maria*\nEscolha uma opção:"
CHOICES = "▶️ Vendas\n▶️ Suporte"


def test_start_then_continue_the_same_session(ticket, bot, typebot_stub):
    assert _say(ticket, bot, "oi") is True  # Typebot consumed the message
    start = typebot_stub.calls("/startChat")
    assert len(start) == 1 and start[0].path == f"/api/v1/typebots/{stubs.SLUG}/startChat"
    assert start[0].json["prefilledVariables"] == {"number": "5511987654321", "pushName": "Maria"}
    assert _bot_texts(ticket) == [GREETING, CHOICES]
    db.session.expire_all()
    assert ticket.typebot_session_id == "sess-1" and ticket.typebot_session_at is not None
    assert ticket.use_integration is True and ticket.integration_id == bot.id

    _say(ticket, bot, "Vendas")
    cont = typebot_stub.calls("/continueChat")
    assert [c.path for c in cont] == ["/api/v1/sessions/sess-1/continueChat"]
    assert cont[0].json["message"] == {"type": "text", "text": "Vendas"}
    assert len(typebot_stub.calls("/startChat")) == 1
    assert _bot_texts(ticket)[2:] == [
        "Ótimo *escolha* _mesmo_!\nVeja ~aqui~: site (https://example.com/p)"
    ]
    db.session.expire_all()
    assert ticket.typebot_session_id == "sess-1"


def test_an_idle_session_expires(ticket, bot, typebot_stub):
    t0 = utcnow()
    _say(ticket, bot, "oi", t0)
    _say(ticket, bot, "vendas", t0 + timedelta(minutes=10))
    assert len(typebot_stub.calls("/startChat")) == 1
    # 31 minutes after the last exchange (30 allowed): a new session starts.
    _say(ticket, bot, "voltei", t0 + timedelta(minutes=41))
    assert len(typebot_stub.calls("/startChat")) == 2
    db.session.expire_all()
    assert ticket.typebot_session_id == "sess-2"


def test_expires_zero_never_expires(ticket, bot, typebot_stub):
    bot.typebot_expires = 0
    db.session.commit()
    t0 = utcnow()
    _say(ticket, bot, "oi", t0)
    _say(ticket, bot, "vendas", t0 + timedelta(days=30))
    assert len(typebot_stub.calls("/startChat")) == 1
    assert len(typebot_stub.calls("/continueChat")) == 1


def test_an_answer_typebot_did_not_expect(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    _say(ticket, bot, "talvez")
    # No bubbles: the unknown message (rendered), then the same choices again.
    assert _bot_texts(ticket)[2:] == ["Não entendi, Maria.", CHOICES]
    _say(ticket, bot, "silencio")
    assert _bot_texts(ticket)[4:] == ["Não entendi, Maria."]


def test_a_session_typebot_forgot_starts_again(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    typebot_stub.sessions.clear()
    _say(ticket, bot, "vendas")
    assert len(typebot_stub.calls("/startChat")) == 2
    db.session.expire_all()
    assert ticket.typebot_session_id == "sess-2"
    assert _bot_texts(ticket)[2:] == [GREETING, CHOICES]


def test_pause_between_replies_paces_the_sends_without_sleeping(ticket, bot, typebot_stub, app):
    """The integration's delay spaces the replies' send times: nothing waits in a worker."""
    now = utcnow()
    app.config["FROZEN_NOW"] = now
    bot.typebot_delay_message = 700
    db.session.commit()
    _say(ticket, bot, "oi", now)
    rows = db.session.scalars(
        sa.select(Message)
        .where(Message.ticket_id == ticket.id, Message.origin == "bot")
        .order_by(Message.id)
    ).all()
    assert [m.body for m in rows] == [GREETING, CHOICES]
    assert rows[0].send_after is None and rows[0].provider_id  # the first goes at once
    assert rows[1].send_after == now + timedelta(milliseconds=700)
    assert rows[1].provider_id is None  # its delayed job has not fired yet
    # Not before its time (the first message's delivery acks may fire meanwhile)...
    jobs.get_backend().run_due(now + timedelta(milliseconds=600))
    db.session.expire_all()
    assert db.session.get(Message, rows[1].id).provider_id is None
    # ...and sent once it is due.
    app.config["FROZEN_NOW"] = now + timedelta(seconds=1)
    assert jobs.get_backend().run_due(now + timedelta(seconds=1)) >= 1
    db.session.expire_all()
    assert db.session.get(Message, rows[1].id).provider_id


def test_image_bubble_is_sent_as_a_file(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    _say(ticket, bot, "foto")
    sent = db.session.scalars(
        sa.select(Message).where(Message.ticket_id == ticket.id, Message.origin == "bot")
    ).all()[-1]
    assert sent.media_type == "image" and sent.media_path and sent.media_name == "pic.png"


def test_unreachable_media_falls_back_to_its_link(ticket, bot, typebot_stub):
    broken = f"{typebot_stub.url}/media/missing.png"
    typebot_stub.script["foto"] = [{"id": "x", "type": "image", "content": {"url": broken}}]
    _say(ticket, bot, "oi")
    _say(ticket, bot, "foto")
    assert _bot_texts(ticket)[-1] == broken


def test_queue_trigger_moves_the_ticket(ticket, bot, typebot_stub, company):
    queue = factories.QueueFactory(company=company)
    typebot_stub.trigger_text = f'#{{"queueId": {queue.id}}}'
    _say(ticket, bot, "oi")
    now = utcnow()
    _say(ticket, bot, "atendente", now)
    assert _bot_texts(ticket)[-1] == "Transferindo..."  # the trigger itself is not sent
    db.session.expire_all()
    assert ticket.queue_id == queue.id and ticket.status == "pending" and ticket.user_id is None
    assert ticket.use_integration is False and ticket.integration_id is None
    assert ticket.typebot_session_id is None and ticket.chatbot is False
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    )
    assert tracking.queue_id == queue.id and tracking.queued_at is not None


def test_queue_and_user_trigger_opens_the_ticket(ticket, bot, typebot_stub, company, agent):
    queue = factories.QueueFactory(company=company)
    typebot_stub.trigger_text = f'#{{"queueId": {queue.id}, "userId": {agent.id}}}'
    _say(ticket, bot, "oi")
    _say(ticket, bot, "atendente")
    db.session.expire_all()
    assert (ticket.queue_id, ticket.user_id, ticket.status) == (queue.id, agent.id, "open")
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    )
    assert tracking.user_id == agent.id and tracking.started_at is not None


def test_a_foreign_queue_in_a_trigger_is_ignored(ticket, bot, typebot_stub, other_company):
    theirs = factories.QueueFactory(company=other_company)
    typebot_stub.trigger_text = f'#{{"queueId": {theirs.id}}}'
    _say(ticket, bot, "oi")
    _say(ticket, bot, "atendente")
    db.session.expire_all()
    assert ticket.queue_id is None and ticket.use_integration is True
    assert ticket.typebot_session_id == "sess-1"


def test_stop_bot_trigger(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    _say(ticket, bot, "atendente")  # the stub's default trigger: {"stopBot": true}
    db.session.expire_all()
    assert ticket.use_integration is False and ticket.integration_id is None
    assert ticket.typebot_session_id is None and ticket.status == "pending"


def test_a_hash_text_that_is_not_json_is_sent(ticket, bot, typebot_stub):
    typebot_stub.trigger_text = "#1 em atendimento"
    _say(ticket, bot, "oi")
    _say(ticket, bot, "atendente")
    assert _bot_texts(ticket)[-2:] == ["Transferindo...", "#1 em atendimento"]


def test_restart_keyword(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    calls = len(typebot_stub.requests)
    _say(ticket, bot, "  #REINICIAR ")
    assert len(typebot_stub.requests) == calls  # Typebot is not called
    assert _bot_texts(ticket)[-1] == "Vamos recomeçar!"
    db.session.expire_all()
    assert ticket.typebot_session_id is None
    _say(ticket, bot, "oi de novo")
    assert len(typebot_stub.calls("/startChat")) == 2


def test_finish_keyword_closes_the_ticket(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    _say(ticket, bot, "#sair")
    assert _bot_texts(ticket)[-1] == "Até logo!"
    db.session.expire_all()
    assert ticket.status == "closed" and ticket.use_integration is False
    assert ticket.typebot_session_id is None
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    )
    assert tracking.finished_at is not None


def test_typebot_down_loses_nothing(ticket, bot, typebot_stub):
    _say(ticket, bot, "oi")
    typebot_stub.fail_next(1, 500)
    assert _say(ticket, bot, "vendas") is True  # no exception reaches the inbound flow
    db.session.expire_all()
    assert ticket.typebot_session_id is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Message.id)).where(
                Message.ticket_id == ticket.id, Message.from_me.is_(False)
            )
        )
        == 2
    )
    assert _bot_texts(ticket) == [GREETING, CHOICES]
    _say(ticket, bot, "oi")  # the next message starts afresh
    db.session.expire_all()
    assert ticket.typebot_session_id == "sess-2"


def test_typebot_unreachable(ticket, bot):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot.url_n8n = f"http://127.0.0.1:{port}"
    db.session.commit()
    _say(ticket, bot, "oi")
    db.session.expire_all()
    assert ticket.typebot_session_id is None and _bot_texts(ticket) == []


def test_rich_text_flattening():
    rich = [
        {"type": "p", "children": [{"text": "Hello "}, {"text": " world ", "bold": True}]},
        {"type": "p", "children": [{"text": "both", "bold": True, "italic": True}]},
        {"type": "p", "children": [{"text": "gone", "strikethrough": True}]},
        {
            "type": "p",
            "children": [
                {"type": "a", "url": "https://x.io", "children": [{"text": "https://x.io"}]},
                {"text": " and "},
                {"type": "a", "url": "https://y.io", "children": [{"text": "Y", "bold": True}]},
            ],
        },
        {
            "type": "ul",
            "children": [
                {"type": "li", "children": [{"type": "lic", "children": [{"text": "one"}]}]},
                {"type": "li", "children": [{"type": "lic", "children": [{"text": "two"}]}]},
            ],
        },
        {"type": "p", "children": [{"text": ""}]},
        {"type": "p", "children": [{"text": "end"}]},
    ]
    assert typebot_wire.flatten_rich_text(rich) == (
        "Hello  *world* \n_*both*_\n~gone~\n"
        "https://x.io and *Y* (https://y.io)\n• one\n• two\n\nend"
    )
    assert typebot_wire.bubble_text({"type": "markdown", "markdown": "**hi**"}) == "**hi**"
    assert typebot_wire.choice_list({"type": "text input"}) == ""
