"""WhatsApp connections endpoints: list, show, create, update, delete, health timeline
(status events and up/down intervals), number migration."""

from __future__ import annotations

from flask import jsonify
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.jobs import number_migration
from whaticket.models import Whatsapp
from whaticket.schemas.base import OkSchema
from whaticket.schemas.whatsapps import (
    AdminWhatsappSchema,
    ConnectionEventArgsSchema,
    ConnectionEventPageSchema,
    MigrateSchema,
    MigrationSummarySchema,
    TimelinePageSchema,
    WhatsappCreateSchema,
    WhatsappListArgsSchema,
    WhatsappSchema,
    WhatsappUpdateSchema,
)
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.connections import timeline
from whaticket.services.connections import whatsapps as whatsapp_service

blp = Blueprint("whatsapps", __name__, url_prefix="/whatsapp", description="WhatsApp connections")


def _schema(many: bool = False) -> WhatsappSchema:
    """Admins see the external-API token in full; agents masked (it sends as the company)."""
    cls = AdminWhatsappSchema if current_user.is_admin else WhatsappSchema
    return cls(many=many)


def _answer(conn: Whatsapp):
    """Serialise before the commit (no reload needed), then commit and answer."""
    body = _schema().dump(conn)
    dbmod.commit()
    return jsonify(body)


@blp.get("")
@auth_required
@blp.arguments(WhatsappListArgsSchema, location="query")
@blp.response(200, WhatsappSchema(many=True))
def list_connections(_args: dict):
    """The company's connections (any user; `session` is accepted and ignored)."""
    rows = whatsapp_service.list_connections(current_company_id())
    return jsonify(_schema(many=True).dump(rows))


@blp.get("/<int:whatsapp_id>")
@auth_required
@blp.arguments(WhatsappListArgsSchema, location="query")
@blp.response(200, WhatsappSchema)
def show_connection(_args: dict, whatsapp_id: int):
    """One connection of the company."""
    conn = whatsapp_service.get_connection(current_company_id(), whatsapp_id)
    return jsonify(_schema().dump(conn))


@blp.post("")
@admin_required
@blp.arguments(WhatsappCreateSchema)
@blp.response(200, WhatsappSchema)
def create_connection(data: dict):
    """Create a connection (admins); the company's first one becomes the default."""
    return _answer(whatsapp_service.create_connection(current_company_id(), data))


@blp.put("/<int:whatsapp_id>")
@admin_required
@blp.arguments(WhatsappUpdateSchema)
@blp.response(200, WhatsappSchema)
def update_connection(data: dict, whatsapp_id: int):
    """Update a connection (admins); masked secrets sent back keep the stored ones."""
    return _answer(whatsapp_service.update_connection(current_company_id(), whatsapp_id, data))


@blp.delete("/<int:whatsapp_id>")
@admin_required
@blp.response(200, OkSchema)
def delete_connection(whatsapp_id: int):
    """Delete a connection (admins); its tickets and messages stay, unlinked."""
    whatsapp_service.delete_connection(current_company_id(), whatsapp_id)
    dbmod.commit()
    return {"message": "Whatsapp deleted."}


@blp.get("/<int:whatsapp_id>/events")
@admin_required
@blp.arguments(ConnectionEventArgsSchema, location="query")
@blp.response(200, ConnectionEventPageSchema)
def list_events(args: dict, whatsapp_id: int):
    """The connection's health timeline, newest first, 50 per page (admins)."""
    events, count, has_more = whatsapp_service.list_events(
        current_company_id(), whatsapp_id, args["page_number"]
    )
    return {"events": events, "count": count, "has_more": has_more}


@blp.get("/<int:whatsapp_id>/timeline")
@admin_required
@blp.arguments(ConnectionEventArgsSchema, location="query")
@blp.response(200, TimelinePageSchema)
def list_intervals(args: dict, whatsapp_id: int):
    """The connection's up/down intervals, newest first, 50 per page (admins): each gap
    says what its backfill recovered, or that the provider cannot backfill."""
    intervals, count, has_more = timeline.list_intervals(
        current_company_id(), whatsapp_id, args["page_number"]
    )
    return {
        "intervals": [timeline.payload(interval) for interval in intervals],
        "count": count,
        "has_more": has_more,
    }


@blp.post("/<int:whatsapp_id>/migrate")
@admin_required
@blp.arguments(MigrateSchema)
@blp.response(200, MigrationSummarySchema)
def migrate(data: dict, whatsapp_id: int):
    """Move a banned or retired connection's tickets, contacts, campaigns and schedules to
    another of the company's (admins); the old one stays, read-only, for its history."""
    summary = number_migration.migrate(current_company_id(), whatsapp_id, data["to"])
    return {**summary, "from_": summary["from"]}
