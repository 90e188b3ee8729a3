"""Live ticket events carry the ticket as it is after the change, relations included.

The agent's list (src/components/TicketsListCustom, TicketListItemCustom) replaces its row
with the ticket of each `company-{cid}-ticket` update and `company-{cid}-appMessage` create
frame and reads `ticket.user`, `ticket.queue`, `ticket.whatsapp`, `ticket.tags` from it: a
frame whose `queueId` is set but whose `queue` is stale shows "SEM FILA", and an agent's
list drops `appMessage` frames whose `ticket.queue` is null. Every frame sent by one
action must therefore equal what `GET /tickets/:id` answers right after it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import openai as openai_stubs
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Prompt, Ticket
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.team import settings as settings_service
from whaticket.services.tickets import automation
from whaticket.utils.crypto import encrypt_str

openai_stub = openai_stubs.openai_stub
CUSTOMER = "5511987654321"
HANDOFF = "Ação: Transferir para o setor de atendimento"


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        is_default=True,
        greeting_message="Escolha um setor:",
    )


@pytest.fixture
def sales(company):
    return factories.QueueFactory(company=company, name="Vendas", color="#ff0000", order_queue=1)


@pytest.fixture
def support(company):
    return factories.QueueFactory(company=company, name="Suporte", color="#00ff00", order_queue=2)


@pytest.fixture
def watcher(socket_client, admin):
    """An admin socket in every ticket room: notifications and the three status lists."""
    sock = socket_client(admin)
    assert sock.emit("joinNotification", callback=True) == {"ok": True}
    for status in ("pending", "open", "closed"):
        assert sock.emit("joinTickets", status, callback=True) == {"ok": True}
    sock.get_received()
    return sock


def _ticket(company, conn, **kw) -> Ticket:
    return factories.TicketFactory(company=company, whatsapp=conn, **kw)


def _show(client, prefix, auth, user, ticket_id: int) -> dict:
    resp = client.get(f"{prefix}/tickets/{ticket_id}", headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _put(client, prefix, auth, user, ticket_id: int, body: dict) -> dict:
    resp = client.put(f"{prefix}/tickets/{ticket_id}", json=body, headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _received(sock, company_id: int) -> dict[int, list[tuple[str, dict]]]:
    """Ticket id -> (kind, ticket) of every frame carrying a ticket since the last read:
    `ticket` updates and `appMessage` creates."""
    found: dict[int, list[tuple[str, dict]]] = {}
    for event in sock.get_received():
        data = event["args"][0] if event["args"] else None
        if not isinstance(data, dict) or not isinstance(data.get("ticket"), dict):
            continue
        if event["name"] == f"company-{company_id}-ticket" and data["action"] == "update":
            kind = "ticket"
        elif event["name"] == f"company-{company_id}-appMessage" and data["action"] == "create":
            kind = "appMessage"
        else:
            continue
        found.setdefault(data["ticket"]["id"], []).append((kind, data["ticket"]))
    return found


def _frames(sock, company_id: int, ticket_id: int) -> list[tuple[str, dict]]:
    """The frames carrying one ticket since the last read."""
    return _received(sock, company_id).get(ticket_id, [])


#: A SELECT of the records a ticket frame shows.
RECORD_READ = re.compile(
    r"^\s*SELECT\b.*\bFROM "
    r"(tickets|users|queues|contacts|tags|ticket_tags|whatsapps|contact_custom_fields)\b",
    re.S,
)

RELATIONS = ("userId", "user", "queueId", "queue", "whatsappId", "whatsapp", "contact", "tags")


def _assert_current(frames: list[tuple[str, dict]], shown: dict, *, kinds: set[str]) -> None:
    """Every frame's ticket (and the PUT's answer, when given) is the ticket
    GET /tickets/:id shows, relations included."""
    assert {kind for kind, _ in frames} >= kinds, frames
    for kind, ticket in frames:
        for key in (*RELATIONS, "status"):
            assert ticket[key] == shown[key], (kind, key, ticket[key], shown[key])
    _assert_consistent(frames)


def _assert_consistent(frames: list[tuple[str, dict]]) -> None:
    """Each frame's nested agent and queue are the ones its ids name."""
    for kind, ticket in frames:
        assert (ticket["user"] or {}).get("id") == ticket["userId"], kind
        assert (ticket["queue"] or {}).get("id") == ticket["queueId"], kind


