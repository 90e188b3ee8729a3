"""The external send API at /api/messages/send (fixed path, connection-token auth)."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields, validate

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.jobs import outbound as outbound_jobs
from whaticket.schemas.base import BaseSchema
from whaticket.services.connections import external_api

blp = Blueprint("external", __name__, url_prefix="/api/messages", description="External send API")


class ExternalSendSchema(BaseSchema):
    """`{number, body, closeTicket?}` (JSON, or the same multipart fields)."""

    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    body = fields.String(load_default="", validate=validate.Length(max=65536))
    close_ticket = fields.Boolean(load_default=False)


@blp.post("/send")
@blp.doc(
    security=[{"bearerAuth": []}],
    requestBody={
        "content": {
            "application/json": {"schema": ExternalSendSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "string"},
                        "body": {"type": "string"},
                        "closeTicket": {"type": "boolean"},
                        "medias": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        }
    },
)
def send_message():
    """Send text or files to a number on the token's connection."""
    conn = external_api.connection_for(
        request.headers.get("Authorization"), request.remote_addr or "-"
    )
    external_api.throttle(conn)
    files = request.files.getlist("medias")
    if files or request.mimetype == "multipart/form-data":
        raw = {key: request.form.get(key) for key in ("number", "body", "closeTicket")}
        raw = {key: value for key, value in raw.items() if value is not None}
    else:
        raw = request.get_json(silent=True) or {}
    data = ExternalSendSchema().load(raw)
    check = external_api.prepare_number(conn, data["number"])
    dbmod.commit()  # the provider is asked with no transaction open
    digits = external_api.confirm_number(check)
    outcome = external_api.send(
        conn,
        digits,
        data["body"],
        [(f.read(), f.filename or "file", f.mimetype or "") for f in files],
        close_ticket=data["close_ticket"],
    )
    body = {
        "mensagem": "Mensagem enviada",
        "messageId": outcome.message.id,
        "ticketId": outcome.ticket.id,
    }
    dbmod.commit()  # the message goes out right after this commit
    outbound_jobs.raise_if_failed([outcome.message])
    return jsonify(body)
