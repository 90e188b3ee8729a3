"""The webhook outbox: an event becomes `webhook_deliveries` rows in the transaction of the
change it reports, and their jobs are queued once that transaction commits.

`record()` is called by the bus listeners (`webhooks_listener`) while the change is under
way. It looks up the company's active subscriptions that want the event (one query per
company and transaction) and registers an `_Event` with the commit: just before the commit
(`whaticket.db.commit` prepares side effects) the event builds its record from the state
the transaction leaves and adds one delivery per subscription, so the rows commit with the
change; right after the commit it queues their jobs (`webhooks.deliver`, by name; the
deliveries of an unordered subscription share a job id, so one job waiting in the queue
stands for all of them and sends them in a batch, see `sending`). A rolled-back change (or
savepoint) writes and sends nothing. The periodic sweep
(`deliveries.due_ids`) sends the rows whose job was lost.

One event per (type, subject) and transaction: a ticket changed three times by one request
is one `ticket.updated`, showing the ticket as committed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import after_commit, commit_scope, utcnow
from whaticket.extensions import db
from whaticket.models import Company, Plan, WebhookDelivery, WebhookSubscription
from whaticket.schemas.fields import timestamp

#: The job that sends one delivery (whaticket/jobs/webhooks.py), named: services do not
#: import job modules.
DELIVER_JOB = "webhooks.deliver"
#: Seconds before each retry: 1 min, 5 min, 30 min, 2 h, 6 h, 15 h (about a day in all);
#: WEBHOOK_RETRY_SCHEDULE overrides it.
RETRY_SCHEDULE = (60, 300, 1800, 7200, 21600, 54000)

#: commit_scope() keys: company id -> its active subscriptions; (type, subject) of the
#: events recorded at this commit; ("ticket"/"contact", id) created in this transaction.
_TARGETS = "webhooks.targets"
_SEEN = "webhooks.seen"
_CREATED = "webhooks.created"

#: Builds an event's `data` at the commit; None: nothing to tell (deleted, no net change).
Build = Callable[[], dict[str, Any] | None]


@dataclass(frozen=True)
class Target:
    """An active subscription, as the events of one transaction need it."""

    id: int
    events: frozenset[str]
    ordered: bool


def retry_schedule() -> tuple[int, ...]:
    """Seconds before each retry (WEBHOOK_RETRY_SCHEDULE, else RETRY_SCHEDULE)."""
    return tuple(current_app.config.get("WEBHOOK_RETRY_SCHEDULE") or RETRY_SCHEDULE)


def targets(company_id: int, event_type: str) -> list[Target]:
    """The company's active subscriptions that want `event_type` (read once per transaction);
    none while the company's plan has integrations (`use_integrations`) off."""
    cache: dict[int, list[Target]] = commit_scope().setdefault(_TARGETS, {})
    found = cache.get(company_id)
    if found is None:
        # No autoflush: the publisher is mid-change; its rows flush when it says so.
        with db.session.no_autoflush:
            rows = db.session.execute(
                sa.select(
                    WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.ordered
                )
                .join(Company, Company.id == WebhookSubscription.company_id)
                .outerjoin(Plan, Plan.id == Company.plan_id)
                .where(
                    WebhookSubscription.company_id == company_id,
                    WebhookSubscription.active.is_(True),
                    # No plan: every feature on (billing.plans.feature_enabled).
                    sa.or_(Plan.id.is_(None), Plan.use_integrations.is_(True)),
                )
            ).all()
        found = [Target(r.id, frozenset(r.events or ()), bool(r.ordered)) for r in rows]
        cache[company_id] = found
    return [target for target in found if event_type in target.events]


def mark_created(kind: str, subject_id: int) -> None:
    """The record was created in this transaction (its update events are not news)."""
    commit_scope().setdefault(_CREATED, set()).add((kind, subject_id))


def created(kind: str, subject_id: int) -> bool:
    """Whether `mark_created` was called for it in this transaction."""
    return (kind, subject_id) in commit_scope().get(_CREATED, ())