def _deliver(conn, body: str, number: str = CUSTOMER) -> None:
    """A provider webhook delivery, processed by the inbound drain job (inline in tests)."""
    payload = {"from": number, "name": "Maria Cliente", "body": body, "id": uuid.uuid4().hex}
    assert inbound_events.record(conn, json.dumps(payload).encode()) is not None
    dbmod.commit()


def _ticket_of(conn) -> Ticket:
    db.session.expire_all()
    return db.session.scalars(sa.select(Ticket).where(Ticket.whatsapp_id == conn.id)).one()


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (counted, not timed)."""
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record)


# -- agent actions ---------------------------------------------------------------------------


def test_transfer_to_another_agent(
    client, prefix, auth, company, conn, admin, agent, sales, watcher
):
    """src/components/TicketsListCustom/index.js replaces its row with data.ticket and
    src/components/TicketListItemCustom/index.js shows ticket.user.name: the new agent."""
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)
    agent.queues = [sales]
    db.session.commit()

    answered = _put(
        client, prefix, auth, admin, ticket.id, {"userId": agent.id, "queueId": sales.id}
    )
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["userId"] == agent.id and shown["user"]["name"] == agent.name
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)], shown, kinds={"ticket"}
    )


def test_transfer_to_a_queue_only(
    client, prefix, auth, company, conn, admin, sales, support, watcher
):
    """src/components/TransferTicketModalCustom sends {queueId, status: pending, userId: null};
    TicketListItemCustom then reads ticket.queue.name/color (not "SEM FILA") and no user."""
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)

    answered = _put(
        client,
        prefix,
        auth,
        admin,
        ticket.id,
        {"queueId": support.id, "status": "pending", "userId": None},
    )
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["queue"]["name"] == "Suporte" and shown["user"] is None
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)], shown, kinds={"ticket"}
    )


def test_transfer_to_agent_and_queue_with_notice(
    client, prefix, auth, company, conn, admin, agent, sales, support, watcher
):
    """src/components/MessagesList and TicketsListCustom take data.ticket of the transfer
    notice's appMessage frame: it is already the transferred ticket."""
    settings_service.update_setting(company.id, "sendMsgTransfTicket", "enabled")
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)
    dbmod.commit()

    answered = _put(
        client, prefix, auth, admin, ticket.id, {"userId": agent.id, "queueId": support.id}
    )
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert (shown["userId"], shown["queueId"]) == (agent.id, support.id)
    assert shown["queue"]["color"] == "#00ff00" and shown["user"]["id"] == agent.id
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)],
        shown,
        kinds={"ticket", "appMessage"},
    )


def test_return_to_pending(client, prefix, auth, company, conn, admin, sales, watcher):
    """src/components/TicketActionButtonsCustom sends {status: pending, userId: null}."""
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)

    answered = _put(client, prefix, auth, admin, ticket.id, {"status": "pending", "userId": None})
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["status"] == "pending" and shown["user"] is None
    assert shown["queue"]["id"] == sales.id
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)], shown, kinds={"ticket"}
    )


def test_accept_with_greeting(client, prefix, auth, company, conn, admin, agent, sales, watcher):
    """src/components/TicketListItemCustom accepts with {status: open, userId, queueId}; the
    server's greeting frame (appMessage) already shows the accepting agent."""
    settings_service.update_setting(company.id, "sendGreetingAccepted", "enabled")
    agent.queues = [sales]
    ticket = _ticket(company, conn, status="pending", queue_id=sales.id)
    dbmod.commit()

    answered = _put(
        client,
        prefix,
        auth,
        agent,
        ticket.id,
        {"status": "open", "userId": agent.id, "queueId": sales.id},
    )
    shown = _show(client, prefix, auth, agent, ticket.id)

    assert shown["status"] == "open" and shown["user"]["id"] == agent.id
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)],
        shown,
        kinds={"ticket", "appMessage"},
    )


