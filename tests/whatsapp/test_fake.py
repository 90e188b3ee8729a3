"""The fake provider: outbox (memory and Redis, across processes), failures on demand,
promised acks, number checks, sessions and its webhook format.

The provider takes `FakeSettings`; the tests marked "binding" go through
`services/connections/gateway.py` with a connection row (media kept in the company folder, acks
scheduled as jobs, the app's Redis store).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests import factories
from whaticket import create_app, jobs
from whaticket import db as dbmod
from whaticket.config import TestingConfig
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import acks
from whaticket.models import Message
from whaticket.services.connections import fake_whatsapp
from whaticket.services.connections.gateway import gateway_for, provider_names
from whaticket.whatsapp import fake
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    GatewayError,
    InboundMessage,
    Media,
    SessionNotConnectedError,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64

requires_redis = pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL is not set"
)


@pytest.fixture(autouse=True)
def _media_root(app, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")


@pytest.fixture
def settings() -> fake.FakeSettings:
    """A connected fake connection with a process-memory store of its own."""
    return fake.FakeSettings(connection_id=7, store=fake.FakeStore(namespace=uuid.uuid4().hex))


@pytest.fixture
def gw() -> fake.FakeGateway:
    return fake.FakeGateway()


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(company=company, status="CONNECTED", provider="fake")


def _scheduled():
    return sorted(jobs.get_backend().scheduled)


# -- registry ---------------------------------------------------------------------


def test_registry_picks_the_fake_for_a_fake_connection(conn):
    assert "fake" in provider_names()
    gw = gateway_for(conn)
    assert isinstance(gw.provider, fake.FakeGateway) and gw.name == "fake"


# -- sends and the outbox ---------------------------------------------------------


def test_send_text_answers_a_provider_id_and_records_it(gw, settings):
    result = gw.send_text(settings, "5511999990000", "hello")
    assert result.provider_id.startswith("FAKE-") and len(result.provider_id) == 37
    assert result.ack == ACK_SENT
    [entry] = gw.outbox(settings)
    assert entry["id"] == result.provider_id and entry["to"] == "5511999990000"
    assert entry["type"] == "text" and entry["body"] == "hello"
    assert entry["createdAt"].endswith("Z") and "mediaUrl" not in entry


def test_entries_are_stamped_with_the_settings_clock(gw, settings):
    frozen = replace(settings, clock=lambda: datetime(2026, 1, 2, 3, 4, 5, 678000, UTC))
    gw.send_text(frozen, "5511999990000", "hello")
    assert gw.outbox(frozen)[0]["createdAt"] == "2026-01-02T03:04:05.678Z"


def test_outbox_is_newest_last_and_per_connection(gw, settings):
    other = replace(settings, connection_id=8)
    ids = [gw.send_text(settings, "5511999990000", f"m{i}").provider_id for i in range(3)]
    gw.send_text(other, "5511999990000", "elsewhere")
    assert [e["id"] for e in fake.read_outbox(settings.store, 7)] == ids
    assert [e["body"] for e in fake.read_outbox(settings.store, 8)] == ["elsewhere"]
    fake.clear_outbox(settings.store, 7)
    assert fake.read_outbox(settings.store, 7) == []
    # Another namespace is another store: the same ids see nothing of these sends.
    assert fake.read_outbox(fake.FakeStore(namespace="elsewhere"), 8) == []


def test_outbox_keeps_only_the_newest_entries(gw, settings):
    small = replace(settings, store=replace(settings.store, outbox_max=3))
    for i in range(5):
        gw.send_text(small, "5511999990000", f"m{i}")
    assert [e["body"] for e in gw.outbox(small)] == ["m2", "m3", "m4"]


def test_a_second_instance_sees_the_first_ones_sends(settings):
    fake.FakeGateway().send_text(settings, "5511999990000", "shared")
    assert [e["body"] for e in fake.FakeGateway().outbox(settings)] == ["shared"]


def test_media_sends_go_through_the_settings_sink(gw, settings):
    kept: list[Media] = []

    def sink(media: Media) -> fake.SavedMedia:
        kept.append(media)
        return fake.SavedMedia(url=f"https://files.example/{media.filename}", mimetype="image/png")

    gw.send_media(
        replace(settings, media_sink=sink),
        "5511999990000",
        Media(JPEG, "image/jpeg", "p.jpg"),
        caption="look",
    )
    gw.send_media(settings, "5511999990000", Media(PDF, "application/pdf", "doc.pdf"))
    image, document = gw.outbox(settings)
    assert kept == [Media(JPEG, "image/jpeg", "p.jpg")]
    assert image["mediaUrl"] == "https://files.example/p.jpg" and image["mimetype"] == "image/png"
    assert image["type"] == "image" and image["body"] == "look"
    assert document["type"] == "document" and "mediaUrl" not in document


def test_media_sends_are_typed_and_their_url_opens_without_a_token(client, conn):
    """Binding: the sink keeps the file in the company's media folder."""
    gw = gateway_for(conn)
    gw.send_media(conn, "5511999990000", Media(JPEG, "image/jpeg", "p.jpg"), caption="look")
    gw.send_media(conn, "5511999990000", Media(PDF, "application/pdf", "doc.pdf"))
    gw.send_media(conn, "5511999990000", Media(b"OggS" + b"\0" * 40, "audio/ogg", "v.ogg"))
    gw.send_media(conn, "5511999990000", Media(b"\0\0\0\x18ftypisom" + b"\0" * 40, "", "c.mp4"))
    image, document, audio, video = gw.outbox(conn)
    assert image["type"] == "image" and image["body"] == "look"
    assert document["type"] == "document" and audio["type"] == "audio"
    assert video["type"] == "video"
    url = urlsplit(image["mediaUrl"])
    with client.get(f"{url.path}?{url.query}") as resp:
        assert resp.status_code == 200 and resp.data == JPEG
        assert resp.mimetype == "image/jpeg"


