"""Public API v1 messages: the feed, one message, and sends (text, media, templates) in a
ticket or to a number. Sends are queued, committed, then delivered (`deliver_now`): the
answer carries the provider's verdict, and no transaction is open while it answers."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from werkzeug.datastructures import FileStorage

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.errors import AppError
from whaticket.jobs import outbound as outbound_jobs
from whaticket.schemas.messages import BODY_MAX_CHARS
from whaticket.schemas.v1.messages import (
    V1MessageListArgsSchema,
    V1MessagePageSchema,
    V1MessageSchema,
    V1NumberSendSchema,
    V1SendResultSchema,
    V1TemplateSendSchema,
    V1TextSendSchema,
    multipart_body,
)
from whaticket.services.integrations import api_reads, api_writes

blp = Blueprint("v1_messages", __name__, url_prefix="/v1", description="API v1: messages")


def _files() -> list[FileStorage]:
    """The multipart `medias` of the request (none for JSON)."""
    return request.files.getlist("medias")


def _payload(files: list[FileStorage]) -> list[tuple[bytes, str, str]]:
    return [(f.read(), f.filename or "file", f.mimetype or "") for f in files]


def _form(*names: str) -> dict[str, Any]:
    """The multipart text fields `names` that were sent (as a JSON body would carry them)."""
    raw = {name: request.form.get(name) for name in names}
    return {name: value for name, value in raw.items() if value is not None}


def _delivered(ticket_id: int, queued: list[Any]) -> Response:
    """Commit, send what was queued now, and answer with the messages as sent."""
    dbmod.commit()
    sent = outbound_jobs.deliver_now(queued)
    return jsonify(V1SendResultSchema().dump({"ticket_id": ticket_id, "messages": sent}))


@blp.get("/messages")
@token_scope("tickets:read")
@blp.arguments(V1MessageListArgsSchema, location="query")
@blp.response(200, V1MessagePageSchema)
def list_messages(args: dict) -> dict:
    """Messages of the tickets the token sees, oldest change first (acks and edits are
    changes too: a change feed, see `nextCursor`)."""
    page = api_reads.list_messages(principal(), args)
    return {"messages": page.rows, "has_more": page.has_more, "next_cursor": page.next_cursor}


@blp.get("/messages/<int:message_id>")
@token_scope("tickets:read")
@blp.response(200, V1MessageSchema)
def show_message(message_id: int):
    """One message of a ticket the token sees."""
    return api_reads.get_message(principal(), message_id)


@blp.post("/tickets/<int:ticket_id>/messages")
@token_scope("messages:send")
@blp.response(200, V1SendResultSchema)
@blp.doc(requestBody=multipart_body(V1TextSendSchema))
def send_in_ticket(ticket_id: int) -> Response:
    """Send a text (JSON `{body, quotedMsgId?}`) or files (multipart `medias`, one message
    each, captioned `body`) in a ticket the token sees."""
    files = _files()
    if files:
        captions = request.form.getlist("body")
        if any(len(caption) > BODY_MAX_CHARS for caption in captions):
            longer = f"Longer than maximum length {BODY_MAX_CHARS}."
            raise AppError("ERR_VALIDATION", 400, {"body": [longer]})
        queued = api_writes.send_media(principal(), ticket_id, _payload(files), captions)
    else:
        data = V1TextSendSchema().load(request.get_json(silent=True) or {})
        queued = api_writes.send_text(
            principal(), ticket_id, data["body"], data.get("quoted_msg_id")
        )
    return _delivered(ticket_id, queued)


@blp.post("/tickets/<int:ticket_id>/template")
@token_scope("messages:send")
@blp.arguments(V1TemplateSendSchema)
@blp.response(200, V1SendResultSchema)
def send_template(data: dict, ticket_id: int) -> Response:
    """Send an approved template in a ticket the token sees (Cloud API connections: the
    only way to write after 24 hours of the contact's silence)."""
    message = api_writes.send_template(principal(), ticket_id, data["template"])
    return _delivered(ticket_id, [message])


@blp.post("/messages")
@token_scope("messages:send")
@blp.response(200, V1SendResultSchema)
@blp.doc(requestBody=multipart_body(V1NumberSendSchema, "number", "whatsappId"))
def send_to_number() -> Response:
    """Send a text or files to a number (its contact and ticket found or created), on the
    connection `whatsappId`, the token's only one, or the company's default."""
    files = _files()
    if files or request.mimetype == "multipart/form-data":
        raw = _form("number", "body", "whatsappId")
    else:
        raw = request.get_json(silent=True) or {}
    data = V1NumberSendSchema().load(raw)
    caller = principal()
    conn_id, check = api_writes.prepare_number_send(caller, data["number"], data.get("whatsapp_id"))
    dbmod.commit()  # the provider is asked with no transaction open
    digits = api_writes.confirm_number(check)
    queued = api_writes.send_to_number(caller, conn_id, digits, data["body"], _payload(files))
    return _delivered(queued[0].ticket_id, queued)
