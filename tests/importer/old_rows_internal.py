"""Hand-made old rows of the internal chat, ticket notes, announcements, helps and invoices,
pointing at the companies, users, contacts and tickets of `old_rows` (one per quirk)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Chat 1's uuid (kept by the import).
CHAT_UUID = "c0ffee00-0000-4000-8000-000000000001"


def _at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A time in January 2024 (naive UTC, as Sequelize stores it)."""
    return datetime(2024, 1, day, hour, minute)


def _rows(created: datetime, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, "createdAt": created, "updatedAt": created} for row in rows]


def rows_internal() -> dict[str, list[dict[str, Any]]]:
    """Old rows per table (companies 3/4, users 10/11, contacts 100-102, tickets 200-203
    exist in `old_rows`; company 42, user 12 and ticket 204 are not imported there)."""
    chat = {"title": "Team", "lastMessage": "Bob: ok", "companyId": 3}
    return {
        "Chats": _rows(
            _at(2),
            {"id": 1, "uuid": CHAT_UUID, "ownerId": 10, **chat},
            # Its owner (Ghost) was skipped: kept without owner.
            {"id": 2, "uuid": "", "ownerId": 12, "title": "Ghost's", "companyId": 3},
            {"id": 3, "uuid": "x", "ownerId": 10, "title": "Lost", "companyId": 42},  # orphan
        ),
        "ChatUsers": _rows(
            _at(2),
            {"id": 1, "chatId": 1, "userId": 10, "unreads": 0},
            {"id": 2, "chatId": 1, "userId": 11, "unreads": 3},
            {"id": 3, "chatId": 1, "userId": 12, "unreads": 1},  # user skipped: dropped
            {"id": 4, "chatId": 3, "userId": 10, "unreads": 0},  # chat missing
            {"id": 5, "chatId": 1, "userId": 11, "unreads": 5},  # Bob twice: merged
            {"id": 6, "chatId": 2, "userId": 10, "unreads": 0},
        ),
        "ChatMessages": [
            # Stored out of id order: the import keeps the time order.
            *_rows(_at(2, 10, 5), {"id": 1, "chatId": 1, "senderId": 11, "message": "ok"}),
            *_rows(_at(2, 10, 0), {"id": 2, "chatId": 1, "senderId": 10, "message": "hi team"}),
            *_rows(_at(2, 10, 3), {"id": 3, "chatId": 1, "senderId": 12, "message": "boo"}),
            *_rows(_at(2, 10, 4), {"id": 4, "chatId": 3, "senderId": 10, "message": "lost"}),
        ],
        "TicketNotes": _rows(
            _at(6),
            # On the contact and ticket that were merged into 100 / 200's ticket.
            {"id": 1, "note": "called him", "userId": 10, "contactId": 101, "ticketId": 202},
            {"id": 2, "note": "vip", "userId": 11, "contactId": 102, "ticketId": 203},
            {"id": 3, "note": "who?", "userId": 10, "contactId": 103, "ticketId": None},
            # Its ticket was not imported: kept on the contact.
            {"id": 4, "note": "orphan ticket", "userId": 12, "contactId": 102, "ticketId": 204},
        ),
        "Announcements": _rows(
            _at(1),
            {"id": 1, "priority": 1, "title": "Maintenance", "text": "Sunday 2am"}
            | {"companyId": 3, "status": True},
            {"id": 2, "priority": 2, "title": "Old news", "text": "gone"}
            | {"companyId": 3, "status": False},
            {"id": 3, "priority": 3, "title": "Lost", "text": "x", "companyId": 42},
        ),
        "Helps": _rows(
            _at(1),
            {"id": 2, "title": "Video", "description": "the same again"},  # merged into 1
            {"id": 3, "title": "Tickets", "video": "abc123", "link": "https://help.example"},
        ),
        "Invoices": _rows(
            _at(1),
            {"id": 1, "detail": "Gold", "status": "paid", "value": 199.9}
            | {"dueDate": "2026-12-31T21:00:00-03:00", "companyId": 3},
            # The period Acme's due date (2027-01-31 00:00 UTC) is in: open, kept open.
            {"id": 2, "detail": "Gold", "status": "open", "value": 199}
            | {"dueDate": "2027-01-30T21:00:00-03:00", "companyId": 3},
            # The old cron's duplicate of invoice 1: merged (paid stays paid).
            {"id": 3, "detail": "Gold", "status": "open", "value": 199}
            | {"dueDate": "2026-12-31T21:00:00-03:00", "companyId": 3},
            # A bare day; then its duplicate, paid: paid wins.
            {"id": 4, "detail": "Gold", "status": "open", "value": 199}
            | {"dueDate": "2026-11-30", "companyId": 3},
            {"id": 5, "detail": "Gold", "status": "PAID", "value": 199}
            | {"dueDate": "2026-11-30T00:00:00-03:00", "companyId": 3},
            {"id": 6, "detail": "x", "status": "open", "value": 1}
            | {"dueDate": "2026-01-01", "companyId": 42},  # orphan
            {"id": 7, "detail": "x", "status": "open", "value": 1}
            | {"dueDate": "someday", "companyId": 3},  # unreadable due date
        ),
    }
