"""External API: POST /api/messages/send with a connection token, JSON or multipart."""

from __future__ import annotations

import io

import sqlalchemy as sa

from tests import factories
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.models import Contact, Message, Ticket
from whaticket.services.connections import fake_whatsapp
from whaticket.whatsapp.fake import FakeGateway

URL = "/api/messages/send"  # fixed: never under API_PREFIX
NUMBER = "5511988887777"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def _conn(company, **kw):
    conn = factories.WhatsappFactory(
        company=company, status="CONNECTED", token=kw.pop("token", "api-token-1234567890"), **kw
    )
    db.session.commit()
    return conn


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_json_send_creates_contact_ticket_and_message(client, app, company, admin):
    conn = _conn(company)
    resp = client.post(
        URL,
        json={"number": "+55 (11) 98888-7777", "body": "Hi {{name}}"},
        headers=_bearer(conn.token),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["mensagem"] == "Mensagem enviada"
    message = db.session.get(Message, body["messageId"])
    ticket = db.session.get(Ticket, body["ticketId"])
    assert message.origin == "api" and message.from_me and message.ticket_id == ticket.id
    assert message.body == f"Hi {NUMBER}" and message.provider_id.startswith("FAKE-")
    assert ticket.whatsapp_id == conn.id and ticket.status == "pending"
    contact = db.session.get(Contact, ticket.contact_id)
    assert contact.number == NUMBER and contact.name == NUMBER and contact.company_id == company.id
    [sent] = fake_whatsapp.read_outbox(conn.id)
    assert sent["to"] == NUMBER and sent["body"] == f"Hi {NUMBER}"
    # A second send reuses the contact and the ticket.
    again = client.post(URL, json={"number": NUMBER, "body": "2"}, headers=_bearer(conn.token))
    assert again.get_json()["ticketId"] == ticket.id
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 1


def test_multipart_send_with_files(client, company, admin):
    conn = _conn(company)
    resp = client.post(
        URL,
        data={
            "number": NUMBER,
            "body": "the caption",
            "medias": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")],
        },
        headers=_bearer(conn.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    rows = list(db.session.scalars(sa.select(Message).order_by(Message.id)))
    assert len(rows) == 2 and all(m.origin == "api" for m in rows)
    assert rows[-1].id == resp.get_json()["messageId"] and rows[0].media_type == "image"
    assert [e["type"] for e in fake_whatsapp.read_outbox(conn.id)] == ["image", "image"]
    assert fake_whatsapp.read_outbox(conn.id)[0]["body"] == "the caption"


def test_multipart_text_only(client, company, admin):
    conn = _conn(company)
    resp = client.post(
        URL,
        data={"number": NUMBER, "body": "plain"},
        headers=_bearer(conn.token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    assert fake_whatsapp.read_outbox(conn.id)[0]["body"] == "plain"


def test_close_ticket(client, company, admin):
    conn = _conn(company)
    resp = client.post(
        URL,
        json={"number": NUMBER, "body": "bye", "closeTicket": True},
        headers=_bearer(conn.token),
    )
    assert resp.status_code == 200, resp.get_json()
    ticket = db.session.get(Ticket, resp.get_json()["ticketId"])
    assert ticket.status == "closed"
    # The next send reopens the conversation as pending.
    resp = client.post(URL, json={"number": NUMBER, "body": "again"}, headers=_bearer(conn.token))
    db.session.expire_all()
    assert db.session.get(Ticket, resp.get_json()["ticketId"]).status == "pending"


def test_bad_or_missing_token_is_401(client, company):
    _conn(company)
    for headers in ({}, _bearer("nope"), {"Authorization": "api-token-1234567890"}):
        resp = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=headers)
        assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_INVALID_TOKEN"}
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_bad_numbers_and_payloads(client, company):
    conn = _conn(company)
    resp = client.post(URL, json={"number": "12ab", "body": "x"}, headers=_bearer(conn.token))
    assert resp.status_code == 400 and "number" in resp.get_json()["fields"]
    resp = client.post(URL, json={"body": "x"}, headers=_bearer(conn.token))
    assert resp.status_code == 400 and "number" in resp.get_json()["fields"]
    resp = client.post(URL, json={"number": NUMBER}, headers=_bearer(conn.token))
    assert resp.status_code == 400 and "body" in resp.get_json()["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_a_number_not_on_whatsapp(client, company, monkeypatch):
    conn = _conn(company)
    monkeypatch.setattr(FakeGateway, "check_number", lambda self, conn, number: None)
    resp = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=_bearer(conn.token))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_NUMBER_NOT_ON_WHATSAPP"}
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_the_path_ignores_api_prefix(app):
    class PrefixedConfig(TestingConfig):
        API_PREFIX = "/v9"

    other = create_app(PrefixedConfig)
    resp = other.test_client().post(URL, json={"number": NUMBER, "body": "x"})
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_INVALID_TOKEN"}
    assert other.test_client().post("/v9" + URL, json={}).status_code == 404


def test_provider_failure_is_503_and_keeps_the_failed_row(client, company):
    conn = _conn(company)
    conn.status = "DISCONNECTED"  # the fake refuses sends (retryable)
    db.session.commit()
    resp = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=_bearer(conn.token))
    assert resp.status_code == 503 and resp.get_json() == {"error": "ERR_SENDING_WAPP_MSG"}
    [row] = db.session.scalars(sa.select(Message)).all()
    assert row.ack == 0 and row.error


def test_rate_limit_per_token(client, app, company, other_company):
    app.config["EXTERNAL_API_MAX_PER_MINUTE"] = 2
    conn = _conn(company)
    other = _conn(other_company, token="other-token-0987654321")
    for _ in range(2):
        ok = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=_bearer(conn.token))
        assert ok.status_code == 200
    resp = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=_bearer(conn.token))
    assert resp.status_code == 429 and resp.get_json() == {"error": "ERR_TOO_MANY_ATTEMPTS"}
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    resp = client.post(URL, json={"number": NUMBER, "body": "x"}, headers=_bearer(other.token))
    assert resp.status_code == 200
