"""Sending company webhooks to a local receiver: signatures, the retry schedule on a frozen
clock, final answers, the attempt log, switching off a subscription failing for a day,
ordering per ticket, refused addresses (backlogs, the sweep and the purge:
test_webhook_backlog.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests import factories, webhooks
from tests.stubs import webhook_receiver as receivers
from tests.stubs.base import TRUSTED
from tests.webhooks import T0, attempts, contact_event, deliveries, fresh, run_due, subscribe
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import Message
from whaticket.services.integrations import signing
from whaticket.services.tickets import events as ticket_events

receiver = receivers.receiver
clock = webhooks.clock
untrusted_receiver = receivers.untrusted_receiver

SCHEDULE = (60, 300, 1800, 7200, 21600, 54000)


# -- signing -----------------------------------------------------------------------------------


def test_every_delivery_is_signed_over_its_timestamp_and_raw_body(company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    contact_event(company)
    (got,) = receiver.events()
    assert got.verified
    (row,) = deliveries(subscription.id)
    stamp = got.headers["X-Whaticket-Timestamp"]
    assert got.headers["X-Whaticket-Event"] == "contact.created"
    assert got.headers["X-Whaticket-Delivery"] == row.uuid
    assert got.headers["X-Whaticket-Signature"] == signing.signature(
        receiver.secret, int(stamp), got.raw
    )
    assert got.raw == row.payload.encode()  # the stored bytes, as they are
    assert not signing.verify(
        receiver.secret, stamp, got.raw + b" ", got.headers["X-Whaticket-Signature"], int(stamp)
    )
    assert not signing.verify(
        "whsec_other", stamp, got.raw, got.headers["X-Whaticket-Signature"], int(stamp)
    )
    too_late = int(stamp) + signing.TOLERANCE_SECONDS + 1
    assert not signing.verify(
        receiver.secret, stamp, got.raw, got.headers["X-Whaticket-Signature"], too_late
    )


def test_the_reference_receiver_in_the_docs_verifies_our_deliveries(company, receiver, monkeypatch):
    text = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(snippet.strip().splitlines()) <= 25  # a snippet, not a program
    subscribe(company.id, receiver, ["contact.created"])
    monkeypatch.setenv("WHATICKET_WEBHOOK_SECRET", receiver.secret)
    namespace: dict = {"__name__": "reference_receiver"}
    exec(compile(snippet, "docs/integrations.md", "exec"), namespace)  # run as a receiver would
    contact_event(company)
    (got,) = receiver.events()
    reference = namespace["app"].test_client()
    headers = {
        k: v for k, v in got.headers.items() if k.startswith("X-Whaticket-") or k == "Content-Type"
    }
    ok = reference.post("/hooks/whaticket", data=got.raw, headers=headers)
    assert ok.status_code == 204
    forged_body = got.raw.replace(b"Cliente", b"Xliente")
    forged = reference.post("/hooks/whaticket", data=forged_body, headers=headers)
    assert forged.status_code == 401
    stale = {**headers, "X-Whaticket-Timestamp": str(int(headers["X-Whaticket-Timestamp"]) - 600)}
    assert reference.post("/hooks/whaticket", data=got.raw, headers=stale).status_code == 401


# -- retries ------------------------------------------------------------------------------------


def test_failures_are_retried_on_the_schedule_then_the_delivery_fails(company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(*[500] * 7)
    contact_event(company)
    (row,) = deliveries()
    assert (row.status, row.attempts) == ("pending", 1)
    at = T0
    for number, wait in enumerate(SCHEDULE, start=2):
        due = at + timedelta(seconds=wait)
        assert fresh(row).next_attempt_at == due
        clock.now = due - timedelta(seconds=1)
        assert run_due(clock.now) == 0 and len(receiver.events()) == number - 1
        clock.now = due
        assert run_due(due) == 1 and len(receiver.events()) == number
        assert receiver.events()[-1].verified  # signed afresh at each attempt
        at = due
    row = fresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 7, None)
    log = attempts(row.id)
    assert [a.number for a in log] == [1, 2, 3, 4, 5, 6, 7]
    assert [a.started_at - T0 for a in log] == [
        timedelta(seconds=sum(SCHEDULE[:n])) for n in range(7)
    ]
    assert log[-1].started_at - T0 == timedelta(hours=23, minutes=36)  # about a day
    assert {r.delivery for r in receiver.events()} == {row.uuid}  # stable across retries
    assert jobs.get_backend().scheduled == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 301])
def test_a_final_answer_is_not_retried(company, receiver, clock, status):
    subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(status)
    contact_event(company)
    (row,) = deliveries()
    assert (row.status, row.attempts, row.response_code) == ("failed", 1, status)
    assert jobs.get_backend().scheduled == []
    clock.now = T0 + timedelta(days=2)
    assert run_due(clock.now) == 0 and len(receiver.events()) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_timeouts_rate_limits_and_server_errors_are_retried(company, receiver, clock, status):
    subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(status)
    contact_event(company)
    clock.now = T0 + timedelta(seconds=60)
    assert run_due(clock.now) == 1
    (row,) = deliveries()
    assert (row.status, row.attempts, row.response_code) == ("succeeded", 2, 200)


# -- the log ------------------------------------------------------------------------------------


def test_each_attempt_is_logged_with_code_answer_duration_and_error(app, company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_body = json.dumps({"error": "x" * 2000})
    receiver.answer_next(503)
    contact_event(company)
    clock.now = T0 + timedelta(seconds=60)
    receiver.answer_body = '{"received": true}'
    run_due(clock.now)
    (row,) = deliveries()
    first, second = attempts(row.id)
    assert (first.status, first.response_code, first.error) == ("failed", 503, "HTTP 503")
    assert first.response_body.startswith('{"error": "xxx') and len(first.response_body) == 500
    assert (second.status, second.response_code, second.error) == ("succeeded", 200, None)
    assert second.response_body == '{"received": true}'
    assert first.duration_ms >= 0 and not first.manual
    assert (row.status, row.delivered_at, row.last_error) == ("succeeded", clock.now, None)


def test_an_unreachable_receiver_is_logged_and_retried(app, company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    host = receiver.url.split("/")[2]
    receiver.stop()
    # Still an allowed host (the operator allowed it), but nothing listens there now.
    app.config["OUTBOUND_ALLOWED_HOSTS"] = {*TRUSTED, host}
    contact_event(company)
    (row,) = deliveries()
    (attempt,) = attempts(row.id)
    assert attempt.status == "failed" and attempt.response_code is None
    assert attempt.error.startswith("ConnectionError")
    assert (row.status, row.next_attempt_at) == ("pending", T0 + timedelta(seconds=60))


# -- internal addresses ---------------------------------------------------------------------------


def test_no_delivery_to_an_internal_address_unless_the_operator_allows_it(
    app, company, untrusted_receiver, clock
):
    host = untrusted_receiver.url.split("/")[2]
    app.config["OUTBOUND_ALLOWED_HOSTS"] = {*TRUSTED, host}
    subscribe(company.id, untrusted_receiver, ["contact.created"])
    contact_event(company)
    assert len(untrusted_receiver.events()) == 1  # allowed: delivered
    app.config["OUTBOUND_ALLOWED_HOSTS"] = TRUSTED  # the operator takes it back
    contact_event(company)
    assert len(untrusted_receiver.events()) == 1
    row = deliveries()[-1]
    assert row.status == "failed" and row.last_error.startswith("Refused address")
    assert jobs.get_backend().scheduled == []  # an internal address is never retried


# -- switched off after a day of failures ---------------------------------------------------------


def test_a_day_of_failures_switches_the_subscription_off_and_tells_its_admins(
    app, company, admin, agent, receiver, clock, socket_client
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    admin_socket, agent_socket = socket_client(admin), socket_client(agent)
    receiver.answer_next(*[500] * 20)
    contact_event(company)
    clock.now = T0 + timedelta(hours=12)
    run_due(clock.now)
    contact_event(company)
    assert fresh(subscription).status == "failing"
    assert fresh(subscription).failing_since == T0
    clock.now = T0 + timedelta(hours=23, minutes=59)
    contact_event(company)
    assert fresh(subscription).active is True
    admin_socket.get_received()
    clock.now = T0 + timedelta(hours=24)
    contact_event(company)
    subscription = fresh(subscription)
    assert (subscription.active, subscription.status) == (False, "disabled")
    assert subscription.disabled_at == clock.now
    told = [
        e["args"][0]
        for e in admin_socket.get_received()
        if e["name"] == f"company-{company.id}-webhookSubscription"
    ]
    assert [t["action"] for t in told] == ["disabled"]
    assert told[0]["subscription"]["id"] == subscription.id
    assert told[0]["subscription"]["status"] == "disabled"
    assert not [e for e in agent_socket.get_received() if "webhookSubscription" in e["name"]]
    # Switched off: no new delivery, and the retries waiting fail without a request.
    sent = len(receiver.events())
    contact_event(company)
    clock.now = T0 + timedelta(days=3)
    run_due(clock.now)
    assert len(receiver.events()) == sent
    assert {r.status for r in deliveries()} == {"failed"}
    assert "switched off" in deliveries()[0].last_error


def test_a_success_clears_the_failures(company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(500)
    contact_event(company)
    clock.now = T0 + timedelta(hours=12)
    contact_event(company)  # answered 200
    assert (fresh(subscription).status, fresh(subscription).failing_since) == ("healthy", None)
    receiver.answer_next(*[500] * 20)
    clock.now = T0 + timedelta(hours=25)
    contact_event(company)
    subscription = fresh(subscription)
    assert subscription.active and subscription.failing_since == clock.now


# -- ordered per ticket ---------------------------------------------------------------------------


def _message(ticket, body: str) -> None:
    message = db.session.get(Message, factories.MessageFactory(ticket=ticket, body=body).id)
    ticket_events.emit_message_create(message, ticket)
    dbmod.commit()


def test_an_ordered_subscription_sends_one_ticket_at_a_time_in_order(company, receiver, clock):
    subscribe(company.id, receiver, ["message.created"], ordered=True)
    conn = factories.WhatsappFactory(company=company, provider="fake")
    first, second = (factories.TicketFactory(company=company, whatsapp=conn) for _ in range(2))
    receiver.answer_next(500)
    _message(first, "A1")  # fails: waits a minute for its retry
    _message(first, "A2")  # waits for A1
    _message(second, "B1")  # another ticket: goes at once
    bodies = [r.json()["data"]["message"]["body"] for r in receiver.events()]
    assert bodies == ["A1", "B1"]
    clock.now = T0 + timedelta(seconds=60)
    run_due(clock.now)  # A1 succeeds, then A2 follows it
    bodies = [r.json()["data"]["message"]["body"] for r in receiver.events()]
    assert bodies == ["A1", "B1", "A1", "A2"]
    assert {r.status for r in deliveries()} == {"succeeded"}


def test_an_unordered_subscription_does_not_wait(company, receiver, clock):
    subscribe(company.id, receiver, ["message.created"])
    ticket = factories.TicketFactory(company=company)
    receiver.answer_next(500)
    _message(ticket, "A1")
    _message(ticket, "A2")
    assert [r.json()["data"]["message"]["body"] for r in receiver.events()] == ["A1", "A2"]
