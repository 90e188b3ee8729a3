"""The fake provider's HTTP face: inbound injection, status callbacks, the outbox;
who may use it, on which connections, and when it is switched off."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.api.fake_gateway import fake_gateway_enabled
from whaticket.extensions import db
from whaticket.models import Message
from whaticket.models.message import ACK_ERROR, ACK_READ, ACK_SENT
from whaticket.services.connections.gateway import gateway_for
from whaticket.whatsapp.base import Media

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media_root(app, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, status="CONNECTED", provider="fake", is_default=True
    )


def _url(prefix: str, wid: int, action: str) -> str:
    return f"{prefix}/fake-gateway/{wid}/{action}"


def _messages(company_id: int) -> list[Message]:
    return list(
        db.session.scalars(
            sa.select(Message).where(Message.company_id == company_id).order_by(Message.id)
        )
    )


# -- on / off -----------------------------------------------------------------------


def test_enabled_by_default_off_in_production_unless_asked(app):
    assert fake_gateway_enabled() is True
    app.config["APP_ENV"] = "production"
    assert fake_gateway_enabled() is False
    app.config["FAKE_GATEWAY_ENABLED"] = "true"
    assert fake_gateway_enabled() is True
    app.config["FAKE_GATEWAY_ENABLED"] = "false"
    app.config["APP_ENV"] = "development"
    assert fake_gateway_enabled() is False


def test_when_off_every_route_is_404(app, client, prefix, auth, admin, conn):
    app.config["FAKE_GATEWAY_ENABLED"] = "false"
    for method, action, kwargs in (
        ("post", "inbound", {"json": {"from": "5511999990000", "body": "hi"}}),
        ("post", "status", {"json": {"id": "X", "status": "read"}}),
        ("get", "outbox", {}),
    ):
        for headers in (auth(admin), {}):
            resp = getattr(client, method)(_url(prefix, conn.id, action), headers=headers, **kwargs)
            assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}


# -- who may use it (all three routes) ------------------------------------------------


ROUTES = [
    ("post", "inbound", {"json": {"from": "5511999990000", "body": "hi"}}),
    ("post", "status", {"json": {"id": "X", "status": "read"}}),
    ("get", "outbox", {}),
]


@pytest.mark.parametrize(("method", "action", "kwargs"), ROUTES)
def test_needs_a_token(client, prefix, conn, method, action, kwargs):
    resp = getattr(client, method)(_url(prefix, conn.id, action), **kwargs)
    assert resp.status_code == 401


@pytest.mark.parametrize(("method", "action", "kwargs"), ROUTES)
def test_agents_are_refused(client, prefix, auth, agent, conn, method, action, kwargs):
    resp = getattr(client, method)(_url(prefix, conn.id, action), headers=auth(agent), **kwargs)
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _messages(conn.company_id) == []


@pytest.mark.parametrize(("method", "action", "kwargs"), ROUTES)
def test_another_company_connection_is_404(
    client, prefix, auth, other_admin, conn, method, action, kwargs
):
    resp = getattr(client, method)(
        _url(prefix, conn.id, action), headers=auth(other_admin), **kwargs
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    assert _messages(conn.company_id) == []


@pytest.mark.parametrize(("method", "action", "kwargs"), ROUTES)
def test_only_fake_connections(client, prefix, auth, admin, company, method, action, kwargs):
    cloud = factories.WhatsappFactory(company=company, provider="cloud", status="CONNECTED")
    resp = getattr(client, method)(_url(prefix, cloud.id, action), headers=auth(admin), **kwargs)
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_NOT_A_FAKE_CONNECTION"}


# -- GET outbox ---------------------------------------------------------------------


def test_outbox_lists_sends_newest_last(client, prefix, auth, admin, conn):
    assert client.get(_url(prefix, conn.id, "outbox"), headers=auth(admin)).get_json() == []
    gw = gateway_for(conn)
    first = gw.send_text(conn, "5511999990000", "one")
    second = gw.send_media(conn, "5511999990000", Media(JPEG, "image/jpeg", "p.jpg"))
    resp = client.get(_url(prefix, conn.id, "outbox"), headers=auth(admin))
    assert resp.status_code == 200
    rows = resp.get_json()
    assert [r["id"] for r in rows] == [first.provider_id, second.provider_id]
    assert set(rows[0]) >= {"id", "to", "type", "body", "createdAt"}
    assert rows[0]["type"] == "text" and rows[1]["type"] == "image"
    assert rows[1]["mediaUrl"].startswith("http") and "sig=" in rows[1]["mediaUrl"]


# -- POST inbound: validation (before the pipeline runs) -----------------------------


def test_inbound_validation(client, prefix, auth, admin, conn):
    url = _url(prefix, conn.id, "inbound")
    resp = client.post(url, json={"body": "hi"}, headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "from" in resp.get_json()["fields"]
    resp = client.post(url, json={"from": "not a number", "body": "hi"}, headers=auth(admin))
    assert resp.status_code == 400 and "from" in resp.get_json()["fields"]
    resp = client.post(url, json={"from": "5511999990000", "body": " "}, headers=auth(admin))
    assert resp.status_code == 400 and "body" in resp.get_json()["fields"]
    resp = client.post(url, json=["x"], headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    resp = client.post(
        url, data="{bad", headers={**auth(admin), "Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert _messages(conn.company_id) == []


def test_inbound_media_limits(app, client, prefix, auth, admin, conn):
    url = _url(prefix, conn.id, "inbound")
    exe = (io.BytesIO(b"MZ\x90\x00" * 20), "x.exe", "application/x-msdownload")
    resp = client.post(
        url,
        data={"from": "5511999990000", "media": exe},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 415 and resp.get_json() == {"error": "ERR_UNSUPPORTED_MEDIA_TYPE"}
    app.config["MEDIA_MAX_BYTES"] = 32
    resp = client.post(
        url,
        data={"from": "5511999990000", "media": (io.BytesIO(JPEG), "p.jpg", "image/jpeg")},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and resp.get_json() == {"error": "ERR_FILE_TOO_LARGE"}
    assert _messages(conn.company_id) == []


def test_oversize_bodies_are_refused_before_reading(app, client, prefix, auth, admin, conn):
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MEDIA_MAX_BYTES"] + 1024 * 1024
    app.config["MAX_CONTENT_LENGTH"] = 100
    resp = client.post(
        _url(prefix, conn.id, "inbound"),
        data={"from": "5511999990000", "media": (io.BytesIO(JPEG * 10), "p.jpg", "image/jpeg")},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413 and resp.get_json() == {"error": "ERR_PAYLOAD_TOO_LARGE"}


# -- POST inbound: end to end through the inbound pipeline ----------------------------


def test_inbound_json_creates_one_message_per_id(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.messages")
    url = _url(prefix, conn.id, "inbound")
    payload = {"from": "5511999990000", "name": "Ana", "body": "hello", "id": "ABC-1"}
    resp = client.post(url, json=payload, headers=auth(admin))
    assert resp.status_code == 202 and resp.get_json() == {"id": "ABC-1"}
    again = client.post(url, json=payload, headers=auth(admin))
    assert again.status_code == 202 and again.get_json() == {"id": "ABC-1"}
    [msg] = _messages(conn.company_id)
    assert msg.provider_id == "ABC-1" and msg.body == "hello" and msg.from_me is False
    assert msg.whatsapp_id == conn.id


def test_inbound_without_id_gets_a_generated_one(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.messages")
    resp = client.post(
        _url(prefix, conn.id, "inbound"),
        json={"from": "5511999990000", "name": "Ana", "body": "hello"},
        headers=auth(admin),
    )
    assert resp.status_code == 202
    new_id = resp.get_json()["id"]
    assert new_id.startswith("FAKEIN-")
    assert [m.provider_id for m in _messages(conn.company_id)] == [new_id]


def test_inbound_multipart_with_media(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.messages")
    resp = client.post(
        _url(prefix, conn.id, "inbound"),
        data={
            "from": "5511999990000",
            "name": "Ana",
            "body": "a photo",
            "id": "IMG-1",
            # Declared wrongly on purpose: the type comes from the bytes.
            "media": (io.BytesIO(JPEG), "photo.jpg", "application/octet-stream"),
        },
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 202 and resp.get_json() == {"id": "IMG-1"}
    [msg] = _messages(conn.company_id)
    assert msg.media_type == "image" and msg.body == "a photo"


# -- POST status ----------------------------------------------------------------------


def test_status_validation(client, prefix, auth, admin, conn):
    url = _url(prefix, conn.id, "status")
    resp = client.post(url, json={"id": "X", "status": "lost"}, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "status" in body["fields"]
    resp = client.post(url, json={"status": "read"}, headers=auth(admin))
    assert resp.status_code == 400 and "id" in resp.get_json()["fields"]


def test_status_moves_the_ack(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.acks")
    sent = gateway_for(conn).send_text(conn, "5511999990000", "hi")
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    msg = factories.MessageFactory(
        ticket=ticket, provider_id=sent.provider_id, ack=ACK_SENT, from_me=True
    )
    resp = client.post(
        _url(prefix, conn.id, "status"),
        json={"id": sent.provider_id, "status": "read"},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    assert resp.get_json() == {"id": sent.provider_id, "ack": ACK_READ}
    db.session.expire_all()
    assert db.session.get(Message, msg.id).ack == ACK_READ


def test_status_failed_marks_the_message(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.acks")
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    msg = factories.MessageFactory(ticket=ticket, provider_id="FAKE-x", ack=ACK_SENT, from_me=True)
    resp = client.post(
        _url(prefix, conn.id, "status"),
        json={"id": "FAKE-x", "status": "failed"},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json() == {"id": "FAKE-x", "ack": ACK_ERROR}
    db.session.expire_all()
    failed = db.session.get(Message, msg.id)
    assert failed.ack == ACK_ERROR and failed.error == "failed on demand"


def test_status_of_an_unknown_message_is_404(client, prefix, auth, admin, conn, other_company):
    pytest.importorskip("whaticket.services.inbound.acks")
    # A message with that id on another company's connection is still unknown here.
    theirs = factories.TicketFactory(company=other_company)
    factories.MessageFactory(ticket=theirs, provider_id="FAKE-theirs")
    for pid in ("FAKE-missing", "FAKE-theirs"):
        resp = client.post(
            _url(prefix, conn.id, "status"), json={"id": pid, "status": "read"}, headers=auth(admin)
        )
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_MESSAGE_FOUND"}


def test_inbound_phone_echo_is_from_me(client, prefix, auth, admin, conn):
    pytest.importorskip("whaticket.services.inbound.messages")
    resp = client.post(
        _url(prefix, conn.id, "inbound"),
        json={"from": "5511999990000", "body": "sent from the phone", "id": "ME-1", "fromMe": True},
        headers=auth(admin),
    )
    assert resp.status_code == 202
    [msg] = _messages(conn.company_id)
    assert msg.from_me is True and msg.provider_id == "ME-1"
