"""The fake provider's HTTP face: inject inbound messages and acks, read the outbox, and
fill or read the fake phone's address book (what "import contacts" lists).

Admins of the connection's company only, connections whose provider is "fake" only.
On by default; with APP_ENV=production only when FAKE_GATEWAY_ENABLED=true, and when off
every route answers 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import ValidationError

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.config import fake_enabled
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.models import Whatsapp
from whaticket.schemas.whatsapps import (
    FakeAcceptedSchema,
    FakeAckSchema,
    FakeContactsSchema,
    FakeInboundSchema,
    FakeStatusSchema,
)
from whaticket.security import admin_required, current_company_id
from whaticket.services.connections import fake_whatsapp
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.inbound.acks import apply_ack
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.platform import media as media_service
from whaticket.whatsapp import fake
from whaticket.whatsapp.base import Media

blp = Blueprint(
    "fake_gateway",
    __name__,
    url_prefix="/fake-gateway",
    description="Fake WhatsApp provider (development)",
)


def fake_gateway_enabled() -> bool:
    """FAKE_GATEWAY_ENABLED when set ("true"/"false"), else on outside production."""
    return fake_enabled(current_app.config, "FAKE_GATEWAY_ENABLED")


@blp.before_request
def _only_when_enabled() -> None:
    # Checked before authentication so a disabled fake is indistinguishable from no route.
    if not fake_gateway_enabled():
        raise AppError("ERR_NOT_FOUND", 404)


def _fake_connection(whatsapp_id: int) -> Whatsapp:
    """The caller's company connection, which must use the fake provider."""
    conn = whatsapp_service.get_connection(current_company_id(), whatsapp_id)
    if conn.provider != "fake":
        raise AppError("ERR_NOT_A_FAKE_CONNECTION", 400)
    return conn


def _inbound_args() -> tuple[dict[str, Any], Media | None]:
    """The inbound payload from JSON or multipart form fields, plus the optional file."""
    upload = None
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raw: Any = request.form.to_dict()
        upload = request.files.get("media")
    else:
        raw = request.get_json(silent=True)
        if not isinstance(raw, dict):
            raise AppError("ERR_VALIDATION", 400, {"_schema": ["A JSON object is expected."]})
    try:
        args = FakeInboundSchema().load(raw)
    except ValidationError as exc:
        raise AppError("ERR_VALIDATION", 400, exc.normalized_messages()) from exc
    media = None
    if upload is not None:
        data = upload.read()
        mimetype = media_service.validate(data, upload.mimetype)
        media = Media(data=data, mimetype=mimetype, filename=upload.filename or "file")
    if media is None and not args["body"].strip():
        raise AppError("ERR_VALIDATION", 400, {"body": ["Give a body or a media file."]})
    return args, media


@blp.post("/<int:whatsapp_id>/inbound")
@admin_required
@blp.response(202, FakeAcceptedSchema)
def inject_inbound(whatsapp_id: int) -> dict[str, str]:
    """Inject an inbound message (JSON `{from, name, body, id?}` or multipart with `media`).

    `fromMe`, `isGroup`, `groupName` and `participant` are accepted too (phone echoes, groups).
    """
    conn = _fake_connection(whatsapp_id)
    args, media = _inbound_args()
    event = fake.inbound_event(
        args["from_"],
        name=args["name"],
        body=args["body"],
        provider_id=args["id"],
        from_me=args["from_me"],
        is_group=args["is_group"],
        group_name=args["group_name"],
        participant=args["participant"],
        media=media,
        raw={k: v for k, v in args.items() if k != "from_"} | {"from": args["from_"]},
        timestamp=utcnow(),
    )
    handle_inbound(conn.company_id, conn.id, event)
    dbmod.commit()
    return {"id": event.provider_id}


@blp.post("/<int:whatsapp_id>/status")
@admin_required
@blp.arguments(FakeStatusSchema)
@blp.response(200, FakeAckSchema)
def inject_status(data: dict, whatsapp_id: int) -> dict[str, Any]:
    """Apply a status (sent, delivered, read, failed) to a message sent through the fake."""
    conn = _fake_connection(whatsapp_id)
    update = fake.ack_event(data["id"], data["status"])
    if apply_ack(conn.company_id, conn.id, update) is None:
        raise AppError("ERR_NO_MESSAGE_FOUND", 404)
    dbmod.commit()
    return {"id": update.provider_id, "ack": update.ack}


@blp.get("/<int:whatsapp_id>/outbox")
@admin_required
@blp.response(200)
def outbox(whatsapp_id: int) -> list[dict[str, Any]]:
    """What was sent through the connection, newest last."""
    conn = _fake_connection(whatsapp_id)
    return fake_whatsapp.read_outbox(conn.id)


@blp.post("/<int:whatsapp_id>/contacts")
@admin_required
@blp.arguments(FakeContactsSchema)
@blp.response(200)
def add_contacts(data: dict, whatsapp_id: int) -> dict[str, int]:
    """Save `{contacts: [{number, name?, isGroup?}]}` in the fake phone's address book."""
    conn = _fake_connection(whatsapp_id)
    entries = [
        {"number": c["number"], "name": c["name"], "isGroup": c["is_group"]}
        for c in data["contacts"]
    ]
    return {"saved": fake_whatsapp.add_contacts(conn.id, entries)}


@blp.get("/<int:whatsapp_id>/contacts")
@admin_required
@blp.response(200)
def list_contacts(whatsapp_id: int) -> list[dict[str, Any]]:
    """What the fake phone lists for "import contacts" (address book, then recipients)."""
    conn = _fake_connection(whatsapp_id)
    return [
        {"number": c.number, "name": c.name, "isGroup": c.is_group}
        for c in gateway_for(conn).list_contacts(conn)
    ]
