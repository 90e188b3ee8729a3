"""Public API v1 messages: sends in a ticket (text, media, template) and to a number, all
stored with origin "api" and delivered before the answer; the feed and one message; a
token sees and sends only within its company and its connection and queue limits."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.v1.conftest import bearer
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID
from whaticket.extensions import db
from whaticket.models import Contact, Message, Ticket
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.utils.crypto import encrypt_json

NUMBER = "5511988887777"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def ticket(company, conn, admin):
    record = factories.TicketFactory(company=company, whatsapp=conn, status="open")
    db.session.commit()
    return record


def test_a_text_in_a_ticket_is_sent_with_origin_api(client, prefix, conn, ticket, token):
    resp = client.post(
        f"{prefix}/v1/tickets/{ticket.id}/messages",
        json={"body": "Your order shipped"},
        headers=bearer(token("messages:send")),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    [sent] = body["messages"]
    assert body["ticketId"] == ticket.id and sent["ticketId"] == ticket.id
    assert sent["origin"] == "api" and sent["fromMe"] is True and sent["ack"] >= 2
    assert [e["body"] for e in fake.read_outbox(conn.id)] == ["Your order shipped"]


def test_files_in_a_ticket_are_one_message_each(client, prefix, conn, ticket, token):
    resp = client.post(
        f"{prefix}/v1/tickets/{ticket.id}/messages",
        data={
            "medias": [(io.BytesIO(PNG), "a.png", "image/png"), (io.BytesIO(PNG), "b.png")],
            "body": "Receipts",
        },
        content_type="multipart/form-data",
        headers=bearer(token("messages:send")),
    )
    assert resp.status_code == 200, resp.get_json()
    sent = resp.get_json()["messages"]
    assert [m["mediaType"] for m in sent] == ["image", "image"]
    assert all(m["origin"] == "api" and m["mediaUrl"] for m in sent)
    assert len([e for e in fake.read_outbox(conn.id) if e["type"] != "text"]) == 2


def test_a_send_to_a_number_finds_or_creates_contact_and_ticket(
    client, prefix, company, conn, admin, token
):
    conn.is_default = True
    db.session.commit()
    headers = bearer(token("messages:send"))
    resp = client.post(
        f"{prefix}/v1/messages",
        json={"number": "+55 (11) 98888-7777", "body": "Hi"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    ticket_id = resp.get_json()["ticketId"]
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.whatsapp_id == conn.id and ticket.contact.number == NUMBER
    again = client.post(
        f"{prefix}/v1/messages", json={"number": NUMBER, "body": "Again"}, headers=headers
    )
    assert again.get_json()["ticketId"] == ticket_id
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 1
    assert [e["to"] for e in fake.read_outbox(conn.id)] == [NUMBER, NUMBER]

    resp = client.post(f"{prefix}/v1/messages", json={"number": NUMBER}, headers=headers)
    assert resp.status_code == 400 and "body" in resp.get_json()["fields"]
    resp = client.post(f"{prefix}/v1/messages", json={"number": "12"}, headers=headers)
    assert resp.status_code == 400 and "number" in resp.get_json()["fields"]


@pytest.fixture
def cloud_conn(company, graph_stub):
    record = factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": "app-secret-1",
                "verifyToken": "verify-me",
                "baseUrl": graph_stub.url,
            }
        ),
    )
    db.session.commit()
    return record


def test_a_template_reaches_the_graph_api(client, prefix, company, admin, cloud_conn, token):
    ticket = factories.TicketFactory(company=company, whatsapp=cloud_conn, status="open")
    db.session.commit()
    body = {"template": {"name": "hello_world", "language": "en_US"}}
    resp = client.post(
        f"{prefix}/v1/tickets/{ticket.id}/template",
        json=body,
        headers=bearer(token("messages:send")),
    )
    assert resp.status_code == 200, resp.get_json()
    [sent] = resp.get_json()["messages"]
    assert sent["origin"] == "api" and sent["body"] == "[template: hello_world]"
    assert db.session.get(Message, sent["id"]).provider_id.startswith("wamid.")


def test_the_feed_and_one_message(client, prefix, company, ticket, token):
    inbound = factories.MessageFactory(ticket=ticket, from_me=False)
    ours = factories.MessageFactory(ticket=ticket, from_me=True, origin="agent")
    db.session.commit()
    headers = bearer(token("tickets:read"))
    body = client.get(f"{prefix}/v1/messages", headers=headers).get_json()
    assert [m["id"] for m in body["messages"]] == [inbound.id, ours.id]
    body = client.get(
        f"{prefix}/v1/messages", query_string={"fromMe": "false"}, headers=headers
    ).get_json()
    assert [m["id"] for m in body["messages"]] == [inbound.id]
    resp = client.get(f"{prefix}/v1/messages/{ours.id}", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["origin"] == "agent"


def test_another_companys_messages_and_tickets_are_not_found(
    client, prefix, ticket, token, other_company
):
    message = factories.MessageFactory(ticket=ticket)
    factories.AdminFactory(company=other_company)
    db.session.commit()
    headers = bearer(token(company=other_company))
    for url in (f"/v1/messages/{message.id}", f"/v1/messages?ticketId={ticket.id}"):
        resp = client.get(f"{prefix}{url}", headers=headers)
        assert resp.status_code == 404, url
    assert client.get(f"{prefix}/v1/messages", headers=headers).get_json()["messages"] == []
    for url, body in (
        (f"/v1/tickets/{ticket.id}/messages", {"body": "hi"}),
        (f"/v1/tickets/{ticket.id}/template", {"template": {"name": "x", "language": "en"}}),
    ):
        resp = client.post(f"{prefix}{url}", json=body, headers=headers)
        assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_TICKET_FOUND"}), url
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1


def test_a_connection_limited_token_sees_and_sends_only_there(
    client, prefix, company, conn, ticket, token
):
    other = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    elsewhere = factories.TicketFactory(company=company, whatsapp=other, status="open")
    mine = factories.MessageFactory(ticket=ticket)
    theirs = factories.MessageFactory(ticket=elsewhere)
    db.session.commit()
    headers = bearer(token("tickets:read", "messages:send", whatsapp_ids=[conn.id]))

    body = client.get(f"{prefix}/v1/messages", headers=headers).get_json()
    assert [m["id"] for m in body["messages"]] == [mine.id]
    assert client.get(f"{prefix}/v1/messages/{theirs.id}", headers=headers).status_code == 404
    resp = client.post(
        f"{prefix}/v1/tickets/{elsewhere.id}/messages", json={"body": "x"}, headers=headers
    )
    assert resp.status_code == 404
    # A send to a number goes out on its one connection, and never on another.
    resp = client.post(
        f"{prefix}/v1/messages", json={"number": NUMBER, "body": "hi"}, headers=headers
    )
    assert resp.status_code == 200 and fake.read_outbox(conn.id)
    resp = client.post(
        f"{prefix}/v1/messages",
        json={"number": NUMBER, "body": "hi", "whatsappId": other.id},
        headers=headers,
    )
    assert resp.status_code == 400 and fake.read_outbox(other.id) == []


def test_a_queue_limited_token_writes_only_in_its_queues(client, prefix, company, conn, token):
    sales, support = (
        factories.QueueFactory(company=company),
        factories.QueueFactory(company=company),
    )
    in_sales = factories.TicketFactory(company=company, whatsapp=conn, queue=sales, status="open")
    in_support = factories.TicketFactory(company=company, whatsapp=conn, queue=support)
    db.session.commit()
    headers = bearer(token("tickets:read", "messages:send", queue_ids=[sales.id]))

    body = client.get(f"{prefix}/v1/tickets", headers=headers).get_json()
    assert [t["id"] for t in body["tickets"]] == [in_sales.id]
    url = f"{prefix}/v1/tickets/{{}}/messages"
    assert (
        client.post(url.format(in_support.id), json={"body": "x"}, headers=headers).status_code
        == 404
    )
    resp = client.post(url.format(in_sales.id), json={"body": "x"}, headers=headers)
    assert resp.status_code == 200
    # Starting a conversation by number would land outside its queues.
    resp = client.post(
        f"{prefix}/v1/messages", json={"number": NUMBER, "body": "x"}, headers=headers
    )
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_INSUFFICIENT_SCOPE"})
