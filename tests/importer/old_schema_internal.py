"""The old internal chat, ticket notes, announcements and invoices tables (reference:
pgup-sistemas/Whaticket-Saas migrations create-table-Chats/ChatUsers/ChatMessages,
create-ticket-notes, create-table-Announcements, create-invoices). Helps is in
`old_schema` already."""

from __future__ import annotations

import sqlalchemy as sa

from tests.importer.old_schema import B, I, S, T, _table

#: Sequelize's FLOAT (Invoices.value).
F = sa.Float()


def build_internal(m: sa.MetaData) -> None:
    """Add Chats, ChatUsers, ChatMessages, TicketNotes, Announcements and Invoices."""
    nn = {"nullable": False}
    _table(
        m,
        "Chats",
        ("title", T),
        ("uuid", S),
        ("ownerId", I, nn),
        ("lastMessage", T),
        ("companyId", I, nn),
    )
    _table(m, "ChatUsers", ("chatId", I, nn), ("userId", I, nn), ("unreads", I))
    _table(
        m,
        "ChatMessages",
        ("chatId", I, nn),
        ("senderId", I, nn),
        ("message", T),
        ("mediaPath", T),
        ("mediaName", T),
    )
    _table(m, "TicketNotes", ("note", S, nn), ("userId", I), ("contactId", I, nn), ("ticketId", I))
    _table(
        m,
        "Announcements",
        ("priority", I),
        ("title", S, nn),
        ("text", T, nn),
        ("mediaPath", T),
        ("mediaName", T),
        ("companyId", I, nn),
        ("status", B),
    )
    _table(
        m,
        "Invoices",
        ("detail", S),
        ("status", S),
        ("value", F),
        ("dueDate", S),
        ("companyId", I),
    )
