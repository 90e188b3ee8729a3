"""Messages: order, acks, quotes, media and the provider's message id kept.

The old Messages table is keyed by the provider's message id: it becomes our
`provider_id`, unique per (company, connection), so a message the provider redelivers
after the switch is recognised as already stored; one that arrived through us before a
`--since` pass is merged instead of stored twice. Rows are read in (createdAt, id) order
and keep their times, so history reads in the order it happened. A quote points at our
copy of the quoted message; a quote of a message that is not there is dropped (reported).
Outbound rows get their origin from Whaticket's marker: a bot's text starts with U+200E
(that invisible character is removed: ours keep origin in a column).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _stamps
from whaticket.importer.contacts import insert_returning
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_int, opt_text, text
from whaticket.models import Message, Ticket
from whaticket.models.message import ACK_PLAYED, BODY_MAX_CHARS

#: What Whaticket puts before the text of its bots' messages.
BOT_MARK = "\u200e"


def _mutable(row: dict[str, Any]) -> dict[str, Any]:
    """What changes on a stored message: acks, read, edits, deletion."""
    return {
        "ack": min(max(as_int(row.get("ack")), 0), ACK_PLAYED),
        "read": as_bool(row.get("read")),
        "is_deleted": as_bool(row.get("isDeleted")),
        "is_edited": as_bool(row.get("isEdited")),
        **_body(row),
    }


def _body(row: dict[str, Any]) -> dict[str, Any]:
    """The text, and the origin its marker tells (outbound only)."""
    body = text(row.get("body"))
    origin = None
    if as_bool(row.get("fromMe")):
        origin = "bot" if body.startswith(BOT_MARK) else "agent"
        body = body.lstrip(BOT_MARK)
    return {"body": body[:BODY_MAX_CHARS], "origin": origin}


class Messages(Step):
    """Every message of the imported tickets."""

    table = "Messages"
    order_by = ("createdAt", "id")

    def __init__(self) -> None:
        #: Our ticket id -> (company, connection, contact).
        self.tickets: dict[int, tuple[int, int | None, int]] = {}
        #: Our message id -> old id of a quoted message not imported yet.
        self.pending_quotes: dict[int, str] = {}

    def _ticket_info(self, ticket_ids: set[int]) -> None:
        missing = ticket_ids - set(self.tickets)
        if missing:
            rows = db.session.execute(
                sa.select(
                    Ticket.id, Ticket.company_id, Ticket.whatsapp_id, Ticket.contact_id
                ).where(Ticket.id.in_(missing))
            )
            self.tickets.update({t: (c, w, k) for t, c, w, k in rows})

    def _stored(
        self, ctx: Context, rows: list[dict[str, Any]]
    ) -> dict[tuple[int, int | None, str], int]:
        """Messages of the batch already stored here, by (company, connection, provider id):
        one indexed read per connection (the unique index leads with company, connection)."""
        groups: dict[tuple[int, int | None], list[str]] = {}
        for row in rows:
            info = self.tickets.get(ctx.maps.new_id("Tickets", row.get("ticketId")) or 0)
            if info is not None:
                groups.setdefault(info[:2], []).append(str(row["id"])[:191])
        found: dict[tuple[int, int | None, str], int] = {}
        for (company_id, whatsapp_id), provider_ids in groups.items():
            same_connection = (
                Message.whatsapp_id.is_(None)
                if whatsapp_id is None
                else Message.whatsapp_id == whatsapp_id
            )
            rows_found = db.session.execute(
                sa.select(Message.provider_id, Message.id).where(
                    Message.company_id == company_id,
                    same_connection,
                    Message.provider_id.in_(provider_ids),
                )
            )
            for provider_id, message_id in rows_found:
                found[(company_id, whatsapp_id, provider_id)] = message_id
        return found

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the batch in one statement, quotes resolved, files copied."""
        self._ticket_info({ctx.maps.new_id("Tickets", r.get("ticketId")) for r in rows} - {None})
        existing = self._stored(ctx, rows)
        quoted = ctx.maps.lookup("Messages", [r.get("quotedMsgId") for r in rows])
        new: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        left: list[str | None] = []  # media.PENDING where the file was not copied
        position: dict[str, int] = {}
        in_batch: list[tuple[int, str]] = []  # (position, old quoted id)
        for row in rows:
            ticket_id = ctx.maps.new_id("Tickets", row.get("ticketId"))
            if ticket_id is None or ticket_id not in self.tickets:
                ctx.skipped(self, row, "ticket missing (orphan)")
                continue
            company_id, whatsapp_id, ticket_contact = self.tickets[ticket_id]
            provider_id = str(row["id"])[:191]
            found = existing.get((company_id, whatsapp_id, provider_id))
            if found is not None:
                ctx.merged(self, row, found, "message already stored (arrived after the switch)")
                continue
            quote_old = opt_text(row.get("quotedMsgId"))
            quote = quoted.get(quote_old) if quote_old else None
            path, name, error = media.copy(
                ctx, company_id, row.get("companyId"), row.get("mediaUrl"), "messages"
            )
            values = {
                "company_id": company_id,
                "ticket_id": ticket_id,
                "whatsapp_id": whatsapp_id,
                "contact_id": ctx.maps.new_id("Contacts", row.get("contactId")) or ticket_contact,
                "queue_id": ctx.maps.new_id("Queues", row.get("queueId")),
                "provider_id": provider_id,
                "from_me": as_bool(row.get("fromMe")),
                "media_type": text(row.get("mediaType"), 50) or "chat",
                "media_path": path,
                "media_name": name,
                "media_error": error,
                "participant": opt_text(row.get("participant"), 100),
                "data_json": opt_text(row.get("dataJson")),
                "quoted_msg_id": quote.new_id if quote is not None else None,
                **_mutable(row),
                **_stamps(row),
            }
            if quote_old and quote is None:
                in_batch.append((len(new), quote_old))
            position[provider_id] = len(new)
            new.append(values)
            new_rows.append(row)
            left.append(media.pending(row.get("mediaUrl"), path))
        if not new:
            return
        quote_of: dict[int, int] = {}
        for pos, quote_old in in_batch:
            target = position.get(quote_old[:191])
            if target is not None and target != pos:
                quote_of[pos] = target
        ids = _insert_in_layers(new, quote_of)
        for row, new_id, todo in zip(new_rows, ids, left, strict=True):
            ctx.written(self, row, new_id, todo)
        for pos, quote_old in in_batch:
            if pos not in quote_of:
                self.pending_quotes[ids[pos]] = quote_old

    def finish(self, ctx: Context) -> None:
        """Quotes of messages imported later in the run; the rest are missing: dropped."""
        if not self.pending_quotes:
            return
        found = ctx.maps.lookup("Messages", list(self.pending_quotes.values()))
        links = []
        for mid, quote_old in self.pending_quotes.items():
            mapped = found.get(quote_old)
            if mapped is not None and mapped.new_id is not None:
                links.append({"mid": mid, "qid": mapped.new_id})
            else:
                ctx.report.note(
                    self.table, "note", quote_old, "quoted message missing: quote dropped"
                )
        _link_quotes(links)
        self.pending_quotes.clear()

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of messages imported before without them (a first run without --media)."""
        media.attach(ctx, self, seen, Message, "mediaUrl", "messages")

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """A changed old message (ack, read, edit, deletion) updates ours."""
        if mapped.action != "written" or mapped.new_id is None:
            return False
        message = db.session.get(Message, mapped.new_id)
        if message is None:
            return False
        changed = False
        for key, value in _mutable(row).items():
            if getattr(message, key) != value:
                setattr(message, key, value)
                changed = True
        db.session.flush()
        return changed


def _insert_in_layers(new: list[dict[str, Any]], quote_of: dict[int, int]) -> list[int]:
    """Insert a batch whose rows may quote each other (`quote_of`: position -> position):
    the quoted rows first, then the rows quoting them with the new ids, so no row is
    updated afterwards. Real quotes point back in time: two layers at most, as a rule."""
    ids: list[int | None] = [None] * len(new)
    remaining = list(range(len(new)))
    while remaining:
        layer = [p for p in remaining if p not in quote_of or ids[quote_of[p]] is not None]
        if not layer:  # rows quoting each other in a circle: their quotes are dropped
            layer = remaining
        for p in layer:
            target = quote_of.get(p)
            if target is not None and ids[target] is not None:
                new[p]["quoted_msg_id"] = ids[target]
        for p, new_id in zip(
            layer, insert_returning(Message.__table__, [new[p] for p in layer]), strict=True
        ):
            ids[p] = new_id
        remaining = [p for p in remaining if ids[p] is None]
    return [int(i) for i in ids if i is not None]


def _link_quotes(links: list[dict[str, int]]) -> None:
    """Point messages at their quoted message (one executemany)."""
    if links:
        t = Message.__table__
        db.session.execute(
            sa.update(t)
            .where(t.c.id == sa.bindparam("mid"))
            .values(quoted_msg_id=sa.bindparam("qid")),
            links,
        )
