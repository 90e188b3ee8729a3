"""Which connection a provider's webhook delivery is for, and whether it proved it.

The webhook views stay thin: they read the request and answer; finding the connections
a delivery names and checking its secret (Cloud's app-secret signature, Evolution's path
secret) happen here.
"""

from __future__ import annotations

import hmac
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.services.connections import provider_settings
from whaticket.whatsapp.cloud import verify_signature


def provider_config(conn: Whatsapp) -> dict[str, Any]:
    """`provider_settings.provider_config`, but {} (logged) when they cannot be decrypted:
    a webhook must answer, not fail, on one unreadable connection."""
    try:
        return provider_settings.provider_config(conn)
    except ValueError:
        # A key rotated without re-encrypting: this connection cannot authenticate the provider.
        current_app.logger.warning("connection %s: settings cannot be decrypted", conn.id)
        return {}


def connection(whatsapp_id: int, provider: str) -> Whatsapp | None:
    """The connection with this id when it uses `provider`."""
    conn = db.session.get(Whatsapp, whatsapp_id)
    return conn if conn is not None and conn.provider == provider else None


def cloud_connections(phone_number_ids: set[str] | None = None) -> list[Whatsapp]:
    """Every Cloud connection, or those registered for one of `phone_number_ids`."""
    stmt = sa.select(Whatsapp).where(Whatsapp.provider == "cloud")
    if phone_number_ids is not None:
        stmt = stmt.where(Whatsapp.provider_account_id.in_(sorted(phone_number_ids)))
    return list(db.session.scalars(stmt.order_by(Whatsapp.id)))


def verify_token_matches(conns: list[Whatsapp], token: str) -> bool:
    """Whether `token` is the verify token of one of `conns` (Meta's handshake)."""
    for conn in conns:
        expected = str(provider_config(conn).get("verifyToken") or "")
        # compare_digest: the token is a shared secret, do not leak it through timing.
        if expected and token and hmac.compare_digest(expected.encode(), token.encode()):
            return True
    return False


def cloud_recipients(conns: list[Whatsapp], raw: bytes, header: str | None) -> list[Whatsapp]:
    """The connections a signed delivery is for: those whose own app secret verifies it.

    Another connection that typed the same phone_number_id (another company's, say)
    neither blocks the delivery nor receives it without the right secret. When several
    verify, the one that proved it owns the number (its claim) takes it alone.
    """
    verified = [
        c
        for c in conns
        if verify_signature(str(provider_config(c).get("appSecret") or ""), raw, header)
    ]
    chosen: list[Whatsapp] = []
    for account in sorted({c.provider_account_id or "" for c in verified}):
        same = [c for c in verified if (c.provider_account_id or "") == account]
        owner = [c for c in same if c.account_claim == f"cloud:{account}"]
        chosen += owner or same
    return chosen


def evolution_secret_matches(conn: Whatsapp, secret: str) -> bool:
    """Whether the URL's path segment is the connection's webhook secret."""
    expected = str(provider_config(conn).get("webhookSecret") or "")
    # An unset secret must never match an empty or guessed path segment.
    return bool(expected) and hmac.compare_digest(secret.encode(), expected.encode())
