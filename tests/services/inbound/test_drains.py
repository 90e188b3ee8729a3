"""One drain per connection (lease, row claims), and receipts that come before their message."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import inbound as inbound_jobs
from whaticket.models import InboundEvent, Message, Ticket
from whaticket.models.inbound_event import InboundDrain, PendingAck
from whaticket.models.message import ACK_DELIVERED, ACK_ERROR, ACK_PENDING, ACK_READ, ACK_SENT
from whaticket.services.inbound import acks, deliveries, drains
from whaticket.services.messages import dispatch
from whaticket.whatsapp.base import AckUpdate


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    db.session.commit()
    return conn


def _stored(conn, payloads: list[dict]) -> list[int]:
    """Deliveries stored as the webhook stores them, without queueing their drain."""
    rows = [
        InboundEvent(
            company_id=conn.company_id,
            whatsapp_id=conn.id,
            provider="fake",
            dedupe_key=f"k-{n}-{json.dumps(p, sort_keys=True)}"[:128],
            payload=json.dumps(p),
            status="pending",
        )
        for n, p in enumerate(payloads)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def _inbound(n: int, **extra) -> dict:
    return {"from": f"55119876{n % 3:05d}", "body": f"msg {n}", "id": f"M-{n:03d}", **extra}


# -- two drains at once --------------------------------------------------------------


@pytest.mark.real_db
@pytest.mark.shared_db
def test_two_drains_of_one_connection_apply_each_delivery_once_in_order(app, conn, monkeypatch):
    ids = _stored(conn, [_inbound(n) for n in range(40)])
    conn_id = conn.id
    applied: list[int] = []
    lock = threading.Lock()
    real_dispatch = deliveries.dispatch

    def spy(event):  # counts what each drain applies; the work itself is the real one
        with lock:
            applied.append(event.id)
        return real_dispatch(event)

    monkeypatch.setattr(deliveries, "dispatch", spy)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                inbound_jobs.drain(conn_id, batch=5)
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert applied == ids  # each once, in arrival order
    db.session.expire_all()
    rows = db.session.scalars(sa.select(InboundEvent).order_by(InboundEvent.id)).all()
    assert [(r.status, r.attempts, r.claimed_by) for r in rows] == [("done", 1, None)] * 40
    stored = db.session.scalars(sa.select(Message.provider_id).order_by(Message.id)).all()
    assert stored == [f"M-{n:03d}" for n in range(40)]
    lease = db.session.get(InboundDrain, conn_id)
    assert lease.holder is None and lease.expires_at is None  # given back


def test_a_drain_leaves_while_another_holds_the_lease_and_takes_over_when_it_lapses(app, conn):
    assert drains.acquire(conn.id, "other-drain")
    dbmod.commit()
    deliveries.record(conn, json.dumps(_inbound(1)).encode())
    dbmod.commit()  # its drain runs now (inline in tests) and finds the lease taken
    db.session.expire_all()
    assert db.session.scalar(sa.select(InboundEvent.status)) == "pending"
    assert inbound_jobs.drain(conn.id) == 0

    # The holder died: once its lease lapses, the next drain applies the delivery.
    app.config["FROZEN_NOW"] = utcnow() + drains.LEASE + timedelta(seconds=1)
    assert inbound_jobs.drain(conn.id) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(InboundEvent.status)) == "done"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_the_holder_looks_again_after_giving_the_lease_back(app, conn, monkeypatch):
    """A delivery recorded while the holder finished (its own drain job left, seeing the
    lease taken) is drained by the holder itself, not left for the periodic sweep."""
    _stored(conn, [_inbound(1)])
    real_release = drains.release
    late: list[int] = []

    def release_after_a_new_delivery(whatsapp_id: int, holder: str) -> None:
        if not late:
            late.extend(_stored(conn, [_inbound(2)]))
        real_release(whatsapp_id, holder)

    monkeypatch.setattr(drains, "release", release_after_a_new_delivery)
    assert inbound_jobs.drain(conn.id) == 2
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(InboundEvent.status).order_by(InboundEvent.id)).all()
    assert statuses == ["done", "done"]


def test_claimed_rows_are_not_taken_by_another_drain_until_the_claim_lapses(app, conn):
    ids = _stored(conn, [_inbound(n) for n in range(3)])
    assert [e.id for e in drains.claim_batch(conn.id, "drain-a", 2)] == ids[:2]
    dbmod.commit()
    assert [e.id for e in drains.claim_batch(conn.id, "drain-b", 5)] == ids[2:]
    dbmod.commit()
    assert drains.claim_batch(conn.id, "drain-c", 5) == []
    later = utcnow() + drains.LEASE + timedelta(seconds=1)
    assert [e.id for e in drains.claim_batch(conn.id, "drain-c", 5, now=later)] == ids


def test_retry_one_goes_through_the_connection_drain(app, conn):
    (event_id,) = _stored(conn, [_inbound(1)])
    inbound_jobs.retry_one(event_id)
    db.session.expire_all()
    assert db.session.get(InboundEvent, event_id).status == "done"


# -- receipts before their message ---------------------------------------------------


def test_a_receipt_before_its_phone_message_applies_when_the_message_comes(app, conn):
    deliveries.record(conn, json.dumps({"id": "P-1", "status": "read"}).encode())
    dbmod.commit()
    db.session.expire_all()
    kept = db.session.scalar(sa.select(PendingAck))
    assert (kept.provider_id, kept.ack) == ("P-1", ACK_READ)
    assert db.session.scalar(sa.select(InboundEvent.status)) == "done"

    echo = {"from": "5511987654321", "id": "P-1", "fromMe": True, "body": "do celular"}
    deliveries.record(conn, json.dumps(echo).encode())
    dbmod.commit()
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message))
    assert message.provider_id == "P-1" and message.ack == ACK_READ
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAck)) == 0


def test_receipts_before_our_send_is_answered_apply_to_it(app, conn):
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    ours = factories.MessageFactory(
        ticket=ticket, provider_id=None, from_me=True, ack=ACK_PENDING, origin="agent"
    )
    dbmod.commit()
    # The provider called back (delivered, then a stale failure) before its answer landed.
    acks.apply_ack(conn.company_id, conn.id, AckUpdate("SENT-1", ACK_DELIVERED))
    acks.apply_ack(conn.company_id, conn.id, AckUpdate("SENT-1", ACK_ERROR, "late"))
    dbmod.commit()
    dispatch.apply(dispatch.SendOutcome(ours.id, provider_id="SENT-1", ack=ACK_SENT))
    dbmod.commit()
    db.session.expire_all()
    message = db.session.get(Message, ours.id)
    assert message.provider_id == "SENT-1" and message.ack == ACK_DELIVERED
    assert message.error is None
    assert db.session.get(Ticket, ticket.id).last_message == message.body


def test_a_failure_before_the_answer_marks_the_send_failed(app, conn):
    ticket = factories.TicketFactory(company=conn.company, whatsapp=conn)
    ours = factories.MessageFactory(ticket=ticket, provider_id=None, from_me=True, ack=1)
    dbmod.commit()
    acks.apply_ack(conn.company_id, conn.id, AckUpdate("SENT-2", ACK_ERROR, "131026 undeliverable"))
    dbmod.commit()
    dispatch.apply(dispatch.SendOutcome(ours.id, provider_id="SENT-2", ack=ACK_SENT))
    dbmod.commit()
    db.session.expire_all()
    message = db.session.get(Message, ours.id)
    assert message.ack == ACK_ERROR and message.error == "131026 undeliverable"


def test_receipts_whose_message_never_comes_expire(app, conn):
    acks.apply_ack(conn.company_id, conn.id, AckUpdate("NEVER", ACK_READ))
    dbmod.commit()
    app.config["FROZEN_NOW"] = utcnow() + acks.PENDING_ACK_TTL + timedelta(minutes=1)
    inbound_jobs.requeue_stale()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAck)) == 0
