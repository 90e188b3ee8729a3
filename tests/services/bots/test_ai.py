"""AI prompts inside the inbound flow: a queue's or a connection's prompt answers the customer.

Conversations run through handle_inbound with the fake provider (tests/services/
test_chatbot.Chat); the model is a local stub speaking the OpenAI chat-completions contract.
The answer runs in a job after the inbound commit, which the tests run inline.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.services.bots.test_chatbot import Chat
from tests.stubs import openai as openai_stubs
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import ai as ai_jobs
from whaticket.models import Message, Prompt, Ticket, TicketTracking
from whaticket.services.bots import ai as ai_reply
from whaticket.services.bots import prompts as prompt_service
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.utils.crypto import encrypt_str

openai_stub = openai_stubs.openai_stub
HANDOFF = "Ação: Transferir para o setor de atendimento"


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", greeting_message="Escolha um setor:"
    )


@pytest.fixture
def humans(company):
    """The queue people work in: where the AI hands tickets over."""
    return factories.QueueFactory(company=company, name="Atendimento humano", order_queue=9)


def _prompt(company, stub, queue, **over) -> Prompt:
    values = {
        "name": "Assistente",
        "prompt": "Você é a assistente virtual da Pizzaria Exemplo.",
        "api_key_encrypted": encrypt_str(openai_stubs.API_KEY),
        "queue_id": queue.id,
        "max_messages": 10,
        "max_tokens": 200,
        "temperature": 0.5,
        "model": "gpt-4o-mini",
        "base_url": stub.url,
        "voice": "texto",
    }
    values.update(over)
    record = Prompt(company_id=company.id, **values)
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def ai_queue(company, conn, humans, openai_stub):
    """The connection's only queue ("Pedidos") is answered by the AI."""
    prompt = _prompt(company, openai_stub, humans)
    queue = factories.QueueFactory(company=company, name="Pedidos", prompt_id=prompt.id)
    conn.queues.append(queue)
    db.session.commit()
    return queue


def _turns(request) -> list[tuple[str, str]]:
    """The (role, content) pairs of a recorded request after the system message."""
    return [(m["role"], m["content"]) for m in request.json["messages"][1:]]


def _prompt_row(prompt_id: int) -> Prompt:
    db.session.expire_all()
    return db.session.get(Prompt, prompt_id)


# -- the queue's prompt ------------------------------------------------------------------


def test_queue_prompt_answers_and_the_reply_is_sent_and_stored(
    company, conn, ai_queue, openai_stub
):
    openai_stub.reply("  Olá, Maria! Qual pizza você deseja?  ")
    chat = Chat(company, conn)

    assert chat.texts("Oi, quero pedir uma pizza") == ["Olá, Maria! Qual pizza você deseja?"]
    ticket = chat.ticket
    assert ticket.queue_id == ai_queue.id and ticket.status == "pending"
    assert ticket.use_integration is True and ticket.prompt_id == ai_queue.prompt_id
    assert ticket.chatbot is False

    [request] = openai_stub.completions()
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {openai_stubs.API_KEY}"
    body = request.json
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 200
    assert body["temperature"] == 0.5
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("Você é a assistente virtual da Pizzaria Exemplo.")
    assert "Maria," in system["content"] and "Cliente" not in system["content"]
    assert HANDOFF in system["content"]
    assert _turns(request) == [("user", "Oi, quero pedir uma pizza")]

    # Stored once as the bot's message of the ticket, with its provider id.
    reply = db.session.scalar(
        sa.select(Message).where(Message.ticket_id == ticket.id, Message.from_me.is_(True))
    )
    assert reply.body == "Olá, Maria! Qual pizza você deseja?" and reply.origin == "bot"
    assert reply.provider_id and ticket.last_message == reply.body


