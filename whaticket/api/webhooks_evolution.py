"""Evolution API (Baileys bridge) webhook endpoints.

Evolution signs nothing, so each connection's URL carries its own secret path segment
(`/webhooks/evolution/<whatsappId>/<webhookSecret>`), compared in constant time. A valid
delivery is stored durably (services/inbound_events) before the 200 answer; a worker job
turns it into messages, acks and session changes.
"""

from __future__ import annotations

import hashlib

from flask import Response, jsonify, request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.security import PUBLIC
from whaticket.services.inbound import deliveries as inbound_events
from whaticket.services.inbound import webhook_routing as routing
from whaticket.utils import strict_json

blp = Blueprint(
    "webhooks_evolution",
    __name__,
    url_prefix="/webhooks/evolution",
    description="Evolution API (Baileys bridge) webhook",
)


@blp.post("/<int:whatsapp_id>/<secret>")
@blp.doc(security=PUBLIC)
def receive(whatsapp_id: int, secret: str) -> tuple[Response, int]:
    """Store one Evolution delivery for the connection (public: the secret authenticates).

    An unknown connection and a wrong secret answer alike (401), so the URL tells a caller
    nothing about which connection ids exist.
    """
    conn = routing.connection(whatsapp_id, "evolution")
    if conn is None or not routing.evolution_secret_matches(conn, secret):
        return jsonify({"error": "ERR_INVALID_WEBHOOK_SECRET"}), 401
    raw = request.get_data()
    try:
        payload = strict_json.loads(raw)
    except ValueError:  # malformed, too deep, a lone surrogate (strict_json.InvalidJSONError)
        return jsonify({"error": "ERR_INVALID_JSON"}), 400
    if not isinstance(payload, dict):
        return jsonify({"error": "ERR_INVALID_JSON"}), 400
    # The body hash makes an exact redelivery (Evolution retries up to 10 times) collide.
    inbound_events.record(conn, raw, dedupe_key=hashlib.sha256(raw).hexdigest())
    dbmod.commit()
    return jsonify({"ok": True}), 200
