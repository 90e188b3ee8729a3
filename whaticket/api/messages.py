"""Message endpoints: a ticket's history, send text or media, delete for everyone."""

from __future__ import annotations

from flask import jsonify, request
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.jobs import outbound as outbound_jobs
from whaticket.schemas.messages import (
    BODY_MAX_CHARS,
    MessageCountArgsSchema,
    MessageCountSchema,
    MessageListArgsSchema,
    MessagePageSchema,
    MessageSchema,
    MessageSendSchema,
    TemplateSendSchema,
)
from whaticket.security import auth_required, current_company_id
from whaticket.services.inbound import media_download
from whaticket.services.messages import history as message_history
from whaticket.services.messages import replies as message_replies

blp = Blueprint("messages", __name__, url_prefix="/messages", description="Messages")
#: `/messages-allMe` is not under `/messages/`, so it needs a blueprint of its own.
count_blp = Blueprint(
    "messages_count", __name__, url_prefix="/messages-allMe", description="Message counts"
)


@blp.get("/<int:ticket_id>")
@auth_required
@blp.arguments(MessageListArgsSchema, location="query")
@blp.response(200, MessagePageSchema)
def list_messages(args: dict, ticket_id: int):
    """20 messages per page, oldest to newest; marks the ticket read.

    The service builds the JSON from the selected columns (MessagePageSchema's shape, which
    stays the documented one), so nothing is dumped or reloaded after the commit.
    """
    body = message_history.list_messages(
        current_company_id(), ticket_id, args["page_number"], current_user
    )
    dbmod.commit()
    return jsonify(body)


def _quoted_id(raw: object) -> int | None:
    """quotedMsg may be the message object (SPA) or its id."""
    if isinstance(raw, dict):
        raw = raw.get("id")
    if raw in (None, ""):
        return None
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise AppError("ERR_VALIDATION", 400, {"quotedMsg": ["Unknown message."]}) from exc


@blp.post("/<int:ticket_id>")
@auth_required
@blp.response(200, MessageSchema(many=True))
@blp.doc(
    requestBody={
        "content": {
            "application/json": {"schema": MessageSendSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "medias": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                        "body": {"type": "string"},
                    },
                }
            },
        }
    }
)
def send_message(ticket_id: int):
    """Send text (JSON {body, quotedMsg?}) or files (multipart `medias`, one message each)."""
    files = request.files.getlist("medias")
    if files:
        captions = request.form.getlist("body")
        if any(len(caption) > BODY_MAX_CHARS for caption in captions):
            # A caption is the message's body: bounded like a text's (never a 500).
            longer = f"Longer than maximum length {BODY_MAX_CHARS}."
            raise AppError("ERR_VALIDATION", 400, {"body": [longer]})
        payload = [(f.read(), f.filename or "file", f.mimetype or "") for f in files]
        sent = message_replies.send_media(
            current_company_id(), ticket_id, payload, captions, current_user
        )
    else:
        data = MessageSendSchema().load(request.get_json(silent=True) or {})
        sent = [
            message_replies.send_text(
                current_company_id(),
                ticket_id,
                data["body"],
                current_user,
                quoted_msg_id=_quoted_id(data.get("quoted_msg")),
            )
        ]
    dbmod.commit()
    # Sent after the commit: no transaction is open while the provider answers.
    sent = outbound_jobs.deliver_now(sent)
    return jsonify(MessageSchema(many=True).dump(sent))


@blp.delete("/<int:message_id>")
@auth_required
@blp.response(200, MessageSchema)
def delete_message(message_id: int):
    """Delete one of our messages for everyone."""
    company_id = current_company_id()
    order = message_history.prepare_delete(company_id, message_id, current_user)
    dbmod.commit()  # no transaction open while the provider answers
    if order is not None:
        message_history.call_delete(order)
    message = message_history.mark_deleted(company_id, message_id)
    body = MessageSchema().dump(message)
    dbmod.commit()
    return jsonify(body)


@blp.post("/<int:message_id>/retry-media")
@auth_required
@blp.response(200, MessageSchema)
def retry_media(message_id: int):
    """Try again to download an inbound message's media."""
    message = media_download.retry(current_company_id(), message_id, current_user)
    body = MessageSchema().dump(message)
    dbmod.commit()
    return jsonify(body)


@blp.post("/<int:ticket_id>/template")
@auth_required
@blp.arguments(TemplateSendSchema)
@blp.response(200, MessageSchema)
def send_template(data: dict, ticket_id: int):
    """Send an approved template (Cloud API connections; for closed 24-hour windows)."""
    message = message_replies.send_template(
        current_company_id(), ticket_id, data["template"], current_user
    )
    dbmod.commit()
    [message] = outbound_jobs.deliver_now([message])
    return jsonify(MessageSchema().dump(message))


@count_blp.get("")
@auth_required
@count_blp.arguments(MessageCountArgsSchema, location="query")
@count_blp.response(200, MessageCountSchema)
def count_messages(args: dict) -> dict:
    """How many of the company's messages (sent by default, `fromMe=false`: received) were
    created on the local days dateStart..dateEnd (each defaults to the other, then today)."""
    company_id = current_company_id()
    last = args["date_end"] or args["date_start"] or message_history.local_today(company_id)
    first = args["date_start"] or last
    count = message_history.count_messages(company_id, args["from_me"], first, last)
    return {"count": [{"count": count}]}
