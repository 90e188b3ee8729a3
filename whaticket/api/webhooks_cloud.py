"""Meta WhatsApp Cloud API webhook endpoints: the verify handshake and signed deliveries.

Both routes are public: Meta authenticates with the verify token (GET) and with the
`X-Hub-Signature-256` HMAC of the raw body keyed by the app secret (POST). Deliveries are
routed by `metadata.phone_number_id` to the cloud connections of any company, stored
durably (`inbound_events.record`) and processed by a job after the 200 answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, jsonify, request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.models import Whatsapp
from whaticket.security import PUBLIC
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.inbound import webhook_routing as routing
from whaticket.utils import strict_json
from whaticket.whatsapp.cloud import phone_number_ids

blp = Blueprint(
    "webhooks_cloud",
    __name__,
    url_prefix="/webhooks/cloud",
    description="Meta WhatsApp Cloud API webhook",
)


def _handshake(conns: list[Whatsapp]) -> Any:
    """Echo hub.challenge when hub.verify_token is the verify token of one of `conns`."""
    mode = request.args.get("hub.mode")
    token = request.args.get("hub.verify_token") or ""
    challenge = request.args.get("hub.challenge") or ""
    if mode == "subscribe" and routing.verify_token_matches(conns, token):
        return Response(challenge[:200], status=200, mimetype="text/plain")
    return jsonify({"error": "ERR_INVALID_VERIFY_TOKEN"}), 403


def _raw_payload() -> tuple[bytes, Any]:
    """The raw body (the signature covers exactly these bytes) and its JSON, or None."""
    # MAX_CONTENT_LENGTH bounds the read.
    raw = request.get_data(cache=True)
    try:
        # Strict: a lone surrogate would reach the routing query (and fail there).
        return raw, strict_json.loads(raw)
    except ValueError:  # malformed, too deep, not valid Unicode (strict_json.InvalidJSONError)
        return raw, None


def _store(raw: bytes, conns: list[Whatsapp]) -> None:
    """Record the delivery once per connection, then commit (processing is a job's)."""
    key = hashlib.sha256(raw).hexdigest()
    for conn in conns:
        inbound_events.record(conn, raw, dedupe_key=key)
    dbmod.commit()


@blp.route("", methods=["GET"])
@blp.doc(security=PUBLIC)
def verify() -> Any:
    """Meta's subscription handshake on the shared URL (any cloud connection's token).

    The shared URL cannot tell which connection is subscribing, and the handshake grants
    nothing by itself: every delivery is still checked against each connection's own app
    secret. The per-connection URL (`/webhooks/cloud/<id>`) checks that connection's only.
    """
    conns = routing.cloud_connections()
    return _handshake(conns)


@blp.route("/<int:whatsapp_id>", methods=["GET"])
@blp.doc(security=PUBLIC)
def verify_one(whatsapp_id: int) -> Any:
    """The handshake of one connection: only its own verify token passes."""
    conn = routing.connection(whatsapp_id, "cloud")
    return _handshake([conn] if conn is not None else [])


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
    conns = routing.cloud_connections(set(ids))
    if not conns:
        # Not ours (a number removed here but still subscribed): a non-2xx would only make
        # Meta retry for a day.
        return jsonify({"ok": True})
    targets = routing.cloud_recipients(conns, raw, request.headers.get("X-Hub-Signature-256"))
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
    conn = routing.connection(whatsapp_id, "cloud")
    header = request.headers.get("X-Hub-Signature-256")
    if conn is None or not routing.cloud_recipients([conn], raw, header):
        return jsonify({"error": "ERR_INVALID_SIGNATURE"}), 401
    if str(conn.provider_account_id or "") not in phone_number_ids(payload):
        return jsonify({"ok": True})  # signed, but for another number of the same app
    _store(raw, [conn])
    return jsonify({"ok": True})