def record(
    company_id: int,
    event_type: str,
    subject: Any,
    build: Build,
    *,
    ticket_id: int | None = None,
) -> None:
    """Deliver an event to each active subscription of the company that wants it.

    `subject` names what it is about (one event per type and subject per transaction);
    `build()` makes its `data` just before the commit; `ticket_id` orders it among the
    ticket's deliveries on ordered subscriptions.
    """
    wanted = targets(company_id, event_type)
    if wanted:
        after_commit(_Event(company_id, event_type, subject, build, ticket_id, wanted, utcnow()))


def body(event_id: str, event_type: str, company_id: int, at: datetime, data: Any) -> str:
    """The JSON body of an event (stored, and sent byte for byte)."""
    envelope = {
        "id": event_id,
        "type": event_type,
        "createdAt": timestamp(at),
        "companyId": company_id,
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str)


def new_delivery(
    company_id: int,
    subscription_id: int,
    event_id: str,
    event_type: str,
    payload: str,
    at: datetime,
    *,
    ordering_key: str | None = None,
    max_attempts: int | None = None,
) -> WebhookDelivery:
    """A pending delivery due at `at`, added to the session."""
    row = WebhookDelivery(
        company_id=company_id,
        subscription_id=subscription_id,
        uuid=str(uuid.uuid4()),
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        ordering_key=ordering_key,
        status="pending",
        attempts=0,
        max_attempts=max_attempts or len(retry_schedule()) + 1,
        next_attempt_at=at,
    )
    db.session.add(row)
    return row


def drain_job_id(subscription_id: int) -> str:
    """The job id shared by the deliveries of an unordered subscription: while one of its
    jobs waits in the queue, another is not queued (it sends the new ones too)."""
    return f"webhook-subscription-{subscription_id}"


def submit(deliveries: Iterable[tuple[int, int | None]]) -> None:
    """Queue the jobs of committed deliveries: (delivery id, subscription id of an
    unordered subscription, else None for a job of its own)."""
    backend = jobs.get_backend()
    deliver = jobs.job(DELIVER_JOB)
    for delivery_id, drain in deliveries:
        job_id = drain_job_id(drain) if drain is not None else f"webhook-{delivery_id}-0"
        backend.submit(deliver, (delivery_id,), job_id=job_id)


class _Event:
    """One event of a transaction: rows written just before its commit, jobs right after."""

    def __init__(
        self,
        company_id: int,
        event_type: str,
        subject: Any,
        build: Build,
        ticket_id: int | None,
        wanted: list[Target],
        at: datetime,
    ) -> None:
        self.company_id = company_id
        self.event_type = event_type
        self.subject = subject
        self.build = build
        self.ticket_id = ticket_id
        self.wanted = wanted
        self.at = at
        self.rows: list[tuple[WebhookDelivery, Target]] = []
        self._prepared = False

    def prepare(self) -> None:
        """Build the record from the transaction's final state and add the deliveries."""
        if self._prepared:
            return
        self._prepared = True
        seen: set[tuple[str, Any]] = commit_scope().setdefault(_SEEN, set())
        key = (self.event_type, self.subject)
        if key in seen:
            return  # the first of the transaction's events speaks for all
        seen.add(key)
        try:
            data = self.build()
        except Exception:  # never undo the change it reports
            current_app.logger.exception(
                "webhook event %s of %s: its record could not be built", self.event_type, key
            )
            return
        if data is None:
            return
        event_id = str(uuid.uuid4())
        payload = body(event_id, self.event_type, self.company_id, self.at, data)
        key = f"ticket:{self.ticket_id}" if self.ticket_id is not None else None
        for target in self.wanted:
            ordering = key if target.ordered else None
            row = new_delivery(
                self.company_id,
                target.id,
                event_id,
                self.event_type,
                payload,
                self.at,
                ordering_key=ordering,
            )
            self.rows.append((row, target))

    def __call__(self) -> None:
        """After the commit: queue a job per delivery (the sweep sends any that are lost)."""
        if not self._prepared:
            current_app.logger.error("webhook event %s committed unprepared", self.event_type)
            return
        # The identity, not `row.id`: the commit expired the rows and this needs no query.
        submit(
            (sa.inspect(row).identity[0], None if target.ordered else target.id)
            for row, target in self.rows
        )