def test_close_with_farewell(client, prefix, auth, company, conn, admin, sales, watcher):
    """src/components/TicketActionButtonsCustom closes with {status: closed, userId}; the
    farewell's appMessage frame and the update both carry the closed ticket."""
    conn.complation_message = "Obrigado pelo contato!"
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)
    dbmod.commit()

    answered = _put(
        client, prefix, auth, admin, ticket.id, {"status": "closed", "userId": admin.id}
    )
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["status"] == "closed"
    _assert_current(
        [("PUT", answered), *_frames(watcher, company.id, ticket.id)],
        shown,
        kinds={"ticket", "appMessage"},
    )


def test_tags_follow_the_ticket(client, prefix, auth, company, conn, admin, sales, watcher):
    """src/components/TicketListItemCustom lists ticket.tags: the update has the new tag."""
    tag = factories.TagFactory(company=company, name="VIP")
    ticket = _ticket(company, conn, status="open", user_id=admin.id, queue_id=sales.id)

    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": ticket.id, "tags": [{"id": tag.id}]},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert [t["id"] for t in shown["tags"]] == [tag.id]
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket"})


# -- inbound, bot and automation ----------------------------------------------------------------


def test_single_queue_connection_routes_a_new_customer(
    client, prefix, auth, company, conn, admin, sales, watcher
):
    """src/components/TicketsListCustom drops an agent's appMessage frame whose
    ticket.queue is null: the first frame of a routed customer already has the queue."""
    conn.queues.append(sales)
    db.session.commit()

    _deliver(conn, "Oi")
    ticket = _ticket_of(conn)
    shown = _show(client, prefix, auth, admin, ticket.id)
    assert shown["queue"]["name"] == "Vendas" and shown["status"] == "pending"
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket", "appMessage"})

    # The next message of the same customer (the inbound job keeps objects across commits).
    _deliver(conn, "Quero comprar")
    shown = _show(client, prefix, auth, admin, ticket.id)
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket", "appMessage"})


def test_agent_of_the_queue_hears_the_routed_customer(socket_client, company, conn, agent, sales):
    """src/components/TicketsListCustom (agent, pending tab) and NotificationsPopOver count
    the appMessage of a new customer: it reaches the queue's agents, with the queue set."""
    conn.queues.append(sales)
    agent.queues = [sales]
    db.session.commit()
    sock = socket_client(agent)
    assert sock.emit("joinNotification", callback=True) == {"ok": True}
    assert sock.emit("joinTickets", "pending", callback=True) == {"ok": True}
    sock.get_received()

    _deliver(conn, "Oi")
    ticket = _ticket_of(conn)

    frames = _frames(sock, company.id, ticket.id)
    assert {kind for kind, _ in frames} == {"ticket", "appMessage"}
    for _, frame in frames:
        assert (frame["queue"]["id"], frame["queue"]["name"]) == (sales.id, "Vendas")
        assert frame["queueId"] == sales.id and frame["status"] == "pending"


def test_single_queue_via_the_fake_gateway_http_route(
    client, prefix, auth, company, conn, admin, sales, watcher
):
    """src/components/TicketsListCustom: the same through the inbound HTTP route."""
    conn.queues.append(sales)
    db.session.commit()

    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": CUSTOMER, "name": "Maria", "body": "Oi"},
        headers=auth(admin),
    )
    assert resp.status_code == 202, resp.get_json()
    ticket = _ticket_of(conn)
    shown = _show(client, prefix, auth, admin, ticket.id)
    assert shown["queueId"] == sales.id
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket", "appMessage"})


def test_queue_chosen_in_the_bot_menu(
    client, prefix, auth, company, conn, admin, sales, support, watcher
):
    """src/components/TicketListItemCustom shows ticket.queue of the customer's choice."""
    conn.queues.extend([sales, support])
    db.session.commit()

    _deliver(conn, "Oi")
    ticket = _ticket_of(conn)
    watcher.get_received()
    _deliver(conn, "2")
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["queue"]["name"] == "Suporte"
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket", "appMessage"})


