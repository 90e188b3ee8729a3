"""Meta WhatsApp Cloud API webhook endpoints: the verify handshake and signed deliveries.

Both routes are public: Meta authenticates with the verify token (GET) and with the
`X-Hub-Signature-256` HMAC of the raw body keyed by the app secret (POST). Deliveries are
routed by `metadata.phone_number_id` to the cloud connections of any company, stored
durably (`inbound_events.record`) and processed by a job after the 200 answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.security import PUBLIC
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.utils.crypto import decrypt_json
from whaticket.whatsapp.cloud import phone_number_ids, verify_signature

blp = Blueprint(
    "webhooks_cloud",
    __name__,
    url_prefix="/webhooks/cloud",
    description="Meta WhatsApp Cloud API webhook",
)


def _config(conn: Whatsapp) -> dict[str, Any]:
    """A connection's decrypted settings, {} when they cannot be read (logged)."""
    try:
        return decrypt_json(conn.provider_config)
    except ValueError:
        # A key rotated without re-encrypting: this connection cannot authenticate Meta.
        current_app.logger.warning("cloud connection %s: settings cannot be decrypted", conn.id)
        return {}


def _handshake(conns: list[Whatsapp]) -> Any:
    """Echo hub.challenge when hub.verify_token is the verify token of one of `conns`."""
    mode = request.args.get("hub.mode")
    token = request.args.get("hub.verify_token") or ""
    challenge = request.args.get("hub.challenge") or ""
    if mode == "subscribe" and token:
        for conn in conns:
            expected = str(_config(conn).get("verifyToken") or "")
            # compare_digest: the token is a shared secret, do not leak it through timing.
            if expected and hmac.compare_digest(expected.encode(), token.encode()):
                return Response(challenge[:200], status=200, mimetype="text/plain")
    return jsonify({"error": "ERR_INVALID_VERIFY_TOKEN"}), 403


def _raw_payload() -> tuple[bytes, Any]:
    """The raw body (the signature covers exactly these bytes) and its JSON, or None."""
    # MAX_CONTENT_LENGTH bounds the read.
    raw = request.get_data(cache=True)
    try:
        return raw, json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return raw, None


def _store(raw: bytes, conns: list[Whatsapp]) -> None:
    """Record the delivery once per connection, then commit (processing is a job's)."""
    key = hashlib.sha256(raw).hexdigest()
    for conn in conns:
        inbound_events.record(conn, raw, dedupe_key=key)
    dbmod.commit()


def recipients(conns: list[Whatsapp], raw: bytes, header: str | None) -> list[Whatsapp]:
    """The connections a signed delivery is for: those whose own app secret verifies it.

    Another connection that typed the same phone_number_id (another company's, say)
    neither blocks the delivery nor receives it without the right secret. When several
    verify, the one that proved it owns the number (its claim) takes it alone.
    """
    verified = [
        c for c in conns if verify_signature(str(_config(c).get("appSecret") or ""), raw, header)
    ]
    chosen: list[Whatsapp] = []
    for account in sorted({c.provider_account_id or "" for c in verified}):
        same = [c for c in verified if (c.provider_account_id or "") == account]
        owner = [c for c in same if c.account_claim == f"cloud:{account}"]
        chosen += owner or same
    return chosen


@blp.route("", methods=["GET"])
@blp.doc(security=PUBLIC)
def verify() -> Any:
    """Meta's subscription handshake on the shared URL (any cloud connection's token).

    The shared URL cannot tell which connection is subscribing, and the handshake grants
    nothing by itself: every delivery is still checked against each connection's own app
    secret. The per-connection URL (`/webhooks/cloud/<id>`) checks that connection's only.
    """
    conns = list(db.session.scalars(sa.select(Whatsapp).where(Whatsapp.provider == "cloud")))
    return _handshake(conns)


@blp.route("/<int:whatsapp_id>", methods=["GET"])
@blp.doc(security=PUBLIC)
def verify_one(whatsapp_id: int) -> Any:
    """The handshake of one connection: only its own verify token passes."""
    conn = db.session.get(Whatsapp, whatsapp_id)
    return _handshake([conn] if conn is not None and conn.provider == "cloud" else [])


@blp.route("", methods=["POST"])
@blp.doc(security=PUBLIC)
def receive() -> Any:
    """Store a signed delivery for every connection it is addressed to, then answer 200."""
    raw, payload = _raw_payload()
    if payload is None:
        return jsonify({"error": "ERR_INVALID_JSON"}), 400
    ids = phone_number_ids(payload)
    if not ids:
        return jsonify({"ok": True})
    conns = list(
        db.session.scalars(
            sa.select(Whatsapp)
            .where(Whatsapp.provider == "cloud", Whatsapp.provider_account_id.in_(sorted(ids)))
            .order_by(Whatsapp.id)
        )
    )
    if not conns:
        # Not ours (a number removed here but still subscribed): a non-2xx would only make
        # Meta retry for a day.
        return jsonify({"ok": True})
    targets = recipients(conns, raw, request.headers.get("X-Hub-Signature-256"))
    if not targets:
        return jsonify({"error": "ERR_INVALID_SIGNATURE"}), 401
    _store(raw, targets)
    return jsonify({"ok": True})


@blp.route("/<int:whatsapp_id>", methods=["POST"])
@blp.doc(security=PUBLIC)
def receive_one(whatsapp_id: int) -> Any:
    """A delivery for one connection: stored when its app secret signs it.

    An unknown connection and a bad signature answer alike (401), so the URL tells a
    caller nothing about which connection ids exist.
    """
    raw, payload = _raw_payload()
    if payload is None:
        return jsonify({"error": "ERR_INVALID_JSON"}), 400
    conn = db.session.get(Whatsapp, whatsapp_id)
    header = request.headers.get("X-Hub-Signature-256")
    if conn is None or conn.provider != "cloud" or not recipients([conn], raw, header):
        return jsonify({"error": "ERR_INVALID_SIGNATURE"}), 401
    if str(conn.provider_account_id or "") not in phone_number_ids(payload):
        return jsonify({"ok": True})  # signed, but for another number of the same app
    _store(raw, [conn])
    return jsonify({"ok": True})
