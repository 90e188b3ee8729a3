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
from whaticket.services import inbound_events
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


@blp.route("", methods=["GET"])
@blp.doc(security=PUBLIC)
def verify() -> Any:
    """Meta's subscription handshake: echo hub.challenge when the verify token is ours."""
    mode = request.args.get("hub.mode")
    token = request.args.get("hub.verify_token") or ""
    challenge = request.args.get("hub.challenge") or ""
    if mode == "subscribe" and token:
        conns = db.session.scalars(sa.select(Whatsapp).where(Whatsapp.provider == "cloud"))
        for conn in conns:
            expected = str(_config(conn).get("verifyToken") or "")
            # compare_digest: the token is a shared secret, do not leak it through timing.
            if expected and hmac.compare_digest(expected.encode(), token.encode()):
                return Response(challenge, status=200, mimetype="text/plain")
    return jsonify({"error": "ERR_INVALID_VERIFY_TOKEN"}), 403


@blp.route("", methods=["POST"])
@blp.doc(security=PUBLIC)
def receive() -> Any:
    """Store a signed delivery for every connection it is addressed to, then answer 200."""
    # Raw bytes: the signature covers them exactly (MAX_CONTENT_LENGTH bounds the read).
    raw = request.get_data(cache=True)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
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
    header = request.headers.get("X-Hub-Signature-256")
    for conn in conns:
        if not verify_signature(str(_config(conn).get("appSecret") or ""), raw, header):
            return jsonify({"error": "ERR_INVALID_SIGNATURE"}), 401
    key = hashlib.sha256(raw).hexdigest()
    for conn in conns:
        inbound_events.record(conn, raw, dedupe_key=key)
    dbmod.commit()
    return jsonify({"ok": True})