def test_refused_media_is_a_final_gateway_error(app, conn):
    """Binding: a file the media folder refuses is refused like WhatsApp would."""
    app.config["MEDIA_MAX_BYTES"] = 10
    with pytest.raises(GatewayError) as exc:
        gateway_for(conn).send_media(conn, "5511999990000", Media(JPEG, "image/jpeg", "p.jpg"))
    assert exc.value.code == "ERR_FILE_TOO_LARGE" and exc.value.retryable is False
    assert fake_whatsapp.read_outbox(conn.id) == []


def test_reaction_read_and_delete_are_recorded(gw, settings):
    sent = gw.send_text(settings, "5511999990000", "hi")
    reaction = gw.send_reaction(settings, "5511999990000", sent.provider_id, "👍")
    gw.mark_read(settings, "5511999990000", ["IN1", "IN2"])
    gw.delete_message(settings, "5511999990000", sent.provider_id)
    _, react, read, delete = gw.outbox(settings)
    assert react["type"] == "reaction" and react["body"] == "👍"
    assert react["id"] == reaction.provider_id and react["targetId"] == sent.provider_id
    assert read["type"] == "read" and read["targetIds"] == ["IN1", "IN2"]
    assert delete["type"] == "delete" and delete["targetId"] == sent.provider_id


# -- failures on demand -----------------------------------------------------------


def test_numbers_starting_with_000_are_refused_for_good(gw, settings):
    with pytest.raises(GatewayError) as exc:
        gw.send_text(settings, "000123456789", "hi")
    assert exc.value.code == "ERR_FAKE_REJECTED" and exc.value.retryable is False
    with pytest.raises(GatewayError):
        gw.send_media(settings, "000123456789", Media(JPEG, "image/jpeg", "p.jpg"))
    assert gw.outbox(settings) == []


