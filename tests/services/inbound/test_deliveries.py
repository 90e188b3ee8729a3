"""Durable inbound: deliveries stored before processing, deduplicated, retried, never lost."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis

from tests import factories
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import InboundEvent, Message, Ticket
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.inbound import provider_events
from whaticket.whatsapp.base import CallEvent, MessageEdited, MessageRevoked, ReactionUpdate


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")


def _body(provider_id: str = "EV-1", **extra) -> bytes:
    payload = {"from": "5511987654321", "name": "Maria", "body": "oi", "id": provider_id}
    payload.update(extra)
    return json.dumps(payload).encode()


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_delivery_is_stored_then_processed(app, conn):
    event = inbound_events.record(conn, _body())
    assert event is not None and event.status == "pending"
    assert _count(Message) == 0  # nothing processed before the commit
    dbmod.commit()  # the processing job runs after the commit (inline in tests)
    db.session.expire_all()
    stored = db.session.get(InboundEvent, event.id)
    assert stored.status == "done" and stored.attempts == 1 and stored.processed_at
    assert _count(Message) == 1 and _count(Ticket) == 1


def test_redelivery_creates_nothing(app, conn):
    inbound_events.record(conn, _body())
    dbmod.commit()
    assert inbound_events.record(conn, _body()) is None
    dbmod.commit()
    assert _count(InboundEvent) == 1 and _count(Message) == 1


def test_failing_delivery_is_retried_with_backoff_then_marked_failed(app, conn):
    event = inbound_events.record(conn, b'{"unexpected": true}')
    dbmod.commit()
    db.session.expire_all()
    row = db.session.get(InboundEvent, event.id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    backend = jobs.get_backend()
    later = utcnow()
    for _ in inbound_events.BACKOFF:
        later += timedelta(hours=1)
        backend.run_due(later)
    db.session.expire_all()
    row = db.session.get(InboundEvent, event.id)
    assert row.status == "failed" and row.attempts == len(inbound_events.BACKOFF) + 1
    # The operator's retry queues it again; with a fixed payload it would now succeed.
    row.payload = _body("EV-FIXED").decode()
    dbmod.commit()
    result = app.test_cli_runner().invoke(args=["inbound", "retry"])
    assert "queued 1" in result.output
    db.session.expire_all()
    assert db.session.get(InboundEvent, event.id).status == "done"
    assert _count(Message) == 1


@pytest.mark.real_db
def test_a_killed_worker_loses_nothing(app, conn):
    """Deliveries queued on RQ whose jobs vanished with a dead worker are picked up again."""
    if not app.config.get("REDIS_URL"):
        pytest.skip("TEST_REDIS_URL is not set: this test needs a real Redis")
    from whaticket.jobs.worker import AppWorker

    app.config["JOBS_BACKEND"] = "rq"
    app.config["RQ_QUEUE_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    app.extensions.pop("whaticket_jobs", None)
    backend = jobs.get_backend()
    try:
        for n in range(3):
            inbound_events.record(conn, _body(f"K-{n}"))
        dbmod.commit()
        queue = backend.queue("high")
        assert queue.count == 1  # one drain job per connection, not one job per delivery
        queue.empty()  # the worker died with the job in hand
        db.session.execute(sa.update(InboundEvent).values(updated_at=utcnow() - timedelta(hours=1)))
        dbmod.commit()
        assert inbound_events.requeue_stale() == 3
        dbmod.commit()
        AppWorker([queue], connection=backend.connection).work(burst=True)
        db.session.expire_all()
        assert _count(Message) == 3
        statuses = db.session.scalars(sa.select(InboundEvent.status)).all()
        assert statuses == ["done"] * 3
    finally:
        conn_ = Redis.from_url(app.config["REDIS_URL"])
        for key in conn_.scan_iter(f"*{app.config['RQ_QUEUE_PREFIX']}*"):
            conn_.delete(key)


def test_reactions_edits_and_revokes_apply_to_the_message(app, conn, socket_client, admin):
    inbound_events.record(conn, _body("M-1"))
    dbmod.commit()
    message = db.session.scalar(sa.select(Message))
    provider_events.apply(conn, ReactionUpdate("M-1", "👍", "5511987654321"))
    provider_events.apply(conn, ReactionUpdate("M-1", "❤️", "5511987654321"))
    provider_events.apply(conn, ReactionUpdate("M-1", "😀", "me"))
    provider_events.apply(conn, MessageEdited("M-1", "oi, tudo bem?"))
    provider_events.apply(conn, MessageEdited("M-1", "oi, tudo bem?"))  # redelivered
    dbmod.commit()
    db.session.expire_all()
    message = db.session.get(Message, message.id)
    assert [(r["from"], r["emoji"]) for r in message.reactions] == [
        ("5511987654321", "❤️"),
        ("me", "😀"),
    ]
    assert message.body == "oi, tudo bem?" and message.is_edited
    assert [h["body"] for h in message.edit_history] == ["oi"]
    provider_events.apply(conn, MessageRevoked("M-1"))
    dbmod.commit()
    db.session.expire_all()
    assert db.session.get(Message, message.id).is_deleted is True
    assert provider_events.apply(conn, MessageRevoked("UNKNOWN")) is None


def test_missed_call_with_calls_disabled(app, conn):
    stored = provider_events.apply(conn, CallEvent("C-1", "5511987654321"))
    dbmod.commit()
    assert stored is not None and stored.media_type == "call_log"
    bodies = db.session.scalars(sa.select(Message.body).order_by(Message.id)).all()
    assert bodies[0].startswith("Chamada de voz perdida")
    assert "desabilitadas" in bodies[1]
    assert provider_events.apply(conn, CallEvent("C-2", "5511987654321", status="offer")) is None


def test_media_that_cannot_be_fetched_keeps_an_error_and_can_be_retried(
    app, client, prefix, conn, admin, auth
):
    from whaticket.services.inbound.messages import handle_inbound
    from whaticket.whatsapp.base import InboundMessage

    handle_inbound(
        conn.company_id,
        conn.id,
        InboundMessage(
            provider_id="MEDIA-1",
            chat_id="5511987654321",
            media_ref="remote-file-1",
            media_type="image",
        ),
    )
    dbmod.commit()
    message = db.session.scalar(sa.select(Message))
    assert message.media_path is None and message.media_error  # the fake cannot fetch it
    resp = client.post(f"{prefix}/messages/{message.id}/retry-media", headers=auth(admin))
    assert resp.status_code == 200
    assert (
        client.post(f"{prefix}/messages/999999/retry-media", headers=auth(admin)).status_code == 404
    )
    assert client.post(f"{prefix}/messages/{message.id}/retry-media").status_code == 401


def test_retry_media_is_refused_to_other_companies(app, client, prefix, conn, other_admin, auth):
    from whaticket.services.inbound.messages import handle_inbound
    from whaticket.whatsapp.base import InboundMessage

    handle_inbound(
        conn.company_id,
        conn.id,
        InboundMessage(
            provider_id="MEDIA-2", chat_id="5511987654321", media_ref="remote", media_type="image"
        ),
    )
    dbmod.commit()
    message = db.session.scalar(sa.select(Message))
    resp = client.post(f"{prefix}/messages/{message.id}/retry-media", headers=auth(other_admin))
    assert resp.status_code == 404
