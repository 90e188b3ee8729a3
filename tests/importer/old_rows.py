"""Hand-made rows of an old Whaticket database, one or more per quirk the import handles."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.importer import old_schema
from tests.importer.old_rows_campaigns import PROMO, rows_campaigns
from tests.importer.old_rows_chatbot import rows_chatbot
from tests.importer.old_rows_internal import rows_internal

#: bcrypt of "old-secret" with the $2a$ prefix bcryptjs (the Node original) writes.
OLD_HASH = "$2a$04$6LNUTxiEb2vz8cAX/mbCEedYFkYObS4Cao8r3vM6vFhApSZGTOYji"
OLD_PASSWORD = "old-secret"
#: The bytes of the media file an old message points at (an OGG voice note's header).
AUDIO = b"OggS\x00\x02" + b"\x00" * 58


def t(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A time in January 2024 (naive UTC, as Sequelize stores it)."""
    return datetime(2024, 1, day, hour, minute)


def _stamp(row: dict[str, Any], created: datetime, updated: datetime | None = None) -> dict:
    return {**row, "createdAt": created, "updatedAt": updated or created}


ROWS: dict[str, list[dict[str, Any]]] = {
    "Plans": [
        _stamp(
            {
                "id": 7,
                "name": "Gold",
                "users": 5,
                "connections": 2,
                "queues": 4,
                "value": 199,
                "useSchedules": True,
                "useCampaigns": False,
                "useInternalChat": True,
                "useExternalApi": True,
                "useKanban": False,
                "useOpenAi": False,
                "useIntegrations": True,
            },
            t(1),
        ),
    ],
    "Companies": [
        _stamp(
            {
                "id": 3,
                "name": "Acme",
                "phone": "551130000000",
                "email": "acme@example.com",
                "status": True,
                "planId": 7,
                "dueDate": datetime(2027, 1, 31),
                "recurrence": "MENSAL",
                "schedules": [
                    {
                        "weekday": "Segunda-feira",
                        "weekdayEn": "monday",
                        "startTime": "08:00",
                        "endTime": "18:00",
                    }
                ],
            },
            t(1),
        ),
        # Its plan is gone: kept without plan.
        _stamp({"id": 4, "name": "Beta", "status": False, "planId": 99}, t(1)),
    ],
    "Settings": [
        _stamp({"id": 1, "key": "userRating", "value": "enabled", "companyId": 3}, t(1)),
        _stamp({"id": 2, "key": "scheduleType", "value": "queue", "companyId": 3}, t(1)),
        _stamp({"id": 3, "key": "userRating", "value": "x", "companyId": 42}, t(1)),  # orphan
    ],
    "Queues": [
        _stamp(
            {
                "id": 5,
                "name": "Sales",
                "color": "#FF0000",
                "greetingMessage": "Hi from sales",
                "companyId": 3,
                "orderQueue": 1,
                "schedules": [],
            },
            t(1),
        ),
    ],
    "Whatsapps": [
        _stamp(
            {
                "id": 2,
                "name": "Main",
                "status": "CONNECTED",
                "session": "{...}",
                "isDefault": True,
                "retries": 0,
                "companyId": 3,
                "token": "tok-abc",
                "greetingMessage": "Welcome",
                "provider": "beta",
                "maxUseBotQueues": 4,
                "timeUseBotQueues": "30",
                "expiresTicket": 0,
                "transferQueueId": 5,
                "timeToTransfer": 10,
            },
            t(1),
        ),
    ],
    "WhatsappQueues": [
        _stamp({"whatsappId": 2, "queueId": 5}, t(1)),
        _stamp({"whatsappId": 2, "queueId": 77}, t(1)),  # orphan: no queue 77
    ],
    "Users": [
        _stamp(
            {
                "id": 10,
                "name": "Alice",
                "email": "Alice@Acme.com",
                "passwordHash": OLD_HASH,
                "tokenVersion": 2,
                "profile": "admin",
                "companyId": 3,
                "super": False,
                "online": True,
                "allTicket": "enabled",
                "whatsappId": 2,
            },
            t(1),
        ),
        _stamp(
            {
                "id": 11,
                "name": "Bob",
                "email": "bob@acme.com",
                "passwordHash": OLD_HASH,
                "tokenVersion": 0,
                "profile": "user",
                "companyId": 3,
            },
            t(1),
        ),
        _stamp(
            {
                "id": 12,
                "name": "Ghost",
                "email": "ghost@gone.com",
                "passwordHash": OLD_HASH,
                "tokenVersion": 0,
                "profile": "user",
                "companyId": 42,
            },
            t(1),
        ),  # orphan
    ],
    "UserQueues": [_stamp({"userId": 10, "queueId": 5}, t(1))],
    "Tags": [
        _stamp({"id": 1, "name": "VIP", "color": "#00FF00", "companyId": 3, "kanban": 1}, t(1))
    ],
    "QuickMessages": [
        _stamp(
            {"id": 1, "shortcode": "oi", "message": "Olá!", "companyId": 3, "userId": None}, t(1)
        ),
    ],
    "Contacts": [
        _stamp(
            {
                "id": 100,
                "name": "João",
                "number": "5511987654321",
                "email": "",
                "isGroup": False,
                "companyId": 3,
                "whatsappId": 2,
            },
            t(2),
        ),
        # The same person without the ninth digit: merged into 100.
        _stamp(
            {
                "id": 101,
                "name": "Joao (old)",
                "number": "551187654321",
                "email": "",
                "isGroup": False,
                "companyId": 3,
            },
            t(2),
        ),
        _stamp(
            {
                "id": 102,
                "name": "Maria",
                "number": "5521998765432",
                "email": "m@x.com",
                "isGroup": False,
                "companyId": 3,
            },
            t(2),
        ),
        _stamp(
            {
                "id": 103,
                "name": "Nobody",
                "number": "5531988887777",
                "email": "",
                "isGroup": False,
                "companyId": 42,
            },
            t(2),
        ),  # orphan
        _stamp(
            {
                "id": 104,
                "name": "Team group",
                "number": "120363040000000000",
                "email": "",
                "isGroup": True,
                "companyId": 3,
            },
            t(2),
        ),
        _stamp(
            {
                "id": 105,
                "name": "Blank",
                "number": "",
                "email": "",
                "isGroup": False,
                "companyId": 3,
            },
            t(2),
        ),  # no number
    ],
    "ContactCustomFields": [
        _stamp({"id": 1, "name": "cpf", "value": "123", "contactId": 101}, t(2)),
        _stamp({"id": 2, "name": "x", "value": "y", "contactId": 999}, t(2)),  # orphan
    ],
    "Tickets": [
        _stamp(
            {
                "id": 200,
                "status": "closed",
                "lastMessage": "bye",
                "contactId": 100,
                "whatsappId": 2,
                "isGroup": False,
                "unreadMessages": 0,
                "companyId": 3,
                "uuid": "0b7f6c3e-1111-4c1b-9a55-000000000200",
            },
            t(3),
            t(3, 18),
        ),
        # Same person (merged contact), same connection: the latest, so its state wins.
        _stamp(
            {
                "id": 201,
                "status": "open",
                "lastMessage": "need help",
                "contactId": 101,
                "userId": 10,
                "queueId": 5,
                "whatsappId": 2,
                "isGroup": False,
                "unreadMessages": 2,
                "companyId": 3,
                "fromMe": False,
                "uuid": "0b7f6c3e-1111-4c1b-9a55-000000000201",
            },
            t(5),
            t(6),
        ),
        # A second open ticket of the same contact and connection (older): merged.
        _stamp(
            {
                "id": 202,
                "status": "pending",
                "lastMessage": "hello?",
                "contactId": 100,
                "whatsappId": 2,
                "isGroup": False,
                "unreadMessages": 1,
                "companyId": 3,
                "uuid": "0b7f6c3e-1111-4c1b-9a55-000000000202",
            },
            t(4),
            t(4, 13),
        ),
        _stamp(
            {
                "id": 203,
                "status": "pending",
                "lastMessage": "oi",
                "contactId": 102,
                "whatsappId": 2,
                "isGroup": False,
                "unreadMessages": 1,
                "companyId": 3,
                "queueId": 5,
                "uuid": "0b7f6c3e-1111-4c1b-9a55-000000000203",
            },
            t(7),
        ),
        _stamp(
            {
                "id": 204,
                "status": "open",
                "contactId": 999,
                "whatsappId": 2,
                "isGroup": False,
                "companyId": 3,
            },
            t(7),
        ),  # orphan: no contact 999
    ],
    "TicketTags": [
        _stamp({"ticketId": 201, "tagId": 1}, t(5)),
        _stamp({"ticketId": 999, "tagId": 1}, t(5)),  # orphan
    ],
    "TicketTraking": [
        _stamp(
            {
                "id": 1,
                "ticketId": 200,
                "companyId": 3,
                "whatsappId": 2,
                "userId": 10,
                "queuedAt": t(3),
                "startedAt": t(3, 13),
                "finishedAt": t(3, 18),
                "rated": True,
                "ratingAt": t(3, 18),
            },
            t(3),
        ),
        _stamp({"id": 2, "ticketId": 999, "companyId": 3}, t(3)),  # orphan
    ],
    "UserRatings": [
        _stamp({"id": 1, "ticketId": 200, "companyId": 3, "userId": 10, "rate": 5}, t(3))
    ],
    "Messages": [
        _stamp(
            {
                "id": "3EB0AAA1",
                "body": "ola tudo bem com o boleto",
                "ack": 0,
                "read": True,
                "ticketId": 200,
                "fromMe": False,
                "contactId": 100,
                "companyId": 3,
                "mediaType": "chat",
            },
            t(3, 12, 0),
        ),
        _stamp(
            {
                "id": "3EB0AAA2",
                "body": "\u200eEscolha uma opção",
                "ack": 3,
                "read": True,
                "ticketId": 200,
                "fromMe": True,
                "contactId": 100,
                "companyId": 3,
                "mediaType": "chat",
            },
            t(3, 12, 1),
        ),
        # A voice note quoting the first message, on the merged ticket.
        _stamp(
            {
                "id": "3EB0AAA3",
                "body": "audio1.ogg",
                "ack": 4,
                "read": True,
                "ticketId": 201,
                "fromMe": False,
                "contactId": 101,
                "companyId": 3,
                "mediaType": "audio",
                "mediaUrl": "audio1.ogg",
                "quotedMsgId": "3EB0AAA1",
            },
            t(5, 9, 0),
        ),
        # Quotes a message that is not there: kept, quote dropped.
        _stamp(
            {
                "id": "3EB0AAA4",
                "body": "see above",
                "ack": 2,
                "read": False,
                "ticketId": 202,
                "fromMe": True,
                "contactId": 100,
                "companyId": 3,
                "quotedMsgId": "NOT-THERE",
            },
            t(4, 13, 0),
        ),
        _stamp(
            {
                "id": "3EB0AAA5",
                "body": "lost",
                "ack": 0,
                "read": False,
                "ticketId": 999,
                "fromMe": False,
                "companyId": 3,
            },
            t(4, 14),
        ),  # orphan
        # Its file is not in the old public folder.
        _stamp(
            {
                "id": "3EB0AAA6",
                "body": "photo.jpg",
                "ack": 0,
                "read": False,
                "ticketId": 203,
                "fromMe": False,
                "contactId": 102,
                "companyId": 3,
                "mediaType": "image",
                "mediaUrl": "photo.jpg",
            },
            t(7, 10),
        ),
        # Quotes a message stored later (clock skew): linked at the end of the run.
        _stamp(
            {
                "id": "3EB0AAA7",
                "body": "reply",
                "ack": 1,
                "read": False,
                "ticketId": 203,
                "fromMe": True,
                "contactId": 102,
                "companyId": 3,
                "quotedMsgId": "3EB0AAA8",
            },
            t(7, 11),
        ),
        _stamp(
            {
                "id": "3EB0AAA8",
                "body": "question",
                "ack": 0,
                "read": True,
                "ticketId": 203,
                "fromMe": False,
                "contactId": 102,
                "companyId": 3,
            },
            t(7, 12),
        ),
    ],
    "Helps": [_stamp({"id": 1, "title": "Video", "description": "x"}, t(1))],
}
ROWS = {k: ROWS.get(k, []) + rows_chatbot().get(k, []) for k in [*ROWS, *rows_chatbot()]}


def create(url: str, **engine_kw: Any) -> sa.Engine:
    """Build the old schema at `url` and fill it with ROWS."""
    engine = sa.create_engine(url, **engine_kw)
    metadata = old_schema.build()
    metadata.create_all(engine)
    ROWS.update(rows_campaigns())  # their schedule times are relative to now: made per run
    with engine.begin() as conn:
        for name, rows in [*ROWS.items(), *rows_internal().items()]:
            for row in rows:  # one by one: rows set different columns (defaults for the rest)
                conn.execute(metadata.tables[name].insert(), row)
    return engine


def write_media(public: Path) -> Path:
    """The old backend's public folder with every file the rows name but one: a message's
    voice note and the Black Friday campaign's attachment; a message's photo.jpg is missing
    on purpose (tests add the files of the rows they change)."""
    public.mkdir(parents=True, exist_ok=True)
    (public / "audio1.ogg").write_bytes(AUDIO)
    (public / "promo.jpg").write_bytes(PROMO)
    return public
