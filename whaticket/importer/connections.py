"""Whatsapps and WhatsappQueues: the connections, their texts, bot limits and API token.

A Baileys session cannot move: an imported connection starts DISCONNECTED on the
deployment's default provider (WHATSAPP_DEFAULT_PROVIDER) and is paired again; its
external-API token is kept (hashed and encrypted), so integrations keep working.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.links import LinkStep
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_int, opt_text, text
from whaticket.models import Whatsapp, whatsapp_queues
from whaticket.services.connections.provider_settings import resolve_provider
from whaticket.utils.crypto import digest


class Whatsapps(Step):
    """One connection per old row; a connection of the same name in the company is it."""

    table = "Whatsapps"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """Our connection's settings from an old row (not its session)."""
        return {
            "greeting_message": opt_text(row.get("greetingMessage")),
            "complation_message": opt_text(row.get("complationMessage")),
            "rating_message": opt_text(row.get("ratingMessage")),
            "out_of_hours_message": opt_text(row.get("outOfHoursMessage")),
            "farewell_message": opt_text(row.get("farewellMessage")),
            "is_default": as_bool(row.get("isDefault")),
            "transfer_queue_id": ctx.maps.new_id("Queues", row.get("transferQueueId")),
            "time_to_transfer": as_int(row.get("timeToTransfer")),
            "max_use_bot_queues": as_int(row.get("maxUseBotQueues"), 3),
            "time_use_bot_queues": as_int(row.get("timeUseBotQueues")),
            "expires_ticket": as_int(row.get("expiresTicket")),
            "expires_inactive_message": opt_text(row.get("expiresInactiveMessage")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write or merge by (company, name)."""
        provider = resolve_provider(None)
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            if company_id is None:
                ctx.skipped(self, row, "company missing (orphan)")
                continue
            name = text(row.get("name"), 120) or f"WhatsApp {row['id']}"
            conn = db.session.scalar(
                sa.select(Whatsapp).where(Whatsapp.company_id == company_id, Whatsapp.name == name)
            )
            if conn is not None:
                ctx.merged(self, row, conn.id, "connection of the same name already here")
                continue
            conn = Whatsapp(
                company_id=company_id,
                name=name,
                provider=provider,
                status="CONNECTED" if provider == "fake" else "DISCONNECTED",
                retries=0,
                **self.values(ctx, row),
                **_stamps(row),
            )
            token = text(row.get("token"), 255).strip()
            if token:
                taken = db.session.scalar(
                    sa.select(Whatsapp.id).where(Whatsapp.token_hash == digest(token))
                )
                if taken is None:
                    conn.token = token
                else:
                    ctx.report.note(
                        self.table, "note", row["id"], "API token already used: dropped"
                    )
            db.session.add(conn)
            db.session.flush()
            ctx.written(self, row, conn.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the changed texts and limits."""
        if mapped.action != "written":
            return False
        conn = db.session.get(Whatsapp, mapped.new_id)
        changed = conn is not None and _assign(conn, self.values(ctx, row))
        db.session.flush()
        return changed


class WhatsappQueues(LinkStep):
    """The queues of each connection."""

    table = "WhatsappQueues"
    order_by = ("whatsappId", "queueId")
    company_via = ("Whatsapps", "whatsappId")
    left = ("whatsappId", "Whatsapps", "whatsapp_id")
    right = ("queueId", "Queues", "queue_id")
    target = whatsapp_queues
