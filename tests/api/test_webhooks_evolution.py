"""The Evolution webhook endpoint end to end: secret check, durable storage, inbound core, acks."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as stubs
from tests.stubs.evolution import API_KEY
from tests.whatsapp.evolution.test_parser import IMAGE, QR_UPDATED, SECRET, UPDATE_READ, upsert
from whaticket.extensions import db
from whaticket.models import Contact, InboundEvent, Message, Ticket, Whatsapp
from whaticket.utils.crypto import encrypt_json
from whaticket.whatsapp.base import ACK_DELIVERED, ACK_READ, ACK_SENT

#: The stub's pytest fixture, made available to this module.
evolution_stub = stubs.evolution_stub


@pytest.fixture
def conn(company, evolution_stub):
    """An evolution connection whose instance is open on the stub."""
    evolution_stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="CONNECTED",
        is_default=True,
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {
                "baseUrl": evolution_stub.url,
                "apiKey": API_KEY,
                "instance": "inst1",
                "webhookSecret": SECRET,
            }
        ),
    )
    db.session.commit()
    return conn


def _post(client, prefix, conn_id, payload, secret=SECRET):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        f"{prefix}/webhooks/evolution/{conn_id}/{secret}",
        data=body,
        content_type="application/json",
    )


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _text(text: str = "Oi, preciso de ajuda", msg_id: str = "3EB0IN1", **key) -> dict:
    return upsert(
        {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": msg_id, **key},
        {"conversation": text},
        "conversation",
    )


def test_wrong_secret_is_401_and_stores_nothing(client, prefix, conn):
    resp = _post(client, prefix, conn.id, _text(), secret="guess")
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "ERR_INVALID_WEBHOOK_SECRET"}
    assert _count(InboundEvent) == 0 and _count(Message) == 0


def test_unknown_or_other_provider_connection_answers_like_a_wrong_secret(
    client, prefix, company, conn
):
    """The URL tells nothing about which connection ids exist: 401, as a wrong secret."""
    wrong_secret = _post(client, prefix, conn.id, _text(), secret="guess")
    fake = factories.WhatsappFactory(company=company, provider="fake")
    db.session.commit()
    for conn_id in (conn.id + 1000, fake.id, 2**31 - 1):
        resp = _post(client, prefix, conn_id, _text())
        assert (resp.status_code, resp.get_json()) == (401, wrong_secret.get_json())
    assert wrong_secret.status_code == 401
    assert _count(InboundEvent) == 0


def test_unparsable_bodies_are_400_and_store_nothing(client, prefix, conn):
    for body in (b"[" * 100_000, b'{"event": "\\ud800"}', b"NaN"):
        resp = _post(client, prefix, conn.id, body)
        assert (resp.status_code, resp.get_json()) == (400, {"error": "ERR_INVALID_JSON"}), body
    assert _count(InboundEvent) == 0


def test_connection_without_secret_never_matches(client, prefix, company):
    bare = factories.WhatsappFactory(
        company=company, provider="evolution", provider_config=encrypt_json({})
    )
    db.session.commit()
    assert _post(client, prefix, bare.id, _text(), secret="x").status_code == 401


def test_bad_json_is_400(client, prefix, conn):
    assert _post(client, prefix, conn.id, b"{not json").status_code == 400
    assert _post(client, prefix, conn.id, b"[1, 2]").status_code == 400
    assert _count(InboundEvent) == 0


def test_upsert_creates_contact_ticket_message_once(client, prefix, conn):
    payload = _text()
    resp = _post(client, prefix, conn.id, payload)
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    db.session.expire_all()
    contact = db.session.scalar(sa.select(Contact))
    assert contact.number == "5511988887777" and contact.name == "Maria"
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.contact_id == contact.id and ticket.whatsapp_id == conn.id
    message = db.session.scalar(sa.select(Message))
    assert message.provider_id == "3EB0IN1" and message.body == "Oi, preciso de ajuda"
    assert not message.from_me
    event = db.session.scalar(sa.select(InboundEvent))
    assert event.status == "done" and event.provider == "evolution"

    # Evolution retries the same bytes: nothing new anywhere.
    assert _post(client, prefix, conn.id, payload).status_code == 200
    db.session.expire_all()
    assert (_count(InboundEvent), _count(Contact), _count(Ticket), _count(Message)) == (1, 1, 1, 1)


def test_upsert_image_keeps_media_reference(client, prefix, conn):
    payload = copy.deepcopy(IMAGE)
    assert _post(client, prefix, conn.id, payload).status_code == 200
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message))
    assert message.provider_id == "3EB0A1B2C3D4E5F60718"
    assert message.body == "foto do produto" and message.media_type == "image"


def test_lid_sender_resolves_to_phone_contact(client, prefix, conn):
    payload = _text(
        "via lid",
        "3EB0LID",
        remoteJid="13718@lid",
        remoteJidAlt="5511977776666@s.whatsapp.net",
    )
    assert _post(client, prefix, conn.id, payload).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(Contact.number)) == "5511977776666"


def test_from_me_echo_is_stored_as_outbound(client, prefix, conn):
    _post(client, prefix, conn.id, _text())
    echo = upsert(
        {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "3EB0PHONE"},
        {"conversation": "typed on the phone"},
        "conversation",
        pushName="Our Phone",
    )
    assert _post(client, prefix, conn.id, echo).status_code == 200
    db.session.expire_all()
    phone = db.session.scalar(sa.select(Message).where(Message.provider_id == "3EB0PHONE"))
    assert phone.from_me and phone.body == "typed on the phone"
    assert db.session.scalar(sa.select(Contact.name)) == "Maria"  # not renamed by the echo
    assert _count(Ticket) == 1


def test_messages_update_moves_ack_forward_only(client, prefix, company, conn):
    ticket = factories.TicketFactory(company=company, whatsapp=conn)
    sent = factories.MessageFactory(
        ticket=ticket, provider_id="A5561E44C2A63682E4295B52F484C14E", from_me=True, ack=ACK_SENT
    )
    db.session.commit()
    delivered = copy.deepcopy(UPDATE_READ)
    delivered["data"]["status"] = "DELIVERY_ACK"
    assert _post(client, prefix, conn.id, delivered).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, sent.id).ack == ACK_DELIVERED
    assert _post(client, prefix, conn.id, UPDATE_READ).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, sent.id).ack == ACK_READ
    # A late "delivered" (different bytes: another date_time) never lowers "read".
    delivered["date_time"] = "2025-09-24T21:38:00.000Z"
    assert _post(client, prefix, conn.id, delivered).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, sent.id).ack == ACK_READ


def test_agent_reply_reaches_stub_and_ack_moves(client, prefix, conn, admin, auth, evolution_stub):
    _post(client, prefix, conn.id, _text())
    db.session.expire_all()
    ticket = db.session.scalar(sa.select(Ticket))
    resp = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "Claro!"}, headers=auth(admin)
    )
    assert resp.status_code in (200, 201), resp.get_json()
    (call,) = evolution_stub.calls("/message/sendText/inst1")
    assert call.json["number"] == "5511988887777" and call.json["text"].endswith("Claro!")
    db.session.expire_all()
    reply = db.session.scalar(sa.select(Message).where(Message.from_me.is_(True)))
    assert reply.provider_id.startswith("BAE5") and reply.ack == ACK_SENT

    read = copy.deepcopy(UPDATE_READ)
    read["data"]["keyId"] = reply.provider_id
    assert _post(client, prefix, conn.id, read).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, reply.id).ack == ACK_READ


def test_qrcode_updated_reaches_sockets_and_open_connects(
    client, prefix, company, conn, admin, socket_client
):
    sock = socket_client(admin)
    sock.get_received()
    conn.status = "OPENING"
    db.session.commit()
    assert _post(client, prefix, conn.id, QR_UPDATED).status_code == 200
    db.session.expire_all()
    row = db.session.get(Whatsapp, conn.id)
    assert row.status == "qrcode" and row.qrcode == "2@abc"
    sessions = [
        e for e in sock.get_received() if e["name"] == f"company-{company.id}-whatsappSession"
    ]
    assert sessions and sessions[-1]["args"][0]["action"] == "update"

    opened = {
        "event": "connection.update",
        "instance": "inst1",
        "data": {"instance": "inst1", "state": "open", "statusReason": 200},
    }
    assert _post(client, prefix, conn.id, opened).status_code == 200
    db.session.expire_all()
    row = db.session.get(Whatsapp, conn.id)
    assert row.status == "CONNECTED" and not row.qrcode


def test_revoke_reaction_and_edit_land_on_the_message(client, prefix, conn):
    _post(client, prefix, conn.id, _text("first text"))
    key = {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False}
    reaction = {"reactionMessage": {"key": {"id": "3EB0IN1"}, "text": "👍"}}
    _post(client, prefix, conn.id, upsert({**key, "id": "R1"}, reaction, "reactionMessage"))
    edit = {
        "protocolMessage": {
            "key": {"id": "3EB0IN1"},
            "type": "MESSAGE_EDIT",
            "editedMessage": {"conversation": "edited text"},
        }
    }
    _post(client, prefix, conn.id, upsert({**key, "id": "E1"}, edit, "protocolMessage"))
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "3EB0IN1"))
    assert message.reactions[0]["emoji"] == "👍"
    assert message.body == "edited text" and message.edit_history[0]["body"] == "first text"
    deleted = {"event": "messages.delete", "instance": "inst1", "data": {**key, "id": "3EB0IN1"}}
    assert _post(client, prefix, conn.id, deleted).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, message.id).is_deleted
    assert _count(Message) == 1  # none of these created a message


def test_creating_an_evolution_connection_registers_the_webhook(
    client, prefix, admin, auth, evolution_stub, app
):
    from tests.stubs.evolution import API_KEY

    resp = client.post(
        f"{prefix}/whatsapp",
        json={
            "name": "Bridge",
            "provider": "evolution",
            "providerConfig": {
                "baseUrl": evolution_stub.url,
                "apiKey": API_KEY,
                "instance": "created-inst",
            },
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    whatsapp_id = resp.get_json()["id"]
    hooks = evolution_stub.calls("/webhook/set/created-inst")
    assert len(hooks) == 1
    url = json.dumps(hooks[0].json)
    assert f"/webhooks/evolution/{whatsapp_id}/" in url
    db.session.expire_all()
    from whaticket.models import Whatsapp

    assert db.session.get(Whatsapp, whatsapp_id).status in ("qrcode", "CONNECTED", "OPENING")