@pytest.mark.parametrize("status", ["DISCONNECTED", "OPENING", "qrcode"])
def test_a_connection_that_is_not_connected_fails_retryably(gw, settings, status):
    down = replace(settings, status=status)
    for call in (
        lambda: gw.send_text(down, "5511999990000", "hi"),
        lambda: gw.send_media(down, "5511999990000", Media(JPEG, "image/jpeg", "p.jpg")),
        lambda: gw.send_reaction(down, "5511999990000", "X", "👍"),
        lambda: gw.mark_read(down, "5511999990000", ["X"]),
        lambda: gw.delete_message(down, "5511999990000", "X"),
    ):
        with pytest.raises(SessionNotConnectedError) as exc:
            call()
        assert exc.value.retryable is True and exc.value.code == "ERR_WAPP_NOT_INITIALIZED"
    assert gw.outbox(down) == []


def test_the_binding_passes_the_row_status(company):
    """Binding: a row that is not CONNECTED sends nothing."""
    conn = factories.WhatsappFactory(company=company, status="DISCONNECTED", provider="fake")
    with pytest.raises(SessionNotConnectedError):
        gateway_for(conn).send_text(conn, "5511999990000", "hi")


# -- automatic acks ---------------------------------------------------------------


def test_the_provider_promises_the_settings_acks(gw, settings):
    assert fake.auto_ack_steps("delivered, Read,lost,") == (ACK_DELIVERED, ACK_READ)
    assert fake.auto_ack_steps("") == () and fake.auto_ack_steps(None) == ()
    assert gw.scheduled_acks(settings, "FAKE-1") == [
        (1.0, AckUpdate("FAKE-1", ACK_DELIVERED)),
        (2.0, AckUpdate("FAKE-1", ACK_READ)),
    ]
    slow = replace(settings, auto_acks=(ACK_DELIVERED,), ack_delay=5)
    assert gw.scheduled_acks(slow, "FAKE-1") == [(5, AckUpdate("FAKE-1", ACK_DELIVERED))]


def test_a_send_schedules_delivered_then_read_after_commit(conn):
    """Binding: the promised acks become jobs, after the commit."""
    before = utcnow()
    sent = gateway_for(conn).send_text(conn, "5511999990000", "hi")
    assert _scheduled() == []  # nothing leaves before the transaction commits
    dbmod.commit()
    first, second = _scheduled()
    assert first.func is acks.apply_scheduled_ack and second.func is acks.apply_scheduled_ack
    assert first.args == (conn.id, sent.provider_id, ACK_DELIVERED)
    assert second.args == (conn.id, sent.provider_id, ACK_READ)
    assert before + timedelta(seconds=1) <= first.run_at < before + timedelta(seconds=2)
    assert second.run_at - first.run_at >= timedelta(seconds=0.99)


def test_auto_acks_follow_the_config(app, conn):
    app.config["FAKE_GATEWAY_AUTO_ACKS"] = "delivered"
    app.config["FAKE_GATEWAY_ACK_DELAY"] = 5
    before = utcnow()
    sent = gateway_for(conn).send_text(conn, "5511999990000", "hi")
    dbmod.commit()
    [only] = _scheduled()
    assert only.args == (conn.id, sent.provider_id, ACK_DELIVERED)
    assert only.run_at >= before + timedelta(seconds=5)


def test_auto_acks_can_be_disabled(app, conn):
    app.config["FAKE_GATEWAY_AUTO_ACKS"] = ""
    gateway_for(conn).send_text(conn, "5511999990000", "hi")
    dbmod.commit()
    assert _scheduled() == []


def test_read_receipts_and_deletes_promise_no_acks(conn):
    gw = gateway_for(conn)
    gw.mark_read(conn, "5511999990000", ["IN1"])
    gw.delete_message(conn, "5511999990000", "FAKE-X")
    dbmod.commit()
    assert _scheduled() == []


def test_rolled_back_sends_schedule_no_acks(conn):
    gateway_for(conn).send_text(conn, "5511999990000", "hi")
    dbmod.rollback()
    dbmod.commit()
    assert _scheduled() == []


def test_scheduled_acks_update_the_message(conn):
    sent = gateway_for(conn).send_text(conn, "5511999990000", "hi")
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    msg = factories.MessageFactory(
        ticket=ticket, provider_id=sent.provider_id, ack=ACK_SENT, from_me=True
    )
    dbmod.commit()
    backend = jobs.get_backend()
    assert backend.run_due(utcnow() + timedelta(seconds=1.5)) == 1
    db.session.expire_all()
    assert db.session.get(Message, msg.id).ack == ACK_DELIVERED
    assert backend.run_due(utcnow() + timedelta(seconds=3)) == 1
    db.session.expire_all()
    assert db.session.get(Message, msg.id).ack == ACK_READ


