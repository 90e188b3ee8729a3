"""The chatbot after an inbound message: queue menu, option tree, throttles, office hours.

Every conversation runs through the inbound core (handle_inbound) with the fake provider,
and the bot's clock is passed in: nothing here waits on the wall clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Message, QueueOption, Ticket, TicketTracking
from whaticket.services.bots.menus import INVALID_OPTION
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import episodes
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.whatsapp.base import InboundMessage

CUSTOMER = "5511987654321"
#: Monday 2026-11-30, 10:00 in São Paulo (UTC-3): inside 08:00-18:00.
MONDAY_10 = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
#: The same Monday at 23:00 in São Paulo: outside 08:00-18:00.
MONDAY_23 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
WEEK = [
    {"weekday": "", "weekdayEn": day, "startTime": "08:00", "endTime": "18:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


class Chat:
    """One customer writing to a connection; `say` answers what the bot sent back."""

    def __init__(self, company, conn, number: str = CUSTOMER) -> None:
        self.company, self.conn, self.number = company, conn, number
        self.now = MONDAY_10
        fake.clear_outbox(conn.id)
        self._seen = 0

    def say(self, body: str, *, provider_id: str | None = None, at: datetime | None = None):
        """Deliver one inbound message; returns the outbox entries it caused."""
        if at is not None:
            self.now = at
        event = InboundMessage(
            provider_id=provider_id or f"IN-{uuid.uuid4().hex}",
            chat_id=self.number,
            body=body,
            push_name="Maria Cliente",
        )
        handle_inbound(self.company.id, self.conn.id, event, now=self.now)
        dbmod.commit()  # as the inbound job does: events and jobs run after the commit
        return self.sent()

    def sent(self) -> list[dict]:
        """Messages sent since the last look (read receipts left out)."""
        entries = fake.read_outbox(self.conn.id)
        new, self._seen = entries[self._seen :], len(entries)
        return [entry for entry in new if entry["type"] != "read"]

    def texts(self, body: str, **kwargs) -> list[str]:
        """`say`, keeping only the bodies sent."""
        return [entry["body"] for entry in self.say(body, **kwargs)]

    @property
    def ticket(self) -> Ticket:
        db.session.expire_all()
        return db.session.query(Ticket).filter_by(whatsapp_id=self.conn.id).one()


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        greeting_message="Olá {{firstName}}! Escolha um setor:",
        out_of_hours_message="Estamos fechados, voltamos às 8h.",
    )


@pytest.fixture
def queues(company, conn):
    """Three queues on the connection, in menu order; the second has an option tree."""
    made = [
        factories.QueueFactory(
            company=company, name=name, order_queue=order, greeting_message=f"Bem-vindo a {name}."
        )
        for order, name in ((1, "Vendas"), (2, "Financeiro"), (3, "Suporte"))
    ]
    conn.queues.extend(made)
    db.session.commit()
    return made


@pytest.fixture
def tree(company, queues):
    """Financeiro: 1 Boletos (with 1 Segunda via, 2 Pix) and 2 Falar com atendente (leaf)."""
    finance = queues[1]
    boletos = QueueOption(
        company_id=company.id, queue_id=finance.id, option="1", title="Boletos",
        message="Boletos: o que precisa?",
    )  # fmt: skip
    db.session.add(boletos)
    db.session.flush()
    db.session.add_all(
        [
            QueueOption(
                company_id=company.id, queue_id=finance.id, parent_id=boletos.id, option="1",
                title="Segunda via", message="Envie seu CPF.",
            ),
            QueueOption(
                company_id=company.id, queue_id=finance.id, parent_id=boletos.id, option="2",
                title="Pix", message="Nossa chave Pix é o CNPJ.",
            ),
            QueueOption(
                company_id=company.id, queue_id=finance.id, option="2",
                title="Falar com atendente", message="Aguarde um atendente.",
            ),
        ]
    )  # fmt: skip
    db.session.commit()
    return boletos


def test_menu_then_choice_lands_in_the_queue(company, conn, queues):
    chat = Chat(company, conn)

    [menu] = chat.texts("Oi")
    assert menu.startswith("Olá Maria! Escolha um setor:")
    assert "*[ 1 ]* - Vendas\n*[ 2 ]* - Financeiro\n*[ 3 ]* - Suporte" in menu
    assert chat.ticket.chatbot is True and chat.ticket.queue_id is None

    assert chat.texts("3") == ["Bem-vindo a Suporte."]
    ticket = chat.ticket
    assert (ticket.queue_id, ticket.status, ticket.chatbot) == (queues[2].id, "pending", False)
    tracking = db.session.query(TicketTracking).filter_by(ticket_id=ticket.id).one()
    assert tracking.queue_id == queues[2].id
    # The queue now has the conversation: the bot is done.
    assert chat.texts("obrigada") == []


def test_the_queue_name_is_an_answer_too(company, conn, queues):
    chat = Chat(company, conn)
    chat.say("Oi")
    assert chat.texts("vendas") == ["Bem-vindo a Vendas."]
    assert chat.ticket.queue_id == queues[0].id


def test_option_tree_walk_one_zero_hash(company, conn, queues, tree):
    chat = Chat(company, conn)
    chat.say("Oi")

    [root] = chat.texts("2")
    assert chat.ticket.queue_id == queues[1].id and chat.ticket.status == "pending"
    assert root.startswith("Bem-vindo a Financeiro.")
    assert "*[ 1 ]* - Boletos\n*[ 2 ]* - Falar com atendente" in root
    assert root.endswith("[ # ] Menu inicial")

    [node] = chat.texts("1")
    assert node.startswith("Boletos: o que precisa?")
    assert "*[ 1 ]* - Segunda via\n*[ 2 ]* - Pix" in node
    assert node.endswith("[ 0 ] Menu anterior\n[ # ] Menu inicial")
    assert chat.ticket.queue_option_id == tree.id

    [back] = chat.texts("0")
    assert back == root
    assert chat.ticket.queue_option_id is None and chat.ticket.queue_id == queues[1].id

    [main] = chat.texts("#")
    assert "*[ 1 ]* - Vendas" in main
    ticket = chat.ticket
    assert ticket.queue_id is None and ticket.chatbot is True and ticket.queue_option_id is None

    # And down again to a leaf, which answers its text and hands over to people.
    chat.say("2")
    chat.say("1")
    assert chat.texts("1") == ["Envie seu CPF."]
    assert chat.texts("123.456.789-00") == []


def test_nothing_is_sent_twice_for_one_message(company, conn, queues, tree):
    chat = Chat(company, conn)
    assert len(chat.say("Oi", provider_id="WAMID-1")) == 1
    assert chat.say("Oi", provider_id="WAMID-1") == []
    assert len(chat.say("2", provider_id="WAMID-2")) == 1
    assert chat.say("2", provider_id="WAMID-2") == []
    assert db.session.query(Message).filter_by(from_me=False).count() == 2


def test_an_invalid_answer_is_reprompted_once_then_silence(company, conn, queues):
    chat = Chat(company, conn)
    chat.say("Oi")

    [again] = chat.texts("banana")
    assert again.startswith(INVALID_OPTION) and "*[ 3 ]* - Suporte" in again
    assert chat.texts("laranja") == []
    assert chat.texts("uva") == []
    # A valid answer still works after the silence.
    assert chat.texts("1") == ["Bem-vindo a Vendas."]


def test_invalid_option_in_the_tree_is_reprompted_once(company, conn, queues, tree):
    chat = Chat(company, conn)
    chat.say("Oi")
    chat.say("2")
    [again] = chat.texts("9")
    assert again.startswith(INVALID_OPTION) and "*[ 1 ]* - Boletos" in again
    assert chat.texts("8") == []
    assert chat.texts("1")[0].startswith("Boletos")


def test_time_use_bot_queues_lets_the_menu_come_back_after_the_quiet_period(company, conn, queues):
    conn.time_use_bot_queues = 30
    db.session.commit()
    chat = Chat(company, conn)
    chat.say("Oi")
    chat.say("x")  # re-prompt (at 10:00)
    assert chat.texts("y", at=MONDAY_10 + timedelta(minutes=29)) == []
    [menu] = chat.texts("z", at=MONDAY_10 + timedelta(minutes=31))
    assert menu.startswith(INVALID_OPTION)


def test_max_use_bot_queues_caps_the_menus_of_an_episode(company, conn, queues):
    conn.max_use_bot_queues, conn.time_use_bot_queues = 2, 5
    db.session.commit()
    chat = Chat(company, conn)
    assert len(chat.say("Oi")) == 1  # menu 1
    assert len(chat.say("x")) == 1  # menu 2 (the re-prompt)
    later = MONDAY_10 + timedelta(hours=1)
    assert chat.say("y", at=later) == []  # the quiet period is over, but the cap is reached
    assert chat.ticket.amount_used_bot_queues == 2

    # A new episode starts with a fresh allowance.
    ticket = chat.ticket
    episodes.finish_episode(ticket, episodes.open_tracking(ticket))
    ticket.status = "closed"
    db.session.commit()
    assert len(chat.say("Oi de novo", at=later + timedelta(days=1))) == 1


def test_one_queue_connection_assigns_it_directly(company, conn):
    only = factories.QueueFactory(company=company, name="Geral", greeting_message="Fila geral.")
    conn.queues.append(only)
    settings_service.update_setting(company.id, "sendGreetingMessageOneQueues", "enabled")
    db.session.commit()
    chat = Chat(company, conn)
    assert chat.texts("Oi") == ["Olá Maria! Escolha um setor:", "Fila geral."]
    ticket = chat.ticket
    assert (ticket.queue_id, ticket.status, ticket.chatbot) == (only.id, "pending", False)


def test_one_queue_greeting_is_off_by_default(company, conn):
    only = factories.QueueFactory(company=company, name="Geral", greeting_message="Fila geral.")
    conn.queues.append(only)
    db.session.commit()
    assert Chat(company, conn).texts("Oi") == ["Fila geral."]


def test_connection_without_queues_greets_once_per_episode(company, conn):
    chat = Chat(company, conn)
    assert chat.texts("Oi") == ["Olá Maria! Escolha um setor:"]
    assert chat.texts("Tem alguém?") == []


def test_accepting_the_ticket_ends_the_bot(company, conn, queues, admin):
    chat = Chat(company, conn)
    chat.say("Oi")
    ticket_service.update_ticket(
        company.id, chat.ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    db.session.commit()
    assert chat.ticket.chatbot is False
    assert chat.texts("2") == []
    assert chat.ticket.queue_id is None


def test_buttons_where_the_provider_has_them(company, conn, queues, tree):
    settings_service.update_setting(company.id, "chatBotType", "button")
    db.session.commit()
    chat = Chat(company, conn)
    [menu] = chat.say("Oi")
    assert menu["type"] == "interactive"
    assert [c["title"] for c in menu["choices"]] == ["Vendas", "Financeiro", "Suporte"]
    # The history keeps the text rendering of what was shown.
    stored = db.session.query(Message).filter_by(from_me=True).one()
    assert "*[ 2 ]* - Financeiro" in stored.body

    chat.say("Financeiro")  # what a tapped button answers: its title
    [node] = chat.say("Boletos")
    assert [c["id"] for c in node["choices"]] == ["1", "2", "0", "#"]
    chat.say("Menu inicial")
    assert chat.ticket.queue_id is None


# -- office hours ------------------------------------------------------------------------


@pytest.fixture
def company_hours(company):
    company.schedules = WEEK
    settings_service.update_setting(company.id, "scheduleType", "company")
    db.session.commit()


def test_out_of_hours_notice_once_per_episode(company, conn, queues, company_hours):
    chat = Chat(company, conn)
    chat.now = MONDAY_23
    assert chat.texts("Oi") == ["Estamos fechados, voltamos às 8h."]
    assert chat.texts("Alô?") == []
    assert chat.texts("Alguém?") == []
    # The next morning the same episode goes on with the bot.
    [menu] = chat.texts("Bom dia", at=MONDAY_23 + timedelta(hours=10))
    assert "*[ 1 ]* - Vendas" in menu


def test_never_out_of_hours_notice_while_an_agent_talks(
    company, conn, queues, company_hours, admin
):
    chat = Chat(company, conn)
    chat.say("Oi")
    ticket_service.update_ticket(
        company.id, chat.ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    db.session.commit()
    assert chat.texts("ainda aí?", at=MONDAY_23) == []


def test_a_closed_date_is_out_of_hours(company, conn, queues, company_hours):
    company.closed_dates = ["2026-11-30"]
    db.session.commit()
    assert Chat(company, conn).texts("Oi") == ["Estamos fechados, voltamos às 8h."]


def test_a_range_across_midnight_is_open_at_one(company, conn, queues):
    company.schedules = [
        {"weekday": "", "weekdayEn": "monday", "startTime": "22:00", "endTime": "02:00"}
    ]
    settings_service.update_setting(company.id, "scheduleType", "company")
    db.session.commit()
    tuesday_01 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 01:00 in São Paulo
    [menu] = Chat(company, conn).texts("Oi", at=tuesday_01)
    assert "*[ 1 ]* - Vendas" in menu


def test_company_time_zone_is_used(company, conn, queues, company_hours):
    # 13:00 UTC is 10:00 in São Paulo but 22:00 in Tokyo.
    company.timezone = "Asia/Tokyo"
    db.session.commit()
    assert Chat(company, conn).texts("Oi") == ["Estamos fechados, voltamos às 8h."]


def test_queue_schedule_closes_only_that_queue(company, conn, queues):
    settings_service.update_setting(company.id, "scheduleType", "queue")
    queues[0].schedules = [
        {"weekday": "", "weekdayEn": "monday", "startTime": "14:00", "endTime": "18:00"}
    ]
    queues[0].out_of_hours_message = "Vendas abre às 14h."
    db.session.commit()
    chat = Chat(company, conn)
    chat.say("Oi")  # queue-less tickets are not bound by queue schedules: the menu goes out
    assert chat.texts("1") == ["Vendas abre às 14h."]
    ticket = chat.ticket
    assert ticket.queue_id == queues[0].id and ticket.status == "pending"
    assert chat.texts("ok") == []
    assert chat.texts("?", at=MONDAY_10 + timedelta(hours=5)) == []  # open now; no bot left
