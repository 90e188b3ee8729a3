"""Webhook/n8n integrations: signed deliveries to a local receiver, retries, give-up, deletes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from datetime import timedelta

import pytest

from tests import factories
from tests.stubs import webhook_sink as sinks
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import QueueIntegration
from whaticket.services.bots import integrations
from whaticket.services.bots import webhooks as integration_webhook

webhook_sink = sinks.webhook_sink


@pytest.fixture
def ticket(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    contact = factories.ContactFactory(company=company, name="Maria", number="5511987654321")
    return factories.TicketFactory(company=company, whatsapp=conn, contact=contact)


@pytest.fixture
def message(ticket):
    return factories.MessageFactory(ticket=ticket, body="Oi, tudo bem?", provider_id="WAMID-1")


def _integration(company, url: str, kind: str = "webhook") -> QueueIntegration:
    record = QueueIntegration(company_id=company.id, type=kind, name=f"Hook {kind}", url_n8n=url)
    db.session.add(record)
    db.session.commit()
    return record


def _deliver(integration, ticket, message) -> None:
    integration_webhook.schedule(integration, ticket, message)
    dbmod.commit()  # the inline backend runs the first attempt right after the commit


def _run_later(seconds: float) -> int:
    return jobs.get_backend().run_due(utcnow() + timedelta(seconds=seconds))


def _pending() -> int:
    return len(jobs.get_backend().scheduled)


@pytest.mark.parametrize("kind", ["webhook", "n8n"])
def test_delivery_is_signed_and_verifiable(company, ticket, message, webhook_sink, kind):
    integration = _integration(company, webhook_sink.url, kind)
    consumed = integrations.run(ticket, message, integration, utcnow())
    dbmod.commit()
    assert consumed is False  # a feed: the normal bot flow goes on
    assert len(webhook_sink.requests) == 1
    got = webhook_sink.requests[0]
    assert got.path == "/hook" and got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Whaticket-Delivery"] == f"{integration.id}-{message.id}"

    # What a receiver does: HMAC over "<timestamp>.<raw body>" with the shared secret.
    timestamp = got.headers["X-Whaticket-Timestamp"]
    expected = hmac.new(
        integration.secret.encode(), timestamp.encode() + b"." + got.raw, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(got.headers["X-Whaticket-Signature"], f"sha256={expected}")
    assert abs(int(timestamp) - int(utcnow().timestamp())) < 60

    body = got.json()
    assert body["event"] == "message.received" and body["companyId"] == company.id
    assert body["integration"] == {"id": integration.id, "name": integration.name, "type": kind}
    assert body["ticket"] == {
        "id": ticket.id,
        "uuid": ticket.uuid,
        "status": "pending",
        "queueId": None,
        "userId": None,
        "whatsappId": ticket.whatsapp_id,
    }
    assert body["contact"] == {"id": ticket.contact_id, "name": "Maria", "number": "5511987654321"}
    sent = body["message"]
    assert sent["id"] == message.id and sent["wid"] == "WAMID-1"
    assert sent["body"] == "Oi, tudo bem?" and sent["fromMe"] is False
    assert sent["mediaType"] == "chat" and sent["createdAt"].endswith("Z")


def test_a_tampered_body_does_not_verify(company, ticket, message, webhook_sink):
    integration = _integration(company, webhook_sink.url)
    _deliver(integration, ticket, message)
    got = webhook_sink.requests[0]
    ts = int(got.headers["X-Whaticket-Timestamp"])
    forged = integration_webhook.signature(integration.secret, ts, got.raw.replace(b"Oi", b"Oh"))
    assert forged != got.headers["X-Whaticket-Signature"]
    other = integration_webhook.signature("another-secret", ts, got.raw)
    assert other != got.headers["X-Whaticket-Signature"]


def test_nothing_is_sent_before_the_commit(company, ticket, message, webhook_sink):
    integration = _integration(company, webhook_sink.url)
    integration_webhook.schedule(integration, ticket, message)
    assert webhook_sink.requests == []
    dbmod.rollback()
    dbmod.commit()
    assert webhook_sink.requests == []


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_retried_after_a_failure_then_delivered(company, ticket, message, webhook_sink, status):
    integration = _integration(company, webhook_sink.url)
    webhook_sink.fail_next(1, status)
    _deliver(integration, ticket, message)
    assert len(webhook_sink.requests) == 1 and _pending() == 1
    assert jobs.get_backend().run_due() == 0  # not yet: the first retry waits 30 s
    assert _run_later(31) == 1
    assert len(webhook_sink.requests) == 2 and _pending() == 0
    first, second = webhook_sink.requests
    assert first.headers["X-Whaticket-Delivery"] == second.headers["X-Whaticket-Delivery"]
    assert first.json() == second.json()


def test_a_refused_connection_is_retried(app, company, ticket, message):
    # Bound but never listening, and held for the whole test: no other process can take
    # the port, and connecting to it is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        # An allowed internal host that is down (not a refused address: see test_ssrf).
        app.config["OUTBOUND_ALLOWED_HOSTS"] = {f"127.0.0.1:{port}"}
        integration = _integration(company, f"http://127.0.0.1:{port}/hook")
        _deliver(integration, ticket, message)
        assert _pending() == 1


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_a_client_error_is_not_retried(company, ticket, message, webhook_sink, caplog, status):
    integration = _integration(company, webhook_sink.url)
    webhook_sink.fail_next(1, status)
    with caplog.at_level(logging.WARNING):
        _deliver(integration, ticket, message)
    assert len(webhook_sink.requests) == 1 and _pending() == 0
    assert f"HTTP {status}" in caplog.text


def test_gives_up_after_six_attempts(company, ticket, message, webhook_sink, caplog):
    integration = _integration(company, webhook_sink.url)
    webhook_sink.fail_next(10, 502)
    with caplog.at_level(logging.WARNING):
        _deliver(integration, ticket, message)
        # Each retry is scheduled `delay` seconds after the failed attempt ran (now).
        for delay in (30, 120, 600, 1800, 7200):
            assert _run_later(delay - 5) == 0
            assert _run_later(delay + 1) == 1
    assert len(webhook_sink.requests) == 6 and _pending() == 0
    assert "gave up" in caplog.text


def test_deleted_integration_sends_nothing(company, ticket, message, webhook_sink):
    integration = _integration(company, webhook_sink.url)
    integration_webhook.schedule(integration, ticket, message)
    db.session.delete(integration)
    dbmod.commit()
    assert webhook_sink.requests == []


def test_integration_deleted_before_a_retry(company, ticket, message, webhook_sink):
    integration = _integration(company, webhook_sink.url)
    webhook_sink.fail_next(1, 500)
    _deliver(integration, ticket, message)
    db.session.delete(integration)
    dbmod.commit()
    assert _run_later(31) == 1
    assert len(webhook_sink.requests) == 1 and _pending() == 0


def test_message_deleted_before_a_retry(company, ticket, message, webhook_sink):
    integration = _integration(company, webhook_sink.url)
    webhook_sink.fail_next(1, 500)
    _deliver(integration, ticket, message)
    db.session.delete(message)
    dbmod.commit()
    assert _run_later(31) == 1
    assert len(webhook_sink.requests) == 1


def test_dialogflow_is_not_run(company, ticket, message, webhook_sink, caplog):
    integration = QueueIntegration(company_id=company.id, type="dialogflow", name="DF")
    db.session.add(integration)
    db.session.commit()
    with caplog.at_level(logging.INFO):
        assert integrations.run(ticket, message, integration, utcnow()) is False
        dbmod.commit()
    assert webhook_sink.requests == [] and "not supported" in caplog.text


def test_another_company_integration_is_refused(
    company, other_company, ticket, message, webhook_sink
):
    theirs = _integration(other_company, webhook_sink.url)
    assert integrations.run(ticket, message, theirs, utcnow()) is False
    dbmod.commit()
    assert webhook_sink.requests == []