def test_an_ack_for_another_or_deleted_connection_changes_nothing(conn):
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    msg = factories.MessageFactory(ticket=ticket, provider_id="FAKE-X", ack=ACK_SENT, from_me=True)
    dbmod.commit()
    acks.apply_scheduled_ack(conn.id + 1000, "FAKE-X", ACK_READ)  # no such connection
    db.session.expire_all()
    assert db.session.get(Message, msg.id).ack == ACK_SENT
    acks.apply_scheduled_ack(conn.id, "FAKE-X", ACK_READ)
    db.session.expire_all()
    assert db.session.get(Message, msg.id).ack == ACK_READ


# -- Redis: the outbox is shared by every process ----------------------------------


@requires_redis
def test_outbox_lives_in_redis_for_other_apps(app, conn):
    assert app.config["REDIS_URL"]
    sent = gateway_for(conn).send_text(conn, "5511999990000", "via redis")
    from whaticket.redis_store import redis_connection

    raw = redis_connection(app).lrange(fake_whatsapp.outbox_key(conn.id), 0, -1)
    assert [json.loads(r)["id"] for r in raw] == [sent.provider_id]
    assert fake_whatsapp.outbox_key(conn.id).startswith("whaticket:fake:outbox:")
    second = create_app(TestingConfig)
    second.config["RATELIMIT_NAMESPACE"] = app.config["RATELIMIT_NAMESPACE"]
    with second.app_context():
        assert [e["id"] for e in fake_whatsapp.read_outbox(conn.id)] == [sent.provider_id]


@requires_redis
def test_outbox_is_visible_from_another_process(app, conn):
    sent = gateway_for(conn).send_text(conn, "5511999990000", "cross-process")
    code = (
        "import json, sys\n"
        "from whaticket import create_app\n"
        "from whaticket.config import TestingConfig\n"
        "from whaticket.services.connections import fake_whatsapp\n"
        "app = create_app(TestingConfig)\n"
        "app.config['RATELIMIT_NAMESPACE'] = sys.argv[1]\n"
        "with app.app_context():\n"
        "    print(json.dumps(fake_whatsapp.read_outbox(int(sys.argv[2]))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, app.config["RATELIMIT_NAMESPACE"], str(conn.id)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entries = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(e["id"], e["body"]) for e in entries] == [(sent.provider_id, "cross-process")]


# -- numbers, sessions, media references ---------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("5511999990000", "5511999990000"),
        ("+55 (11) 99999-0000", "5511999990000"),
        ("1234567890", "1234567890"),
        ("123456789012345", "123456789012345"),
        ("123456789", None),
        ("1234567890123456", None),
        ("0001234567890", None),
        ("", None),
    ],
)
def test_check_number(gw, settings, number, expected):
    assert gw.check_number(settings, number) == expected


def test_sessions_connect_at_once_and_disconnect(gw, settings):
    started = gw.start_session(settings)
    assert started.status == "CONNECTED" and started.qrcode is None
    assert gw.stop_session(settings).status == "DISCONNECTED"


def test_fetch_media_always_fails(gw, settings):
    with pytest.raises(GatewayError) as exc:
        gw.fetch_media(settings, "any-ref")
    assert exc.value.retryable is False


# -- webhook format ------------------------------------------------------------------


def test_parse_webhook_inbound_message(gw, settings):
    [event] = gw.parse_webhook(
        settings, {"from": "+55 11 99999-0000", "name": "Ana", "body": "oi", "id": "IN-1"}, {}
    )
    assert isinstance(event, InboundMessage)
    assert event.provider_id == "IN-1" and event.chat_id == "5511999990000"
    assert event.push_name == "Ana" and event.body == "oi" and event.from_me is False
    assert event.is_group is False and event.media is None and event.media_type == "chat"


