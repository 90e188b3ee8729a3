"""Poison deliveries end to end (webhook -> stored -> drained): each one ends stored in a
ticket, or failed with its reason for the company's admins; none stays pending.

Run on MariaDB too (TEST_DATABASE_URL): its byte limits (TEXT = 65,535 bytes, strict
VARCHAR lengths) are what made these fail there while SQLite stored them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as evolution_stubs
from tests.stubs.evolution import API_KEY
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID, with_messages, with_statuses
from tests.whatsapp.evolution.test_parser import QR_UPDATED, SECRET, upsert
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import InboundEvent, Message, Ticket, Whatsapp
from whaticket.models.message import ACK_READ
from whaticket.models.ticket import LAST_MESSAGE_MAX
from whaticket.services.inbound import deliveries
from whaticket.utils.crypto import encrypt_json
from whaticket.whatsapp import bounds

evolution_stub = evolution_stubs.evolution_stub
APP_SECRET = "app-secret-1"
EMOJI_TEXT = "😀" * 20000  # 80,000 bytes in UTF-8
LONG_ID = "wamid." + "X" * 5000


@pytest.fixture
def cloud(company, graph_stub):
    conn = factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": APP_SECRET,
                "verifyToken": "verify-me",
                "baseUrl": graph_stub.url,
            }
        ),
    )
    db.session.commit()
    return conn


@pytest.fixture
def evolution(company, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="qrcode",
        qrcode="2@previous",
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


def post_cloud(client, prefix, payload: dict):
    raw = json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    resp = client.post(
        f"{prefix}/webhooks/cloud",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sig},
    )
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()


def post_evolution(client, prefix, conn, payload: dict):
    resp = client.post(
        f"{prefix}/webhooks/evolution/{conn.id}/{SECRET}",
        data=json.dumps(payload).encode(),
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()


def cloud_message(**fields) -> dict:
    msg = {"from": "5511988887777", "id": "wamid.A1", "type": "text", "text": {"body": "oi"}}
    msg.update(fields)
    return msg


def evolution_text(remote="5511988887777@s.whatsapp.net", msg_id="3EB0A", text="oi") -> dict:
    key = {"remoteJid": remote, "fromMe": False, "id": msg_id}
    return upsert(key, {"conversation": text}, "conversation")


def only_event() -> InboundEvent:
    (event,) = db.session.scalars(sa.select(InboundEvent)).all()
    assert event.status != "pending"  # never left to retry forever
    return event


def only_message() -> Message:
    (message,) = db.session.scalars(sa.select(Message)).all()
    assert db.session.get(Ticket, message.ticket_id) is not None
    return message


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# -- the seven poison deliveries -----------------------------------------------------


def test_cloud_text_over_65535_bytes_is_stored_whole(client, prefix, cloud):
    post_cloud(client, prefix, with_messages([cloud_message(text={"body": EMOJI_TEXT})]))
    assert only_event().status == "done"
    message = only_message()
    assert message.body == EMOJI_TEXT
    ticket = db.session.get(Ticket, message.ticket_id)
    assert len(ticket.last_message) == LAST_MESSAGE_MAX  # a preview, fits its TEXT column


def test_evolution_text_over_65535_bytes_is_stored_whole(client, prefix, evolution):
    post_evolution(client, prefix, evolution, evolution_text(text=EMOJI_TEXT))
    assert only_event().status == "done"
    assert only_message().body == EMOJI_TEXT


def test_cloud_500_digit_sender_fails_at_once_with_its_reason(client, prefix, cloud):
    post_cloud(client, prefix, with_messages([cloud_message(**{"from": "9" * 500})]))
    event = only_event()
    assert event.status == "failed" and event.attempts == 1 and event.next_attempt_at is None
    assert "wamid.A1" in event.last_error and "500 characters" in event.last_error
    assert count(Message) == 0 and count(Ticket) == 0


def test_evolution_huge_remote_jid_fails_at_once_with_its_reason(client, prefix, evolution):
    post_evolution(client, prefix, evolution, evolution_text(remote="5" * 100000 + "@c.us"))
    event = only_event()
    assert event.status == "failed" and "100000 characters" in event.last_error
    assert count(Message) == 0


def test_cloud_5000_character_id_is_stored_and_its_status_applies(client, prefix, cloud):
    post_cloud(client, prefix, with_messages([cloud_message(id=LONG_ID, type="text")]))
    message = only_message()
    assert message.provider_id == bounds.ident(LONG_ID)
    # From the phone's point of view this is a message of the contact; a status for the
    # same id (what Meta sends for ours) still finds it by the same short form.
    message.from_me = True
    db.session.commit()
    post_cloud(client, prefix, with_statuses([{"id": LONG_ID, "status": "read"}]))
    assert db.session.get(Message, message.id).ack == ACK_READ
    statuses = db.session.scalars(sa.select(InboundEvent.status)).all()
    assert statuses == ["done", "done"]


def test_cloud_interactive_str_is_stored_as_a_placeholder(client, prefix, cloud):
    msg = cloud_message(type="interactive", interactive="str")
    nested = cloud_message(
        id="wamid.A2", type="interactive", interactive={"type": "button_reply", "button_reply": 1}
    )
    post_cloud(client, prefix, with_messages([msg, nested]))
    assert only_event().status == "done"
    bodies = db.session.scalars(sa.select(Message.body).order_by(Message.id)).all()
    assert bodies == ["[unsupported message type: interactive]"] * 2


def test_evolution_3mb_qr_code_fails_with_its_reason_and_keeps_the_old_code(
    client, prefix, evolution
):
    payload = copy.deepcopy(QR_UPDATED)
    payload["data"]["qrcode"]["code"] = "2@" + "A" * 3_000_000
    post_evolution(client, prefix, evolution, payload)
    event = only_event()
    assert event.status == "failed" and "QR code of 3000002 bytes" in event.last_error
    assert db.session.get(Whatsapp, evolution.id).qrcode == "2@previous"


# -- around them -----------------------------------------------------------------------


def test_a_poisoned_message_does_not_take_its_neighbours_down(client, prefix, cloud):
    good = cloud_message(id="wamid.GOOD", text={"body": "tudo bem"})
    bad = cloud_message(id="wamid.BAD", **{"from": "1" * 300})
    post_cloud(client, prefix, with_messages([good, bad]))
    event = only_event()
    assert event.status == "failed" and "wamid.BAD" in event.last_error
    assert only_message().provider_id == "wamid.GOOD"


def test_a_delivery_that_is_not_json_fails_at_once(app, cloud):
    event = InboundEvent(
        company_id=cloud.company_id,
        whatsapp_id=cloud.id,
        provider="cloud",
        dedupe_key="k1",
        payload="{not json",
        status="pending",
    )
    db.session.add(event)
    db.session.commit()
    deliveries.enqueue_drain(cloud.id)
    dbmod.commit()  # the drain runs after the commit (inline in tests)
    db.session.expire_all()
    row = db.session.get(InboundEvent, event.id)
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error == "UnreadableDeliveryError: the delivery is not valid JSON"


def test_a_delivery_too_large_to_store_is_kept_failed_and_empty(app, cloud, monkeypatch):
    monkeypatch.setattr(deliveries, "PAYLOAD_MAX_BYTES", 1000)
    raw = json.dumps({"x": "é" * 600}, ensure_ascii=False).encode()
    event = deliveries.record(cloud, raw)
    dbmod.commit()
    db.session.expire_all()
    row = db.session.get(InboundEvent, event.id)
    assert row.status == "failed" and row.payload == ""
    assert row.last_error == f"delivery of {len(raw)} bytes, over 1000"
    assert deliveries.record(cloud, raw) is None  # a redelivery is still recognised
