"""A receiver's `Retry-After` (429, 503; seconds or an HTTP date) puts the next attempt no
sooner than it asks, capped at the schedule's longest pause, and the log records it; a
rotated secret signs beside the new one for its grace period (frozen clock, local receiver)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests import webhooks
from tests.stubs import webhook_receiver as receivers
from tests.webhooks import T0, attempts, contact_event, deliveries, fresh, run_due, subscribe
from whaticket import db as dbmod
from whaticket.services.integrations import signing, subscriptions, transport

receiver = receivers.receiver
clock = webhooks.clock

LONGEST = 54000  # the default schedule's last pause (15 h)


class _Answers:
    """Makes the receiver's next answer carry a Retry-After header."""

    def __init__(self, receiver) -> None:
        self.receiver = receiver

    def next(self, status: int, retry_after: str) -> None:
        self.receiver.answer_next(status)
        self.receiver.answer_headers = {"Retry-After": retry_after}


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_delays_the_next_attempt_and_is_logged(
    company, receiver, clock, status
):
    subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(status, "900")
    contact_event(company)
    (row,) = deliveries()
    assert row.next_attempt_at == T0 + timedelta(seconds=900)  # not the schedule's 60 s
    (first,) = attempts(row.id)
    assert (first.response_code, first.retry_after) == (status, 900)
    assert first.error == f"HTTP {status} (Retry-After: 900 s)"
    receiver.answer_headers = {}
    clock.now = T0 + timedelta(seconds=899)
    assert run_due(clock.now) == 0 and len(receiver.events()) == 1
    clock.now = T0 + timedelta(seconds=900)
    assert run_due(clock.now) == 1
    assert fresh(row).status == "succeeded" and attempts(row.id)[1].retry_after is None


def test_the_log_answers_what_was_asked(client, prefix, auth, admin, company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(429, "900")
    contact_event(company)
    (row,) = deliveries()
    url = f"{prefix}/webhooks/subscriptions/{subscription.id}/deliveries/{row.id}"
    (attempt,) = client.get(url, headers=auth(admin)).get_json()["attemptLog"]
    assert (attempt["responseCode"], attempt["retryAfter"]) == (429, 900)


def test_retry_after_as_an_http_date(company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(503, format_datetime(T0 + timedelta(hours=2), usegmt=True))
    contact_event(company)
    (row,) = deliveries()
    assert row.next_attempt_at == T0 + timedelta(hours=2)
    assert attempts(row.id)[0].retry_after == 7200


def test_a_shorter_retry_after_keeps_the_schedule(company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(429, "5")
    contact_event(company)
    (row,) = deliveries()
    assert row.next_attempt_at == T0 + timedelta(seconds=60)  # "no sooner than": the later
    assert attempts(row.id)[0].retry_after == 5


def test_retry_after_is_capped_at_the_schedules_longest_pause(company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(429, str(7 * 24 * 3600))
    contact_event(company)
    (row,) = deliveries()
    assert row.next_attempt_at == T0 + timedelta(seconds=LONGEST)
    assert attempts(row.id)[0].retry_after == 7 * 24 * 3600  # as the receiver said it


def test_retry_after_on_other_answers_is_ignored(company, receiver, clock):
    subscribe(company.id, receiver, ["contact.created"])
    _Answers(receiver).next(500, "900")
    contact_event(company)
    (row,) = deliveries()
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    assert attempts(row.id)[0].retry_after is None


@pytest.mark.parametrize(
    "value,expected",
    [
        ("120", 120),
        (" 0 ", 0),
        ("Tue, 01 Dec 2026 12:10:00 GMT", 600),
        ("Tue, 01 Dec 2026 11:00:00 GMT", 0),  # past: now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value, expected):
    assert transport.retry_after(value, T0) == expected


# -- secret rotation with a grace period ---------------------------------------------------------


def _signatures(got) -> list[str]:
    return [part.strip() for part in got.headers["X-Whaticket-Signature"].split(",")]


def test_a_rotated_secret_signs_beside_the_new_one_until_its_grace_ends(
    app, company, receiver, clock
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    old = receiver.secret
    record, new = subscriptions.rotate_secret(company.id, subscription.id)
    dbmod.commit()
    assert record.previous_secret_grace == T0 + timedelta(seconds=86400)
    assert old not in (record.previous_secret_encrypted or "")  # encrypted like the current
    contact_event(company)
    (got,) = receiver.events()
    stamp = int(got.headers["X-Whaticket-Timestamp"])
    assert _signatures(got) == [
        signing.signature(new, stamp, got.raw),
        signing.signature(old, stamp, got.raw),
    ]
    now = stamp
    for secret in (old, new):  # a receiver holding either secret accepts it
        assert signing.verify(
            secret, str(stamp), got.raw, got.headers["X-Whaticket-Signature"], now
        )
    clock.now = T0 + timedelta(seconds=86400)  # the grace is over: the new one alone
    contact_event(company)
    last = receiver.events()[-1]
    stamp = int(last.headers["X-Whaticket-Timestamp"])
    assert _signatures(last) == [signing.signature(new, stamp, last.raw)]
    assert fresh(subscription).previous_secret_grace is None


def test_expire_old_ends_the_grace_at_once(company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    record, new = subscriptions.rotate_secret(company.id, subscription.id, expire_old=True)
    dbmod.commit()
    assert record.previous_secret_grace is None
    contact_event(company)
    (got,) = receiver.events()
    stamp = int(got.headers["X-Whaticket-Timestamp"])
    assert _signatures(got) == [signing.signature(new, stamp, got.raw)]


def test_only_the_secret_just_replaced_keeps_a_grace(company, receiver, clock):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    first = receiver.secret
    _, second = subscriptions.rotate_secret(company.id, subscription.id)
    _, third = subscriptions.rotate_secret(company.id, subscription.id)
    dbmod.commit()
    contact_event(company)
    (got,) = receiver.events()
    stamp = int(got.headers["X-Whaticket-Timestamp"])
    assert _signatures(got) == [
        signing.signature(third, stamp, got.raw),
        signing.signature(second, stamp, got.raw),
    ]
    header = got.headers["X-Whaticket-Signature"]
    assert not signing.verify(first, str(stamp), got.raw, header, stamp)


def test_a_grace_of_zero_seconds_keeps_no_old_secret(app, company, receiver, clock):
    app.config["WEBHOOK_SECRET_GRACE_SECONDS"] = 0
    subscription = subscribe(company.id, receiver, ["contact.created"])
    record, _new = subscriptions.rotate_secret(company.id, subscription.id)
    dbmod.commit()
    assert record.previous_secret_encrypted is None


def test_the_reference_receiver_accepts_either_secret_while_rotating(
    company, receiver, monkeypatch
):
    text = (Path(__file__).parents[2] / "docs" / "integrations.md").read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    subscription = subscribe(company.id, receiver, ["contact.created"])
    old = receiver.secret
    _, new = subscriptions.rotate_secret(company.id, subscription.id)
    dbmod.commit()
    contact_event(company)
    (got,) = receiver.events()
    headers = {
        k: v for k, v in got.headers.items() if k.startswith("X-Whaticket-") or k == "Content-Type"
    }
    for secret, expected in ((old, 204), (new, 204), ("whsec_someone_else", 401)):
        monkeypatch.setenv("WHATICKET_WEBHOOK_SECRET", secret)
        namespace: dict = {"__name__": "reference_receiver"}
        exec(compile(snippet, "docs/integrations.md", "exec"), namespace)
        resp = (
            namespace["app"].test_client().post("/hooks/whaticket", data=got.raw, headers=headers)
        )
        assert resp.status_code == expected, secret
