"""Signing webhook deliveries: secrets, the X-Whaticket-* headers and their check.

Every attempt is a POST of the stored JSON body with:
  X-Whaticket-Event      the event type ("ticket.created", "ping");
  X-Whaticket-Delivery   the delivery's id, the same on every retry and redelivery;
  X-Whaticket-Timestamp  unix seconds of this attempt;
  X-Whaticket-Signature  "sha256=" + hex HMAC-SHA256(secret, "<timestamp>.<raw body>");
                         during a rotation's grace period one per secret, comma-separated,
                         the new secret's first: "sha256=<new>, sha256=<old>".
A receiver recomputes the signature over the raw bytes, accepts the request when any listed
signature matches, and refuses stale timestamps (docs/integrations.md has a reference
receiver).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from whaticket.utils import crypto

#: A secret reads as what it is wherever it is pasted.
SECRET_PREFIX = "whsec_"
#: Seconds a receiver should accept between a timestamp and its clock (either way).
TOLERANCE_SECONDS = 300
USER_AGENT = "whaticket-webhooks/1"


def new_secret() -> str:
    """A fresh signing secret (256 bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hint(secret: str) -> str:
    """What admins see of a secret once it was shown: its last four characters."""
    return secret[-4:]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Whaticket-Signature value of `body` sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signatures(keys: Sequence[str], timestamp: int, body: bytes) -> str:
    """The X-Whaticket-Signature value: one signature per secret, in order, comma-separated."""
    return ", ".join(signature(key, timestamp, body) for key in keys)


def headers(
    keys: Sequence[str], event_type: str, delivery_uuid: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one attempt, signed with each of `keys` (current secret first)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Whaticket-Event": event_type,
        "X-Whaticket-Delivery": delivery_uuid,
        "X-Whaticket-Timestamp": str(timestamp),
        "X-Whaticket-Signature": signatures(keys, timestamp, body),
    }


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    given: str,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether one of the signatures listed in `given` signs `body` at `timestamp` with
    `secret`, within `tolerance` of `now` (what a receiver checks; the tests check our
    deliveries with it)."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = signature(secret, sent, body)
    # Every listed signature is compared (no early exit): a timing side channel would
    # only tell which of them failed, but there is no reason to offer even that.
    matches = [hmac.compare_digest(expected, part.strip()) for part in (given or "").split(",")]
    return any(matches)


def signing_keys(row: Any, now: datetime) -> tuple[str, ...]:
    """The secrets an attempt at `now` is signed with: the current one, and the one a
    rotation replaced while its grace period lasts."""
    keys = [crypto.decrypt_str(row.secret_encrypted) or ""]
    expires = row.previous_secret_expires_at
    if row.previous_secret_encrypted and expires is not None and expires > now:
        previous = crypto.decrypt_str(row.previous_secret_encrypted)
        if previous:
            keys.append(previous)
    return tuple(keys)
