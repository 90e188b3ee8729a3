"""Announcements, Helps and Invoices: the platform's notices, tutorials and billing history.

Announcements keep priority, status (an inactive one stays inactive) and their image,
copied under the publisher company's folder; one of the same publisher, title and text
already here is it. Helps are global: one of the same title and video already here (from
another source, or seeded) is it and keeps its own values.

Invoices are history: status, value, detail and due date kept (paid stays paid, open
stays open), written straight into the table, so no charge is created, no job queued and
no e-mail sent. Each covers the period of its due date, computed as our generator computes
it (the day in the company's time zone): the generator then finds the imported invoice of
the current period and does not make a second one. Two invoices of one company and
period (the old cron's race made them) are one: the first is written, the others merged,
and paid wins (a period paid in the old system is paid).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_datetime, as_int, opt_text, text, updated_at
from whaticket.models import Announcement, Company, Help, Invoice
from whaticket.services.billing.invoices import invoice_period
from whaticket.utils.office_hours import zone_of

#: Old invoice statuses (the SaaS writes "open" and "paid"; forks translate them) -> ours.
INVOICE_STATUS = {
    "open": "open",
    "aberto": "open",
    "aberta": "open",
    "pending": "open",
    "paid": "paid",
    "pago": "paid",
    "paga": "paid",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "cancelado": "cancelled",
    "cancelada": "cancelled",
}
_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_BR_DAY = re.compile(r"^\s*(\d{2})/(\d{2})/(\d{4})\s*$")


class Announcements(Step):
    """Global notices with their publisher company, priority, status and image."""

    table = "Announcements"

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        """What can change on an announcement."""
        return {
            "priority": as_int(row.get("priority"), 3),
            "title": text(row.get("title"), 255),
            "text": text(row.get("text")),
            # NULL was never shown by the old list (it asks for status true).
            "status": as_bool(row.get("status")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each, or merge it into ours of the same publisher, title and text."""
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            if company_id is None:
                ctx.skipped(self, row, "company missing (orphan)")
                continue
            values = self.values(row)
            found = db.session.scalar(
                sa.select(Announcement.id).where(
                    Announcement.company_id == company_id,
                    Announcement.title == values["title"],
                    Announcement.text == values["text"],
                )
            )
            if found is not None:
                ctx.merged(self, row, found, "announcement of the same title and text already here")
                continue
            path, name, _ = media.copy(
                ctx,
                company_id,
                row.get("companyId"),
                row.get("mediaPath"),
                "announcements",
                extra=("announcements",),
            )
            record = Announcement(
                company_id=company_id,
                media_path=path,
                media_name=(opt_text(row.get("mediaName"), 255) or name) if path else None,
                **values,
                **_stamps(row),
            )
            db.session.add(record)
            db.session.flush()
            ctx.written(self, row, record.id, media.pending(row.get("mediaPath"), path))

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Switched on or off, reprioritised, edited."""
        record = db.session.get(Announcement, mapped.new_id) if mapped.action == "written" else None
        changed = record is not None and _assign(record, self.values(row))
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of announcements imported before without them."""
        media.attach(
            ctx, self, seen, Announcement, "mediaPath", "announcements", ("announcements",)
        )


class Helps(Step):
    """Global help videos; the same title and video is the same help."""

    table = "Helps"

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        """A help's columns from an old row."""
        return {
            "title": text(row.get("title"), 255),
            "description": opt_text(row.get("description")),
            "video": opt_text(row.get("video"), 500),
            "link": opt_text(row.get("link"), 500),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each, or merge it into ours of the same title and video."""
        for row in rows:
            values = self.values(row)
            video = values["video"]
            found = db.session.scalar(
                sa.select(Help.id)
                .where(
                    Help.title == values["title"],
                    Help.video.is_(None) if video is None else Help.video == video,
                )
                .order_by(Help.id)
                .limit(1)
            )
            if found is not None:
                ctx.merged(self, row, found, "help of the same title and video already here")
                continue
            record = Help(**values, **_stamps(row))
            db.session.add(record)
            db.session.flush()
            ctx.written(self, row, record.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """An edited help (one merged into another help keeps that one's values)."""
        record = db.session.get(Help, mapped.new_id) if mapped.action == "written" else None
        changed = record is not None and _assign(record, self.values(row))
        db.session.flush()
        return changed


def _due(value: Any, company: Company) -> tuple[datetime, str] | None:
    """(due date, period) of an old dueDate (a string: an ISO time as moment writes it,
    or a bare day); None when unreadable. A bare day is that day in the company's zone."""
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and (m := _DAY.match(value) or _BR_DAY.match(value)):
        parts = [int(p) for p in m.groups()]
        try:
            day = date(*parts) if m.re is _DAY else date(parts[2], parts[1], parts[0])
        except ValueError:
            return None
    if day is not None:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone_of(company.timezone))
        return as_datetime(midnight), day.isoformat()
    due = as_datetime(value)
    return None if due is None else (due, invoice_period(company, due))


def _status(ctx: Context, row: dict[str, Any]) -> str:
    """Our status; an unknown one is open (reported)."""
    status = text(row.get("status")).strip().lower()
    if status in INVOICE_STATUS:
        return INVOICE_STATUS[status]
    ctx.report.note("Invoices", "note", row["id"], f"status {status!r} read as open")
    return "open"


def _value(raw: Any) -> Decimal:
    """The old FLOAT as money (two places)."""
    try:
        return Decimal(str(raw if raw is not None else 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


class Invoices(Step):
    """Billing history, one invoice per company and period."""

    table = "Invoices"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each, or merge it into the invoice of its company and period."""
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            company = db.session.get(Company, company_id) if company_id else None
            if company is None:
                ctx.skipped(self, row, "company missing (orphan)")
                continue
            due = _due(row.get("dueDate"), company)
            if due is None:
                ctx.skipped(self, row, "due date unreadable")
                continue
            status = _status(ctx, row)
            paid_at = updated_at(row) if status == "paid" else None
            invoice = db.session.scalar(
                sa.select(Invoice).where(Invoice.company_id == company_id, Invoice.period == due[1])
            )
            if invoice is not None:
                if status == "paid" and invoice.status != "paid":
                    invoice.status, invoice.paid_at = "paid", paid_at
                    db.session.flush()
                ctx.merged(self, row, invoice.id, "invoice of the same period already here")
                continue
            invoice = Invoice(
                company_id=company_id,
                detail=text(row.get("detail"), 255),
                status=status,
                value=_value(row.get("value")),
                due_date=due[0],
                period=due[1],
                paid_at=paid_at,
                **_stamps(row),
            )
            db.session.add(invoice)
            db.session.flush()
            ctx.written(self, row, invoice.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """A status changed in the old system since (paid here is never undone; a merged row
        only brings a payment)."""
        invoice = db.session.get(Invoice, mapped.new_id) if mapped.new_id else None
        status = _status(ctx, row)
        if invoice is None or invoice.status == "paid" or invoice.status == status:
            return False
        if mapped.action == "merged" and status != "paid":
            return False  # the invoice it was merged into has its own row to follow
        invoice.status = status
        invoice.paid_at = updated_at(row) if status == "paid" else None
        db.session.flush()
        return True
