"""Stored jobs (`enqueue(..., durable=True)`): a job Redis refuses after the commit, or whose
worker dies, is run later by the sweep; a stored job runs once however often it is queued.

The refusals are real: a `redis-server` of the test's own, killed before the commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories, outages
from tests.outages import app_on_redis
from tests.stubs import smtp
from tests.stubs import webhook_sink as sinks
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import pending
from whaticket.jobs.worker import run_worker
from whaticket.models import PendingJob, QueueIntegration
from whaticket.services.billing import companies, invoices, subscriptions
from whaticket.services.bots import ai
from whaticket.services.bots import webhooks as integration_webhook
from whaticket.services.inbound import media_download
from whaticket.services.team import password_reset

redis_process = outages.redis_process
smtp_capture = smtp.smtp_capture
webhook_sink = sinks.webhook_sink


@pytest.fixture
def mail(app, smtp_capture):
    """Mail goes to the local capture server."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_capture.port, SMTP_SECURITY="none")
    return smtp_capture


def _stored() -> list[PendingJob]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PendingJob).order_by(PendingJob.id)))


def _reset_mail(email: str, **when: Any) -> None:
    jobs.enqueue("users.send_password_reset", email, durable=True, **when)


def _drain(app) -> None:
    """What a `flask worker --burst` does: run everything queued on the app's RQ queues."""
    run_worker(app, ["high", "default", "low"], burst=True)


# -- one run per stored job -----------------------------------------------------------------


def test_a_stored_job_runs_once_however_often_it_is_queued(app, admin, mail):
    _reset_mail(admin.email, in_=60)
    dbmod.commit()
    (pending_id,) = [row.id for row in _stored()]
    pending.run(pending_id)  # a sweep's copy...
    pending.run(pending_id)  # ...and another
    assert len(mail.mails) == 1 and _stored() == []
    jobs.get_backend().run_due(utcnow() + timedelta(seconds=61))  # the original, when due
    assert len(mail.mails) == 1


def test_a_run_that_raises_is_retried_later_then_dropped(app, admin, caplog):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_SECURITY="none")  # refused
    app.config["PENDING_JOB_MAX_ATTEMPTS"] = 2
    _reset_mail(admin.email)
    dbmod.commit()  # the first run fails right after the commit (the inline backend)
    (row,) = _stored()
    assert row.attempts == 1 and row.claimed_at is None
    assert row.run_at > utcnow() + timedelta(seconds=50)  # backing off
    assert jobs.get_backend().run_due(row.run_at + timedelta(seconds=1)) == 1
    assert _stored() == []  # the last attempt failed too: dropped, and said so
    assert "dropped after 2 failed attempts" in caplog.text


def test_the_sweep_queues_what_was_lost_or_left_by_a_dead_worker(app, company, mail):
    app.config.update(PENDING_JOB_GRACE_SECONDS=60, PENDING_JOB_LEASE_SECONDS=600)
    now = utcnow()
    emails = {}
    for case, run_at, claimed_at in (
        ("lost", now - timedelta(minutes=5), None),  # Redis refused it
        ("waiting", now - timedelta(seconds=5), None),  # queued a moment ago
        ("future", now + timedelta(hours=1), None),  # not due yet
        ("dead", now - timedelta(hours=1), now - timedelta(minutes=11)),  # its worker died
        ("running", now - timedelta(minutes=5), now - timedelta(minutes=1)),  # still at it
    ):
        user = factories.UserFactory(company=company, email=f"{case}@example.com")
        emails[case] = user.email
        db.session.add(
            PendingJob(
                name="users.send_password_reset",
                args_json=json.dumps([user.email]),
                queue="default",
                run_at=run_at,
                claimed_at=claimed_at,
                attempts=0 if claimed_at is None else 1,
            )
        )
    dbmod.commit()
    assert pending.recover() == 2  # the inline backend runs them at once
    assert sorted(m.rcpt_to[0] for m in mail.mails) == [emails["dead"], emails["lost"]]
    left = {json.loads(row.args_json)[0] for row in _stored()}
    assert left == {emails["waiting"], emails["future"], emails["running"]}


def test_a_failed_webhook_delivery_stores_its_retry(app, company, webhook_sink):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    ticket = factories.TicketFactory(company=company, whatsapp=conn)
    message = factories.MessageFactory(ticket=ticket, body="Oi")
    integration = QueueIntegration(
        company_id=company.id, type="webhook", name="Hook", url_n8n=webhook_sink.url
    )
    db.session.add(integration)
    dbmod.commit()
    webhook_sink.fail_next(1, 503)
    integration_webhook.schedule(integration, ticket, message)
    dbmod.commit()
    (row,) = _stored()
    assert row.name == "integrations.deliver_webhook"
    assert json.loads(row.args_json) == [integration.id, message.id, 2]  # attempt 2, stored


# -- Redis refuses the enqueue after the commit ---------------------------------------------


def _setup(app, company, admin, webhook_sink) -> SimpleNamespace:
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    ticket = factories.TicketFactory(company=company, whatsapp=conn)
    message = factories.MessageFactory(ticket=ticket, body="Oi, tudo bem?", media_type="chat")
    integration = QueueIntegration(
        company_id=company.id, type="webhook", name="Hook", url_n8n=webhook_sink.url
    )
    db.session.add(integration)
    dbmod.commit()
    return SimpleNamespace(
        company=company, admin=admin, ticket=ticket, message=message, integration=integration
    )


#: Every job whose loss nobody would notice, asked for as its service asks for it.
SITES: dict[str, tuple[str, Callable[[SimpleNamespace], Any]]] = {
    "media download": ("media.download", lambda c: media_download.schedule(c.message)),
    "webhook delivery": (
        "integrations.deliver_webhook",
        lambda c: integration_webhook.schedule(c.integration, c.ticket, c.message),
    ),
    "AI reply": ("ai.answer", lambda c: ai.schedule(c.ticket, c.message)),
    "password-reset mail": (
        "users.send_password_reset",
        lambda c: password_reset.request_reset(c.admin.email, "10.0.0.1"),
    ),
    "rollup rebuild": (
        "reports.rebuild_rollup",
        lambda c: companies.update_schedules(c.admin, c.company.id, {"timezone": "Asia/Tokyo"}),
    ),
    "payment notification": (
        "invoices.process_payment_notification",
        lambda c: subscriptions.enqueue_notifications("fake", ["TXID-1"]),
    ),
    "invoice refresh": (
        "invoices.refresh_company_invoice_job",
        lambda c: invoices.on_company_billing_change(c.company.id),
    ),
}


@pytest.mark.parametrize("site", SITES)
def test_a_job_redis_refused_is_run_once_redis_is_back(
    app, company, admin, mail, webhook_sink, redis_process, site
):
    name, ask = SITES[site]
    ctx = _setup(app, company, admin, webhook_sink)
    email = admin.email
    app.config["PENDING_JOB_GRACE_SECONDS"] = 0
    with app_on_redis(app, redis_process.url):
        ask(ctx)  # the reset mail counts its requests in Redis: still up here
        redis_process.kill()
        dbmod.commit()  # the enqueue after the commit is refused: logged, not raised
        assert [row.name for row in _stored()] == [name]

        redis_process.start()  # back, and empty
        assert pending.recover() == 1
        _drain(app)
        assert _stored() == []  # it ran, and is forgotten
        assert pending.recover() == 0
    if site == "password-reset mail":
        assert [m.rcpt_to for m in mail.mails] == [[email]]
    if site == "webhook delivery":
        assert len(webhook_sink.requests) == 1
