"""One webhook attempt on the wire: sign, POST through the guarded client, judge the answer
(and read the wait a 429 or 503 asks for in `Retry-After`: seconds or an HTTP date).

No database here: the caller claimed the delivery and committed before (`sending.claim`),
and records the outcome after (`sending.apply`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import requests
from flask import current_app

from whaticket.db import utcnow
from whaticket.services.integrations import signing
from whaticket.utils import outbound

#: Seconds to wait for a receiver (WEBHOOK_TIMEOUT overrides it).
DEFAULT_TIMEOUT = 10
#: The first bytes of an answer kept in the log.
ANSWER_KEPT = 500
#: Largest answer read (a receiver has nothing to say worth more).
ANSWER_MAX = 256 * 1024
#: Client errors worth retrying (timeout, rate limit); any other 4xx or 3xx is final.
RETRYABLE_4XX = (408, 429)
#: Answers whose `Retry-After` is honoured (RFC 9110: 503; RFC 6585: 429).
RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class Request:
    """What an attempt sends, snapshotted from the rows before their transaction ended."""

    url: str
    #: The secrets that sign it: the current one first, then one still in its grace period.
    secrets: tuple[str, ...]
    event_type: str
    delivery_uuid: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """How an attempt went."""

    ok: bool
    #: A failure another attempt may fix (network, 5xx, 408, 429).
    retryable: bool
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    answer: str | None = None
    error: str | None = None
    #: Seconds the receiver asked us to wait before the next attempt (429/503 only).
    retry_after: int | None = None


def send(req: Request) -> Outcome:
    """POST the delivery, signed now; never raises for the receiver's failures."""
    raw = req.body.encode()
    at = utcnow()
    stamp = int(at.timestamp())
    headers = signing.headers(req.secrets, req.event_type, req.delivery_uuid, stamp, raw)
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    started = time.monotonic()
    try:
        resp = outbound.post(
            req.url,
            data=raw,
            headers=headers,
            timeout=timeout,
            deadline=timeout * 2,
            max_bytes=ANSWER_MAX,
        )
    except outbound.BlockedAddress as exc:
        # An internal address stays internal: retrying would only knock on it again.
        return Outcome(False, False, at, _ms(started), error=f"Refused address: {exc}"[:500])
    except requests.RequestException as exc:  # refused, DNS, timeout: the receiver is down
        return Outcome(False, True, at, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
    code = resp.status_code
    answer = resp.content[:ANSWER_KEPT].decode("utf-8", "replace")
    if 200 <= code < 300:
        return Outcome(True, False, at, _ms(started), code, answer)
    retryable = code >= 500 or code in RETRYABLE_4XX
    wait = (
        retry_after(resp.headers.get("Retry-After"), at) if code in RETRY_AFTER_STATUSES else None
    )
    error = f"HTTP {code}" if wait is None else f"HTTP {code} (Retry-After: {wait} s)"
    return Outcome(False, retryable, at, _ms(started), code, answer, error, wait)


def retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds a `Retry-After` value asks for (delay-seconds, or an HTTP date taken against
    `now`; a past date is 0); None when absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return min(int(text), 10**9)  # bounded: a silly value must not overflow a date
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=now.tzinfo)
    return max(0, int((when - now).total_seconds()))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