def test_closed_ticket_reopened_by_the_customer(
    client, prefix, auth, company, conn, admin, sales, watcher
):
    """src/components/TicketsListCustom: a reopened ticket arrives pending, without agent."""
    contact = factories.ContactFactory(company=company, number=CUSTOMER)
    ticket = _ticket(
        company, conn, contact=contact, status="closed", user_id=admin.id, queue_id=sales.id
    )

    _deliver(conn, "Voltei")
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["status"] == "pending" and shown["user"] is None and shown["queue"] is None
    _assert_current(_frames(watcher, company.id, ticket.id), shown, kinds={"ticket", "appMessage"})


def test_auto_transfer(client, prefix, auth, company, conn, admin, sales, watcher):
    """src/components/TicketsListCustom: an auto-transferred ticket shows its new queue."""
    conn.time_to_transfer, conn.transfer_queue_id = 5, sales.id
    stale = [_ticket(company, conn, status="pending") for _ in range(3)]
    db.session.execute(sa.update(Ticket).values(updated_at=utcnow() - timedelta(hours=1)))
    dbmod.commit()
    db.session.expire_all()

    assert automation.auto_transfer(utcnow()) == 3
    dbmod.commit()
    frames = _received(watcher, company.id)

    assert set(frames) == {t.id for t in stale}
    for ticket in stale:
        shown = _show(client, prefix, auth, admin, ticket.id)
        assert shown["queue"]["name"] == "Vendas"
        _assert_current(frames[ticket.id], shown, kinds={"ticket"})


def test_frames_of_a_sweep_cost_no_query_per_ticket(company, conn, sales, watcher):
    """The sweep's frames read their tickets (and agents, queues, contacts, tags) in one go,
    however many tickets moved."""
    conn.time_to_transfer, conn.transfer_queue_id = 5, sales.id
    reads = []
    for size in (2, 6):
        for _ in range(size):
            _ticket(company, conn, status="pending")
        db.session.execute(sa.update(Ticket).values(updated_at=utcnow() - timedelta(hours=1)))
        dbmod.commit()
        db.session.expire_all()
        with _statements() as seen:
            assert automation.auto_transfer(utcnow()) == size
            dbmod.commit()
        assert len(_received(watcher, company.id)) == size
        reads.append([s for s in seen if RECORD_READ.search(s)])
    # The same reads for 2 and for 6 tickets: none is repeated per ticket.
    assert len(reads[0]) == len(reads[1]), reads


def test_ai_hand_off(client, prefix, auth, company, conn, admin, openai_stub, watcher):
    """src/components/TicketsListCustom: the AI's hand-off lands in the human queue."""
    humans = factories.QueueFactory(company=company, name="Atendimento humano", order_queue=9)
    prompt = Prompt(
        company_id=company.id,
        name="Assistente",
        prompt="Você é a assistente.",
        api_key_encrypted=encrypt_str(openai_stubs.API_KEY),
        queue_id=humans.id,
        max_messages=10,
        max_tokens=200,
        temperature=0.5,
        model="gpt-4o-mini",
        base_url=openai_stub.url,
        voice="texto",
    )
    db.session.add(prompt)
    db.session.commit()
    orders = factories.QueueFactory(company=company, name="Pedidos", prompt_id=prompt.id)
    conn.queues.append(orders)
    db.session.commit()

    openai_stub.reply("Olá! Em que posso ajudar?")
    _deliver(conn, "Oi")
    ticket = _ticket_of(conn)
    watcher.get_received()
    openai_stub.reply(f"{HANDOFF}. Um atendente já vem.")
    _deliver(conn, "Quero uma pessoa")
    shown = _show(client, prefix, auth, admin, ticket.id)

    assert shown["queue"]["name"] == "Atendimento humano"
    # The customer's message was committed (in "Pedidos") before the AI job handed off.
    frames = _frames(watcher, company.id, ticket.id)
    moved = next(i for i, (_, t) in enumerate(frames) if t["queueId"] == humans.id)
    _assert_consistent(frames[:moved])
    assert all(t["queue"]["name"] == "Pedidos" for _, t in frames[:moved])
    _assert_current(frames[moved:], shown, kinds={"ticket", "appMessage"})
