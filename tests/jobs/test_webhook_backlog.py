"""Company webhooks under load and over time: one job drains its subscription's backlog in
batches (stopping at a failure), the sweep sends deliveries whose job was lost, and the
purge keeps the log for its retention."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests import webhooks
from tests.stubs import webhook_receiver as receivers
from tests.webhooks import T0, attempts, contact_event, deliveries, fresh, subscribe
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import webhooks as webhook_jobs
from whaticket.models import WebhookAttempt
from whaticket.services.integrations import outbox

receiver = receivers.receiver
clock = webhooks.clock


# -- a backlog drains in batches ------------------------------------------------------------------


def _backlog(company_id: int, subscription_id: int, n: int) -> list[int]:
    """`n` due deliveries committed with no job queued (as if the worker were away)."""
    rows = []
    for i in range(n):
        body = outbox.body(f"e-{i}", "contact.created", company_id, T0, {"contact": {"id": i}})
        rows.append(
            outbox.new_delivery(company_id, subscription_id, f"e-{i}", "contact.created", body, T0)
        )
    dbmod.commit()
    return [row.id for row in rows]


def test_one_job_drains_its_subscriptions_backlog_in_batches(app, company, receiver, clock):
    app.config["WEBHOOK_BATCH_SIZE"] = 2
    subscription = subscribe(company.id, receiver, ["contact.created"])
    ids = _backlog(company.id, subscription.id, 5)
    webhook_jobs.deliver(ids[0])  # each full batch queues the next (run inline here)
    assert [r.json()["id"] for r in receiver.events()] == [f"e-{i}" for i in range(5)]
    assert all(r.verified for r in receiver.events())
    assert {r.status for r in deliveries()} == {"succeeded"}
    assert all(len(attempts(i)) == 1 for i in ids)


def test_a_failure_stops_the_batch_and_the_rest_go_on_later(app, company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    ids = _backlog(company.id, subscription.id, 3)
    receiver.answer_next(503)
    webhook_jobs.deliver(ids[0])
    first, *rest = deliveries()
    assert (first.status, first.attempts, first.next_attempt_at) == (
        "pending",
        1,
        T0 + timedelta(seconds=60),
    )
    # Not pressed while failing: the rest were released and sent by the next job.
    assert [r.json()["id"] for r in receiver.events()] == ["e-0", "e-1", "e-2"]
    assert [(r.status, r.claimed_at) for r in rest] == [("succeeded", None)] * 2


def test_a_job_whose_delivery_is_done_still_sends_the_backlog(app, company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    contact_event(company)
    (done,) = deliveries()
    _backlog(company.id, subscription.id, 2)
    webhook_jobs.deliver(done.id)  # a job queued for several deliveries
    assert [r.status for r in deliveries()] == ["succeeded"] * 3
    assert [r.json()["id"] for r in receiver.events()[1:]] == ["e-0", "e-1"]


# -- the sweep and the purge --------------------------------------------------------------------


def test_the_sweep_sends_deliveries_whose_job_was_lost(app, company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    body = outbox.body("e-1", "contact.created", company.id, T0, {"contact": {"id": 1}})
    lost = outbox.new_delivery(company.id, subscription.id, "e-1", "contact.created", body, T0)
    dead = outbox.new_delivery(company.id, subscription.id, "e-2", "contact.created", body, T0)
    dead.claimed_at = T0  # its worker died holding it
    dbmod.commit()  # no job queued: as if Redis had lost them
    clock.now = T0 + timedelta(seconds=59)
    assert webhook_jobs.sweep() == 0  # young: their jobs may still come
    clock.now = T0 + timedelta(seconds=121)
    assert webhook_jobs.sweep() == 2
    assert {r.delivery for r in receiver.events()} == {lost.uuid, dead.uuid}
    assert {fresh(lost).status, fresh(dead).status} == {"succeeded"}
    assert webhook_jobs.sweep() == 0


def test_the_purge_keeps_the_log_for_its_retention(app, company, receiver, clock):
    app.config["WEBHOOK_LOG_RETENTION_DAYS"] = 30
    subscribe(company.id, receiver, ["contact.created"])
    contact_event(company)  # succeeded at T0
    receiver.answer_next(*[500] * 10)
    contact_event(company)  # pending, waiting for its retry
    clock.now = T0 + timedelta(days=29)
    receiver.answer_next(200)
    contact_event(company)  # young
    old_done, waiting, young = (row.id for row in deliveries())
    clock.now = T0 + timedelta(days=30, seconds=1)
    assert webhook_jobs.purge_log() == 1
    assert [r.id for r in deliveries()] == [waiting, young]
    assert not db.session.scalars(
        sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == old_done)
    ).all()
