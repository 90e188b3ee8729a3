"""Schedules: messages to send at a given time, imported so ours sends each at most once.

A schedule the old system sent (sentAt, or ENVIADA) is ENVIADA here and never sent again;
one that failed there is ERRO. One still waiting with its time ahead is PENDENTE, so our
scheduler's sweep (PENDENTE and due) sends it at its time, as it sends ours. One still
waiting whose time has passed is ERRO `ERR_OVERDUE_AT_IMPORT` rather than sent late by
surprise: the old system never sent it, and an agent may schedule it again. Contact,
ticket and user follow their merges; a schedule of a missing contact is an orphan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_datetime, opt_text, text, updated_at
from whaticket.importer.team import _company
from whaticket.models import Schedule, Ticket

PENDENTE, AGENDADA, ENVIADA, ERRO = "PENDENTE", "AGENDADA", "ENVIADA", "ERRO"
OVERDUE = "ERR_OVERDUE_AT_IMPORT"


def _state(ctx: Context, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Status, sent time and error of an old schedule as of `now`."""
    status = text(row.get("status")).strip().upper()
    sent_at = as_datetime(row.get("sentAt"))
    if sent_at is not None or status == ENVIADA:
        return {"status": ENVIADA, "sent_at": sent_at or updated_at(row), "error": None}
    if status == ERRO:
        return {"status": ERRO, "sent_at": None, "error": None}
    send_at = as_datetime(row.get("sendAt"))
    if send_at is not None and send_at > now:
        # AGENDADA there (claimed, not sent) is waiting as well: ours sends it.
        return {"status": PENDENTE, "sent_at": None, "error": None}
    ctx.report.note("Schedules", "note", row["id"], "never sent and overdue: imported as ERRO")
    return {"status": ERRO, "sent_at": None, "error": OVERDUE}


def _sent_here(ours: Schedule, row: dict[str, Any]) -> str | None:
    """Why a later --media run leaves our schedule without its file: sent (or being sent)
    here, without it, while the old row was never sent."""
    sent_there = row.get("sentAt") is not None or text(row.get("status")).strip().upper() == ENVIADA
    return "sent here since" if ours.status in (AGENDADA, ENVIADA) and not sent_there else None


class Schedules(Step):
    """Scheduled messages with their contact, ticket, user, connection and attachment."""

    table = "Schedules"

    def __init__(self) -> None:
        self.now = utcnow()

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the schedules of imported contacts."""
        ticket_ids = {ctx.maps.new_id("Tickets", r.get("ticketId")) for r in rows} - {None}
        ticket_contact = dict(
            db.session.execute(
                sa.select(Ticket.id, Ticket.contact_id).where(Ticket.id.in_(ticket_ids))
            ).all()
        )
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            contact_id = ctx.maps.new_id("Contacts", row.get("contactId"))
            if contact_id is None:
                ctx.skipped(self, row, "contact missing (orphan)")
                continue
            send_at = as_datetime(row.get("sendAt"))
            if send_at is None:
                ctx.skipped(self, row, "no send time")
                continue
            ticket_id = ctx.maps.new_id("Tickets", row.get("ticketId"))
            if ticket_contact.get(ticket_id) != contact_id:
                ticket_id = None  # ours must be the contact's: the send finds or opens one
            user_id = ctx.maps.new_id("Users", row.get("userId"))
            for old, new, what in (
                ("ticketId", ticket_id, "ticket"),
                ("userId", user_id, "user"),
            ):
                if row.get(old) is not None and new is None:
                    ctx.report.note(self.table, "note", row["id"], f"{what} missing: kept without")
            path, name, error = media.copy(
                ctx, company_id, row.get("companyId"), row.get("mediaPath"), "schedules"
            )
            if error:
                ctx.report.note(self.table, "note", row["id"], "attachment not copied")
            record = Schedule(
                company_id=company_id,
                contact_id=contact_id,
                ticket_id=ticket_id,
                user_id=user_id,
                whatsapp_id=ctx.maps.new_id("Whatsapps", row.get("whatsappId")),
                body=text(row.get("body")),
                send_at=send_at,
                media_path=path,
                media_name=(opt_text(row.get("mediaName"), 255) or name) if path else None,
                **_state(ctx, row, self.now),
                **_stamps(row),
            )
            db.session.add(record)
            db.session.flush()
            ctx.written(self, row, record.id, media.pending(row.get("mediaPath"), path))

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the old changes while ours was not sent or being sent here."""
        record = db.session.get(Schedule, mapped.new_id) if mapped.new_id else None
        if record is None:
            return False
        if record.status in (AGENDADA, ENVIADA):
            ctx.report.note(self.table, "note", row["id"], "sent here since: left as it is")
            return False
        values = {"body": text(row.get("body")), **_state(ctx, row, self.now)}
        send_at = as_datetime(row.get("sendAt"))
        if send_at is not None:
            values["send_at"] = send_at
        changed = _assign(record, values)
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Attachments of schedules imported before without them, unless sent (or being
        sent) here since: what went out went without it. One the old system sent gets it:
        it went out with it."""
        media.attach(
            ctx,
            self,
            seen,
            Schedule,
            "mediaPath",
            "schedules",
            frozen=_sent_here,
        )
