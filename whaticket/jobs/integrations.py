"""Integration jobs: the signed webhook/n8n delivery of one message, retried with backoff."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import requests
from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import Message, QueueIntegration, Ticket
from whaticket.services.bots import webhooks as integration_webhook
from whaticket.utils import outbound

#: Seconds before attempt n+1 (30 s, 2 min, 10 min, 30 min, 2 h); attempt 6 is the last.
BACKOFF = (30, 120, 600, 1800, 7200)
MAX_ATTEMPTS = len(BACKOFF) + 1
DEFAULT_TIMEOUT = 10
#: Client errors worth retrying (timeout, rate limit); any other 4xx is final.
RETRYABLE_4XX = (408, 429)


def deliver_webhook(integration_id: int, message_id: int, attempt: int = 1) -> None:
    """Job: POST one message to the integration's URL; on failure retry later, then give up."""
    integration = db.session.get(QueueIntegration, integration_id)
    message = db.session.get(Message, message_id)
    if integration is None or message is None:
        return  # deleted meanwhile: nothing left to deliver
    if integration.type not in integration_webhook.WEBHOOK_TYPES or not integration.url_n8n:
        return  # reconfigured as another type since the message arrived
    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is None or ticket.company_id != integration.company_id:
        return
    body = integration_webhook.payload(integration, ticket, message)
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = integration_webhook.headers(integration, message_id, timestamp, raw)
    url = integration.url_n8n
    timeout = current_app.config.get("INTEGRATION_WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT)
    try:
        resp = outbound.post(url, data=raw, headers=headers, timeout=timeout, max_bytes=64 * 1024)
    except outbound.BlockedAddress as exc:
        # An internal address stays internal: retrying would only knock on it again.
        current_app.logger.warning("webhook %s not delivered: %s; not retried", integration_id, exc)
        return
    except requests.RequestException as exc:  # refused, DNS, timeout: the receiver is down
        _retry(integration_id, message_id, attempt, f"{type(exc).__name__}: {exc}")
        return
    status = resp.status_code
    if 200 <= status < 300:
        return
    if 300 <= status < 500 and status not in RETRYABLE_4XX:
        # A redirect or a refusal will not change by itself: retrying only repeats it.
        current_app.logger.warning(
            "webhook %s refused message %s with HTTP %s; not retried",
            integration_id,
            message_id,
            status,
        )
        return
    _retry(integration_id, message_id, attempt, f"HTTP {status}")


def _retry(integration_id: int, message_id: int, attempt: int, reason: str) -> None:
    """Schedule the next attempt, or log that the delivery is abandoned."""
    if attempt >= MAX_ATTEMPTS:
        current_app.logger.warning(
            "webhook %s gave up on message %s after %s attempts (%s)",
            integration_id,
            message_id,
            attempt,
            reason,
        )
        return
    delay = BACKOFF[attempt - 1]
    current_app.logger.info(
        "webhook %s message %s attempt %s failed (%s); retry in %ss",
        integration_id,
        message_id,
        attempt,
        reason,
        delay,
    )
    delivery = integration_webhook.delivery_id(integration_id, message_id)
    # Stored, so a retry survives Redis refusing it or a worker restart; this job writes
    # nothing else, and commits the stored retry itself.
    jobs.enqueue(
        deliver_webhook,
        integration_id,
        message_id,
        attempt + 1,
        in_=timedelta(seconds=delay),
        job_id=f"whaticket-webhook-{delivery}-{attempt + 1}",
        durable=True,
    )
    dbmod.commit()
