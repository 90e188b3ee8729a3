"""Messages: history (read marking, visibility), send text/media via the fake gateway, delete."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Message, Ticket

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )


@pytest.fixture
def ticket(company, conn, admin):
    return factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id, unread_messages=2
    )


def test_history_pages_oldest_to_newest_and_marks_read(client, prefix, admin, auth, ticket):
    msgs = [factories.MessageFactory(ticket=ticket, from_me=False, read=False) for _ in range(25)]
    resp = client.get(f"{prefix}/messages/{ticket.id}", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 25 and body["hasMore"] is True
    assert [m["id"] for m in body["messages"]] == [m.id for m in msgs[5:]]
    assert body["ticket"]["id"] == ticket.id
    page2 = client.get(f"{prefix}/messages/{ticket.id}?pageNumber=2", headers=auth(admin))
    assert [m["id"] for m in page2.get_json()["messages"]] == [m.id for m in msgs[:5]]
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).unread_messages == 0


def test_history_other_company_and_auth(client, prefix, ticket, other_admin, auth):
    assert (
        client.get(f"{prefix}/messages/{ticket.id}", headers=auth(other_admin)).status_code == 404
    )
    assert client.get(f"{prefix}/messages/{ticket.id}").status_code == 401
    resp = client.get(f"{prefix}/messages/{ticket.id}?pageNumber=0", headers=auth(other_admin))
    assert resp.status_code == 400


def test_send_text_renders_tags_and_goes_through_the_gateway(
    client, prefix, admin, auth, ticket, socket_client
):
    sock = socket_client(admin)
    sock.get_received()
    resp = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "Olá {{firstName}}"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    sent = resp.get_json()[0]
    first = ticket.contact.name.split(" ")[0]
    assert sent["body"] == f"Olá {first}" and sent["fromMe"] is True and sent["origin"] == "agent"
    assert sent["ack"] == 2 and sent["providerId"]
    row = db.session.get(Message, sent["id"])
    assert row.provider_id == sent["providerId"]
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).last_message == f"Olá {first}"
    names = [e["name"] for e in sock.get_received()]
    assert f"company-{ticket.company_id}-appMessage" in names
    outbox = client.get(f"{prefix}/fake-gateway/{ticket.whatsapp_id}/outbox", headers=auth(admin))
    if outbox.status_code == 200:
        assert outbox.get_json()[-1]["body"] == f"Olá {first}"


def test_quoted_reply_links_the_quoted_message(client, prefix, admin, auth, ticket):
    quoted = factories.MessageFactory(ticket=ticket, from_me=False)
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        json={"body": "sim", "quotedMsg": {"id": quoted.id}},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()[0]["quotedMsgId"] == quoted.id
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        json={"body": "x", "quotedMsg": 999999},
        headers=auth(admin),
    )
    assert resp.status_code == 400


def test_provider_failure_keeps_a_failed_message_and_answers_502(
    client, prefix, admin, auth, company, conn
):
    bad = factories.ContactFactory(company=company, number="0001234567")
    ticket = factories.TicketFactory(
        company=company, whatsapp=conn, contact=bad, status="open", user_id=admin.id
    )
    resp = client.post(f"{prefix}/messages/{ticket.id}", json={"body": "hi"}, headers=auth(admin))
    assert resp.status_code == 502 and resp.get_json() == {"error": "ERR_SENDING_WAPP_MSG"}
    row = db.session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    assert row.ack == 0 and row.error
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).last_message == ""


def test_disconnected_connection_is_a_retryable_503(client, prefix, admin, auth, ticket, conn):
    conn.status = "DISCONNECTED"
    db.session.commit()
    resp = client.post(f"{prefix}/messages/{ticket.id}", json={"body": "hi"}, headers=auth(admin))
    assert resp.status_code == 503


def test_send_media_one_message_per_file(client, prefix, admin, auth, ticket):
    data = {
        "medias": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")],
        "body": ["first", "second"],
    }
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        data=data,
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    sent = resp.get_json()
    assert [m["body"] for m in sent] == ["first", "second"]
    assert all(m["mediaType"] == "image" and m["mediaUrl"] for m in sent)
    with client.get(sent[0]["mediaUrl"].split("localhost:8080", 1)[-1]) as media:
        assert media.status_code == 200 and media.data == PNG


def test_send_validation_other_company_and_auth(client, prefix, admin, auth, ticket, other_admin):
    resp = client.post(f"{prefix}/messages/{ticket.id}", json={"body": ""}, headers=auth(admin))
    assert resp.status_code == 400 and "body" in resp.get_json()["fields"]
    resp = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "x"}, headers=auth(other_admin)
    )
    assert resp.status_code == 404
    assert client.post(f"{prefix}/messages/{ticket.id}", json={"body": "x"}).status_code == 401


def test_delete_for_everyone(client, prefix, admin, auth, ticket, other_admin):
    sent = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "oops"}, headers=auth(admin)
    ).get_json()[0]
    assert (
        client.delete(f"{prefix}/messages/{sent['id']}", headers=auth(other_admin)).status_code
        == 404
    )
    assert client.delete(f"{prefix}/messages/{sent['id']}").status_code == 401
    resp = client.delete(f"{prefix}/messages/{sent['id']}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["isDeleted"] is True
    inbound = factories.MessageFactory(ticket=ticket, from_me=False)
    resp = client.delete(f"{prefix}/messages/{inbound.id}", headers=auth(admin))
    assert resp.status_code == 400


def test_agent_text_over_65535_bytes_is_sent_and_stored_whole(client, prefix, admin, auth, ticket):
    """20,000 emoji are 80,000 bytes: more than a MariaDB TEXT, within WhatsApp's limit."""
    text = "😀" * 20000
    resp = client.post(f"{prefix}/messages/{ticket.id}", json={"body": text}, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    assert db.session.get(Message, resp.get_json()[0]["id"]).body == text


def test_agent_text_or_caption_over_the_limit_is_400_with_fields(
    client, prefix, admin, auth, ticket
):
    too_long = "😀" * 65537
    resp = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": too_long}, headers=auth(admin)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "body" in resp.get_json()["fields"]
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        data={"medias": (io.BytesIO(PNG), "x.png"), "body": too_long},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert resp.get_json() == {
        "error": "ERR_VALIDATION",
        "fields": {"body": ["Longer than maximum length 65536."]},
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