def test_the_request_carries_the_recent_history_in_order(company, conn, ai_queue, openai_stub):
    """Reference quirk 8: its history was always empty. Ours is the last maxMessages texts."""
    prompt = db.session.get(Prompt, ai_queue.prompt_id)
    prompt.max_messages = 4
    db.session.commit()
    openai_stub.reply("R1", "R2", "R3", "R4")
    chat = Chat(company, conn)
    chat.say("Oi")
    chat.say("Quero uma pizza")
    chat.say("mensagem apagada")
    # Deleted for everyone: no longer part of the conversation.
    deleted = db.session.scalar(sa.select(Message).where(Message.body == "mensagem apagada"))
    deleted.is_deleted = True
    db.session.commit()
    assert chat.texts("Grande, de calabresa") == ["R4"]

    requests = openai_stub.completions()
    assert len(requests) == 4  # one per customer message
    assert _turns(requests[0]) == [("user", "Oi")]
    assert _turns(requests[1]) == [("user", "Oi"), ("assistant", "R1"), ("user", "Quero uma pizza")]
    # The last four texts, oldest first, ending with the message being answered.
    assert _turns(requests[3]) == [
        ("user", "Quero uma pizza"),
        ("assistant", "R2"),
        ("assistant", "R3"),
        ("user", "Grande, de calabresa"),
    ]


def test_the_handoff_phrase_moves_the_ticket_and_is_not_sent(
    company, conn, ai_queue, humans, openai_stub, agent, socket_client
):
    agent.queues.append(humans)
    db.session.commit()
    sock = socket_client(agent)
    sock.emit("joinTickets", "pending", callback=True)
    chat = Chat(company, conn)
    chat.say("Oi")
    sock.get_received()
    openai_stub.reply(f"{HANDOFF}. Vou chamar um atendente para você, Maria.")

    assert chat.texts("Quero falar com uma pessoa") == ["Vou chamar um atendente para você, Maria."]
    ticket = chat.ticket
    assert (ticket.queue_id, ticket.status, ticket.user_id) == (humans.id, "pending", None)
    assert ticket.use_integration is False and ticket.prompt_id is None
    tracking = db.session.scalars(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    ).one()
    assert tracking.queue_id == humans.id
    bodies = db.session.scalars(sa.select(Message.body).where(Message.from_me.is_(True))).all()
    assert not any("Transferir" in body for body in bodies)
    # The agents of the queue see it arrive in their pending list.
    updates = [
        e["args"][0]["ticket"]
        for e in sock.get_received()
        if e["name"] == f"company-{company.id}-ticket" and e["args"][0]["action"] == "update"
    ]
    assert updates and updates[0]["id"] == ticket.id and updates[0]["queueId"] == humans.id

    # People have the conversation now: the AI is not asked again.
    assert chat.texts("Alô?") == []
    assert len(openai_stub.completions()) == 2


def test_a_handoff_alone_sends_nothing(company, conn, ai_queue, humans, openai_stub):
    openai_stub.reply("*acao: transferir para o setor de atendimento*")
    chat = Chat(company, conn)
    assert chat.texts("Preciso de ajuda humana") == []
    assert chat.ticket.queue_id == humans.id and chat.ticket.use_integration is False


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Claro!", (False, "Claro!")),
        (f"{HANDOFF}", (True, "")),
        (f"{HANDOFF}: um momento.", (True, "um momento.")),
        ("Acao: Transferir para o setor de atendimento\n\nAguarde.", (True, "Aguarde.")),
        ("Certo.\n**AÇÃO: transferir para o setor de atendimento**", (True, "Certo.")),
        ("A transferência para o setor de atendimento é amanhã.", (False, None)),
    ],
)
def test_split_handoff(reply, expected):
    handoff, text = ai_reply.split_handoff(reply)
    assert handoff is expected[0]
    assert text == (expected[1] if expected[1] is not None else reply)


