"""Chats, ChatUsers, ChatMessages and TicketNotes: what agents say among themselves.

Chats keep their uuid (the frontend's address of a chat; a new one when it is taken),
title, owner and last message. A member whose user was not imported is dropped (reported):
ours only show a chat to its members, so it cannot stand for anyone. The same user twice
in a chat is one membership (the higher unread count kept). Chat messages are read in
(createdAt, id) order, so our ids follow the old order (the chat pages by id); a message
whose sender is gone is kept without sender. Notes follow their contact and ticket through
the map: a note on a ticket merged into another is on the surviving ticket; one whose
ticket is gone stays on the contact (ours list notes per contact too).
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.contacts import insert_returning
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_int, opt_text, text
from whaticket.models import Chat, ChatMessage, ChatUser, Contact, Ticket, TicketNote, User


def _companies(model: Any, ids: set[int | None]) -> dict[int, int]:
    """Our row id -> its company, for these ids of `model` (one query)."""
    wanted = ids - {None}
    if not wanted:
        return {}
    return dict(
        db.session.execute(sa.select(model.id, model.company_id).where(model.id.in_(wanted))).all()
    )


def _new_ids(ctx: Context, table: str, rows: list[dict[str, Any]], column: str) -> set[int | None]:
    """Our ids of the old parents these rows name in `column`."""
    return {ctx.maps.new_id(table, r.get(column)) for r in rows}


class Chats(Step):
    """Internal chats of a company; a chat of the same uuid in the company is it."""

    table = "Chats"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """What can change on a chat: title, owner, last message."""
        return {
            "title": text(row.get("title"), 255),
            "owner_id": ctx.maps.new_id("Users", row.get("ownerId")),
            "last_message": opt_text(row.get("lastMessage")),
        }

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each chat, or merge it into ours of the same uuid in the same company."""
        wanted = [text(r.get("uuid"), 36) for r in rows if r.get("uuid")]
        taken = dict(
            db.session.execute(
                sa.select(Chat.uuid, Chat.company_id).where(Chat.uuid.in_(wanted))
            ).all()
        )
        for row in rows:
            company_id = ctx.maps.new_id("Companies", row.get("companyId"))
            if company_id is None:
                ctx.skipped(self, row, "company missing (orphan)")
                continue
            uuid = text(row.get("uuid"), 36)
            if uuid and taken.get(uuid) == company_id:
                chat_id = db.session.scalar(sa.select(Chat.id).where(Chat.uuid == uuid))
                ctx.merged(self, row, chat_id, "chat of the same uuid already here")
                continue
            values = self.values(ctx, row)
            if row.get("ownerId") is not None and values["owner_id"] is None:
                ctx.report.note(self.table, "note", row["id"], "owner missing: kept without")
            if not uuid or uuid in taken:
                uuid = str(uuidlib.uuid4())
            chat = Chat(company_id=company_id, uuid=uuid, **values, **_stamps(row))
            db.session.add(chat)
            db.session.flush()
            taken[uuid] = company_id
            ctx.written(self, row, chat.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """A renamed chat, a new last message."""
        chat = db.session.get(Chat, mapped.new_id) if mapped.action == "written" else None
        changed = chat is not None and _assign(chat, self.values(ctx, row))
        db.session.flush()
        return changed


class ChatUsers(Step):
    """Memberships with their unread counters."""

    table = "ChatUsers"
    company_via = ("Chats", "chatId")

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each membership of an imported chat and user of its company."""
        chats = _companies(Chat, _new_ids(ctx, "Chats", rows, "chatId"))
        users = _companies(User, _new_ids(ctx, "Users", rows, "userId"))
        for row in rows:
            chat_id = ctx.maps.new_id("Chats", row.get("chatId"))
            user_id = ctx.maps.new_id("Users", row.get("userId"))
            if chat_id not in chats:
                ctx.skipped(self, row, "chat missing (orphan)")
                continue
            if user_id not in users:
                ctx.skipped(self, row, "user not imported: member dropped")
                continue
            if users[user_id] != chats[chat_id]:
                ctx.skipped(self, row, "user of another company: member dropped")
                continue
            unreads = max(0, as_int(row.get("unreads")))
            member = db.session.scalar(
                sa.select(ChatUser).where(ChatUser.chat_id == chat_id, ChatUser.user_id == user_id)
            )
            if member is not None:
                # Unread stays unread: the higher counter is the one the user has not seen.
                member.unreads = max(member.unreads, unreads)
                db.session.flush()
                ctx.merged(self, row, member.id, "same user twice in the chat")
                continue
            member = ChatUser(chat_id=chat_id, user_id=user_id, unreads=unreads, **_stamps(row))
            db.session.add(member)
            db.session.flush()
            ctx.written(self, row, member.id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """The unread counter as the old system has it now."""
        member = db.session.get(ChatUser, mapped.new_id) if mapped.action == "written" else None
        changed = member is not None and _assign(
            member, {"unreads": max(0, as_int(row.get("unreads")))}
        )
        db.session.flush()
        return changed


class ChatMessages(Step):
    """Messages of the imported chats, in the old order, with their files."""

    table = "ChatMessages"
    order_by = ("createdAt", "id")
    company_via = ("Chats", "chatId")

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the batch in one statement (ids in the old order)."""
        chats = _companies(Chat, _new_ids(ctx, "Chats", rows, "chatId"))
        new, new_rows, left = [], [], []
        for row in rows:
            chat_id = ctx.maps.new_id("Chats", row.get("chatId"))
            if chat_id not in chats:
                ctx.skipped(self, row, "chat missing (orphan)")
                continue
            company_id = chats[chat_id]
            sender_id = ctx.maps.new_id("Users", row.get("senderId"))
            if row.get("senderId") is not None and sender_id is None:
                ctx.report.note(self.table, "note", row["id"], "sender missing: kept without")
            path, name, _ = media.copy(
                ctx, company_id, None, row.get("mediaPath"), "chats", extra=("chats",)
            )
            new_rows.append(row)
            left.append(media.pending(row.get("mediaPath"), path))
            new.append(
                {
                    "company_id": company_id,
                    "chat_id": chat_id,
                    "sender_id": sender_id,
                    "message": text(row.get("message")),
                    "media_path": path,
                    "media_name": opt_text(row.get("mediaName"), 255) or name,
                    **_stamps(row),
                }
            )
        if new:
            for row, new_id, why in zip(
                new_rows, insert_returning(ChatMessage.__table__, new), left, strict=True
            ):
                ctx.written(self, row, new_id, why)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """An edited text."""
        message = db.session.get(ChatMessage, mapped.new_id) if mapped.new_id else None
        changed = message is not None and _assign(message, {"message": text(row.get("message"))})
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Files of chat messages imported before without them (no old company: chats
        keep theirs in `public/chats/`, as on insert)."""
        media.attach(
            ctx,
            self,
            seen,
            ChatMessage,
            "mediaPath",
            "chats",
            ("chats",),
            old_company=lambda row: None,
        )


class TicketNotes(Step):
    """Notes on contacts and tickets, with their authors."""

    table = "TicketNotes"
    company_via = ("Contacts", "contactId")

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each note of an imported contact (the ticket's contact when it names none)."""
        tickets = _companies(Ticket, _new_ids(ctx, "Tickets", rows, "ticketId"))
        ticket_contacts = dict(
            db.session.execute(
                sa.select(Ticket.id, Ticket.contact_id).where(Ticket.id.in_(set(tickets)))
            ).all()
        )
        contact_ids = _new_ids(ctx, "Contacts", rows, "contactId") | set(ticket_contacts.values())
        contacts = _companies(Contact, contact_ids)
        new, new_rows = [], []
        for row in rows:
            ticket_id = ctx.maps.new_id("Tickets", row.get("ticketId"))
            contact_id = ctx.maps.new_id("Contacts", row.get("contactId"))
            if row.get("contactId") is None:
                contact_id = ticket_contacts.get(ticket_id)
            if contact_id not in contacts:
                ctx.skipped(self, row, "contact missing (orphan)")
                continue
            company_id = contacts[contact_id]
            if tickets.get(ticket_id) != company_id:
                if row.get("ticketId") is not None:
                    ctx.report.note(
                        self.table, "note", row["id"], "ticket missing: kept on the contact"
                    )
                ticket_id = None
            user_id = ctx.maps.new_id("Users", row.get("userId"))
            new_rows.append(row)
            new.append(
                {
                    "company_id": company_id,
                    "contact_id": contact_id,
                    "ticket_id": ticket_id,
                    "user_id": user_id,
                    "note": text(row.get("note")),
                    **_stamps(row),
                }
            )
        if new:
            for row, new_id in zip(
                new_rows, insert_returning(TicketNote.__table__, new), strict=True
            ):
                ctx.written(self, row, new_id)

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """An edited note."""
        note = db.session.get(TicketNote, mapped.new_id) if mapped.new_id else None
        changed = note is not None and _assign(note, {"note": text(row.get("note"))})
        db.session.flush()
        return changed