def test_parse_webhook_group_and_generated_id(gw, settings):
    payload = {
        "from": "120363000000000001",
        "name": "Bob",
        "body": "hello group",
        "fromMe": True,
        "isGroup": True,
        "groupName": "Family",
        "participant": "5511988880000",
    }
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    [event] = gw.parse_webhook(replace(settings, clock=lambda: when), payload, {})
    assert event.provider_id.startswith("FAKEIN-") and event.from_me is True
    assert event.is_group is True and event.group_name == "Family"
    assert event.participant == "5511988880000" and event.chat_id == "120363000000000001"
    assert event.timestamp == when


@pytest.mark.parametrize(
    ("status", "ack", "error"),
    [
        ("sent", ACK_SENT, None),
        ("delivered", ACK_DELIVERED, None),
        ("read", ACK_READ, None),
        ("failed", ACK_ERROR, "failed on demand"),
    ],
)
def test_parse_webhook_status(gw, settings, status, ack, error):
    events = gw.parse_webhook(settings, {"id": "FAKE-1", "status": status}, {})
    assert events == [AckUpdate(provider_id="FAKE-1", ack=ack, error=error)]


@pytest.mark.parametrize("payload", [{}, {"id": "x"}, {"id": "x", "status": "lost"}, []])
def test_parse_webhook_refuses_other_payloads(gw, settings, payload):
    with pytest.raises(GatewayError):
        gw.parse_webhook(settings, payload, {})


def test_inbound_event_types_inline_media():
    event = fake.inbound_event("5511999990000", media=Media(JPEG, "image/jpeg", "p.jpg"))
    assert event.media_type == "image" and event.media.data == JPEG
    doc = fake.inbound_event("5511999990000", media=Media(PDF, "application/pdf", "d.pdf"))
    assert doc.media_type == "application"
    voice = fake.inbound_event("5511999990000", media=Media(b"OggS", "Audio/OGG; codecs=opus", "v"))
    assert voice.media_type == "audio"


# -- address book ("import contacts") -------------------------------------------------


def test_list_contacts_gives_the_book_then_the_recipients_once(gw, settings):
    store = settings.store
    assert gw.lists_contacts()
    assert (
        fake.add_contacts(
            store,
            7,
            [
                {"number": "+55 11 99999-0001", "name": "Ana"},
                {"number": "120363025246125888", "name": "Equipe", "isGroup": True},
                {"number": "", "name": "no number"},
            ],
        )
        == 2
    )
    fake.add_contacts(store, 7, [{"number": "5511999990001", "name": "Ana Souza"}])
    gw.send_text(settings, "5511999990001", "oi")  # already in the book: listed once
    gw.send_text(settings, "5511999990002", "oi")
    gw.mark_read(settings, "5511999990003", ["X"])  # a receipt is not a conversation
    listed = gw.list_contacts(settings)
    assert [(c.number, c.name, c.is_group) for c in listed] == [
        ("5511999990001", "Ana Souza", False),
        ("120363025246125888", "Equipe", True),
        ("5511999990002", None, False),
    ]
    assert gw.list_contacts(replace(settings, connection_id=8)) == []
    fake.clear_contacts(store, 7)
    assert [c.number for c in gw.list_contacts(settings)] == ["5511999990001", "5511999990002"]


def test_list_contacts_needs_a_connected_session(gw, settings):
    with pytest.raises(SessionNotConnectedError):
        gw.list_contacts(replace(settings, status="DISCONNECTED"))


def test_the_app_helpers_read_the_same_book(conn):
    """Binding: `services/fake_whatsapp` reads and writes the app's store by connection id."""
    assert fake_whatsapp.add_contacts(conn.id, [{"number": "5511999990001", "name": "Ana"}]) == 1
    assert fake_whatsapp.read_contacts(conn.id) == {
        "5511999990001": {"name": "Ana", "isGroup": False}
    }
    assert [c.name for c in gateway_for(conn).list_contacts(conn)] == ["Ana"]
    fake_whatsapp.clear_contacts(conn.id)
    assert fake_whatsapp.read_contacts(conn.id) == {}