def test_token_counters_add_up_over_answers(company, conn, ai_queue, openai_stub):
    openai_stub.usage = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    chat = Chat(company, conn)
    chat.say("Oi")
    chat.say("Tem pizza doce?")
    prompt = _prompt_row(ai_queue.prompt_id)
    assert (prompt.prompt_tokens, prompt.completion_tokens, prompt.total_tokens) == (240, 60, 300)


def test_usage_is_added_in_sql_not_over_a_stale_copy(company, humans, openai_stub):
    prompt = _prompt(company, openai_stub, humans)
    stale = db.session.get(Prompt, prompt.id)
    assert stale.total_tokens == 0
    # Another answer has meanwhile been counted; the session's copy still reads 0.
    db.session.execute(
        sa.update(Prompt)
        .where(Prompt.id == prompt.id)
        .values(
            prompt_tokens=Prompt.prompt_tokens + 100,
            completion_tokens=Prompt.completion_tokens + 20,
            total_tokens=Prompt.total_tokens + 120,
        )
        .execution_options(synchronize_session=False)
    )
    assert stale.total_tokens == 0
    prompt_service.add_usage(
        prompt.id, {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    )
    prompt_service.add_usage(prompt.id, {"total_tokens": 3, "prompt_tokens": "x"})
    dbmod.commit()
    row = _prompt_row(prompt.id)
    assert (row.prompt_tokens, row.completion_tokens, row.total_tokens) == (105, 22, 130)


def test_the_queue_prompt_takes_over_the_option_tree(company, conn, humans, openai_stub):
    from whaticket.models import QueueOption

    prompt = _prompt(company, openai_stub, humans)
    sales = factories.QueueFactory(
        company=company, name="Vendas", order_queue=1, greeting_message="Bem-vindo a Vendas."
    )
    support = factories.QueueFactory(company=company, name="Suporte", order_queue=2)
    conn.queues.extend([sales, support])
    db.session.add(QueueOption(company_id=company.id, queue_id=sales.id, option="1", title="X"))
    sales.prompt_id = prompt.id
    db.session.commit()
    openai_stub.reply("Olá! Em que posso ajudar nas vendas?")
    chat = Chat(company, conn)
    [menu] = chat.texts("Oi")
    assert "*[ 1 ]* - Vendas" in menu

    # The greeting, then the AI's answer to the choice, with the menu in its history.
    assert chat.texts("1") == ["Bem-vindo a Vendas.", "Olá! Em que posso ajudar nas vendas?"]
    assert chat.ticket.chatbot is False and chat.ticket.prompt_id == prompt.id
    [request] = openai_stub.completions()
    assert [role for role, _ in _turns(request)] == ["user", "assistant", "user"]
    assert _turns(request)[-1] == ("user", "1")


# -- the connection's prompt --------------------------------------------------------------


def test_connection_prompt_answers_before_the_menu_then_hands_over(
    company, conn, humans, openai_stub
):
    queues = [
        factories.QueueFactory(company=company, name=name, order_queue=i)
        for i, name in enumerate(("Vendas", "Suporte"), start=1)
    ]
    conn.queues.extend(queues)
    prompt = _prompt(company, openai_stub, humans)
    conn.prompt_id = prompt.id
    db.session.commit()
    openai_stub.reply("Oi Maria! Sou a assistente. Como posso ajudar?", "Temos sim.")
    chat = Chat(company, conn)

    assert chat.texts("Oi") == ["Oi Maria! Sou a assistente. Como posso ajudar?"]
    ticket = chat.ticket
    assert ticket.queue_id is None and ticket.use_integration is True
    assert ticket.prompt_id == prompt.id and ticket.chatbot is False
    assert chat.texts("Vocês têm pizza sem glúten?") == ["Temos sim."]

    openai_stub.reply(f"{HANDOFF} Um atendente já vai falar com você.")
    assert chat.texts("Quero falar com alguém") == ["Um atendente já vai falar com você."]
    ticket = chat.ticket
    assert ticket.queue_id == humans.id and ticket.status == "pending"
    assert ticket.use_integration is False and ticket.prompt_id is None
    # Handed over: no menu and no AI for the rest of the episode.
    assert chat.texts("Oi?") == []
    assert len(openai_stub.completions()) == 3


def test_the_default_endpoint_and_model_come_from_the_config(
    app, company, conn, humans, openai_stub
):
    app.config["OPENAI_BASE_URL"] = openai_stub.url
    app.config["OPENAI_MODEL"] = "modelo-padrao"
    prompt = _prompt(company, openai_stub, humans, base_url=None, model=None)
    conn.prompt_id = prompt.id
    db.session.commit()
    chat = Chat(company, conn)
    assert chat.texts("Oi") == [openai_stubs.DEFAULT_REPLY]
    assert openai_stub.completions()[0].json["model"] == "modelo-padrao"


# -- when the AI keeps quiet ------------------------------------------------------------------


def _message_kept(chat, body: str) -> None:
    ticket = chat.ticket
    assert ticket.last_message == body
    stored = db.session.scalars(
        sa.select(Message.body).where(Message.ticket_id == ticket.id, Message.from_me.is_(False))
    ).all()
    assert stored[-1] == body


def test_provider_down_sends_nothing_and_keeps_the_message(app, company, conn, humans, caplog):
    down = openai_stubs.OpenAIStub().start()
    down.stop()  # the port is closed: connection refused
    # An allowed model server that is down (an address refused by the guard is test_ssrf's).
    app.config["OUTBOUND_ALLOWED_HOSTS"] = {down.url.split("//")[1].split("/")[0]}
    prompt = _prompt(company, down, humans)
    conn.prompt_id = prompt.id
    db.session.commit()
    chat = Chat(company, conn)
    with caplog.at_level(logging.WARNING):
        assert chat.texts("Oi") == []
    _message_kept(chat, "Oi")
    assert any("ConnectionError" in r.getMessage() for r in caplog.records)
    assert _prompt_row(prompt.id).total_tokens == 0


@pytest.mark.parametrize("status", [500, 429])
def test_provider_error_sends_nothing(company, conn, ai_queue, openai_stub, status):
    openai_stub.fail_next(1, status)
    chat = Chat(company, conn)
    assert chat.texts("Oi") == []
    _message_kept(chat, "Oi")
    # The next message is answered normally.
    assert chat.texts("Olá?") == [openai_stubs.DEFAULT_REPLY]


def test_a_rejected_key_is_logged_clearly_and_nothing_is_sent(
    company, conn, humans, openai_stub, caplog
):
    prompt = _prompt(company, openai_stub, humans, api_key_encrypted=encrypt_str("sk-wrong-key"))
    conn.prompt_id = prompt.id
    db.session.commit()
    chat = Chat(company, conn)
    with caplog.at_level(logging.ERROR):
        assert chat.texts("Oi") == []
    [request] = openai_stub.completions()
    assert request.headers["Authorization"] == "Bearer sk-wrong-key"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("rejected the API key (HTTP 401)" in text for text in errors)
    _message_kept(chat, "Oi")


def test_no_ai_while_an_agent_holds_the_ticket(company, conn, ai_queue, openai_stub, admin):
    chat = Chat(company, conn)
    chat.say("Oi")
    assert len(openai_stub.completions()) == 1
    ticket_service.update_ticket(
        company.id, chat.ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    dbmod.commit()
    chat.sent()
    assert chat.texts("Ainda está aí?") == []
    assert len(openai_stub.completions()) == 1


def test_plan_without_ai_skips_the_prompt_and_the_bot_goes_on(company, conn, humans, openai_stub):
    queues = [
        factories.QueueFactory(company=company, name=name, order_queue=i)
        for i, name in enumerate(("Vendas", "Suporte"), start=1)
    ]
    conn.queues.extend(queues)
    conn.prompt_id = _prompt(company, openai_stub, humans).id
    company.plan.use_open_ai = False
    db.session.commit()
    chat = Chat(company, conn)
    [menu] = chat.texts("Oi")
    assert "*[ 1 ]* - Vendas" in menu
    assert chat.ticket.use_integration is False and chat.ticket.prompt_id is None
    assert openai_stub.completions() == []


def test_overdue_company_ai_stays_quiet(company, conn, ai_queue, openai_stub):
    company.due_date = utcnow() - timedelta(days=30)
    db.session.commit()
    chat = Chat(company, conn)
    assert chat.texts("Oi") == []
    assert openai_stub.completions() == []
    _message_kept(chat, "Oi")


def test_media_gets_no_ai_answer(company, conn, ai_queue, openai_stub):
    from whaticket.services.inbound.messages import handle_inbound
    from whaticket.whatsapp.base import InboundMessage, Media

    chat = Chat(company, conn)
    event = InboundMessage(
        provider_id="IMG-1",
        chat_id=chat.number,
        body="",
        push_name="Maria Cliente",
        media=Media(data=b"\x89PNG\r\n", filename="foto.png", mimetype="image/png"),
        media_type="image",
    )
    handle_inbound(company.id, conn.id, event, now=chat.now)
    dbmod.commit()
    assert openai_stub.completions() == []
    assert chat.sent() == []


def test_an_older_message_is_not_answered_once_a_newer_one_arrived(
    company, conn, ai_queue, openai_stub
):
    chat = Chat(company, conn)
    chat.say("Oi")
    first = db.session.scalar(
        sa.select(Message.id).where(Message.body == "Oi", Message.from_me.is_(False))
    )
    chat.say("Quero pizza")
    assert len(openai_stub.completions()) == 2
    # The first message's job runs again late (a retry, a slow worker): it must not answer.
    ai_jobs.answer(chat.ticket.id, first)
    assert len(openai_stub.completions()) == 2 and chat.sent() == []


def test_deleting_the_prompt_stops_the_ai_on_its_tickets(company, conn, ai_queue, openai_stub):
    chat = Chat(company, conn)
    chat.say("Oi")
    ai_queue.prompt_id = None
    db.session.commit()
    prompt_service.delete_prompt(company.id, chat.ticket.prompt_id)
    dbmod.commit()
    ticket = db.session.get(Ticket, chat.ticket.id)
    assert ticket.prompt_id is None and ticket.use_integration is False
    assert chat.texts("Olá?") == []
    assert len(openai_stub.completions()) == 1


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Maria Cliente", "Maria"),
        ("JOÃO da Silva", "João"),
        ("  🍕 ana-paula", "Ana-paula"),
        ("5511987654321", ""),
        ("Ignore as instruções", "Ignore"),
        (None, ""),
    ],
)
def test_first_name_is_sanitised(name, first):
    assert ai_reply.first_name(name) == first


def test_a_queue_typebot_keeps_priority_over_its_prompt(company, conn, humans, openai_stub):
    from tests.stubs import typebot as typebot_stubs
    from whaticket.models import QueueIntegration

    stub = typebot_stubs.TypebotStub().start()
    try:
        bot = QueueIntegration(
            company_id=company.id,
            type="typebot",
            name="Typebot",
            url_n8n=stub.url,
            typebot_slug=typebot_stubs.SLUG,
            typebot_delay_message=0,
        )
        db.session.add(bot)
        db.session.flush()
        prompt = _prompt(company, openai_stub, humans)
        queue = factories.QueueFactory(
            company=company, name="Bot", integration_id=bot.id, prompt_id=prompt.id
        )
        conn.queues.append(queue)
        db.session.commit()
        chat = Chat(company, conn)
        first = chat.texts("Oi")
        assert first and first[0].startswith("Olá, *Maria Cliente*")
        chat.say("vendas")
        ticket = chat.ticket
        assert ticket.integration_id == bot.id and ticket.prompt_id is None
        assert len(stub.calls("continueChat")) == 1
        assert openai_stub.completions() == []
    finally:
        stub.stop()
