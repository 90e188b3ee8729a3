"""The Whaticket SaaS schema as Sequelize leaves it after its migrations (reference:
pgup-sistemas/Whaticket-Saas, backend/src/models and backend/src/database/migrations):
PascalCase plural tables, camelCase columns, Sequelize's types (STRING = VARCHAR(255),
DATE = DATETIME, DATE(6) = DATETIME(6), JSONB = JSON on MariaDB, BOOLEAN = TINYINT(1);
on PostgreSQL DATE = TIMESTAMP WITH TIME ZONE, JSONB = JSONB, UUID = UUID, BOOLEAN =
BOOLEAN). The reference declares no ENUM column (statuses are STRING).

Built by the import tests and `bench/import.py` on SQLite, MariaDB or PostgreSQL. The unique
constraints of the latest migrations on Tickets and Contacts are left out on purpose:
the forks and older releases that lacked them are where the duplicates come from.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from tests.importer.old_schema_chatbot import build_chatbot

S = sa.String(255)
T = sa.Text()
I = sa.Integer()  # noqa: E741 - Sequelize's INTEGER
B = sa.Boolean()
# Sequelize's DATE on PostgreSQL is timestamptz: the driver hands back aware times.
D = sa.DateTime().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
D6 = (
    sa.DateTime()
    .with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    .with_variant(postgresql.TIMESTAMP(timezone=True, precision=6), "postgresql")
)
J = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")


def _table(metadata: sa.MetaData, name: str, *cols: tuple, pk: str | None = "id") -> sa.Table:
    """A table of (column, type[, options]) entries, with createdAt/updatedAt."""
    columns = []
    for entry in cols:
        col, typ, *opts = entry
        kw = opts[0] if opts else {}
        columns.append(sa.Column(col, typ, **kw))
    if pk == "id":
        columns.insert(0, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True))
    columns += [
        sa.Column("createdAt", D, nullable=False),
        sa.Column("updatedAt", D, nullable=False),
    ]
    return sa.Table(name, metadata, *columns)


def build(metadata: sa.MetaData | None = None) -> sa.MetaData:
    """The old schema's tables (the ones the import reads, and a few it reports)."""
    m = metadata or sa.MetaData()
    nn = {"nullable": False}
    _table(
        m,
        "Plans",
        ("name", S, {**nn, "unique": True}),
        ("users", I),
        ("connections", I),
        ("queues", I),
        ("value", I),
        ("useSchedules", B),
        ("useCampaigns", B),
        ("useInternalChat", B),
        ("useExternalApi", B),
        ("useKanban", B),
        ("useOpenAi", B),
        ("useIntegrations", B),
    )
    _table(
        m,
        "Companies",
        ("name", S, {**nn, "unique": True}),
        ("phone", S),
        ("email", S),
        ("status", B),
        ("schedules", J),
        ("planId", I),
        ("dueDate", D),
        ("recurrence", S),
    )
    _table(m, "Settings", ("key", S, nn), ("value", T), ("companyId", I))
    _table(
        m,
        "Queues",
        ("name", S, nn),
        ("color", S, nn),
        ("greetingMessage", T),
        ("companyId", I),
        ("schedules", J),
        ("outOfHoursMessage", T),
        ("orderQueue", I),
        ("integrationId", I),
        ("promptId", I),
        ("mediaPath", S),
        ("mediaName", S),
    )
    _table(
        m,
        "Whatsapps",
        ("session", T),
        ("qrcode", T),
        ("status", S),
        ("battery", S),
        ("plugged", B),
        ("name", S, {"unique": True}),
        ("isDefault", B),
        ("retries", I, nn),
        ("greetingMessage", T),
        ("companyId", I),
        ("complationMessage", T),
        ("outOfHoursMessage", T),
        ("ratingMessage", T),
        ("token", T),
        ("farewellMessage", T),
        ("provider", S),
        ("sendIdQueue", I),
        ("promptId", I),
        ("integrationId", I),
        ("maxUseBotQueues", I),
        ("expiresTicket", I),
        ("expiresInactiveMessage", S),
        ("timeUseBotQueues", S),
        ("transferQueueId", I),
        ("timeToTransfer", I),
    )
    _table(
        m,
        "WhatsappQueues",
        ("whatsappId", I, {"primary_key": True}),
        ("queueId", I, {"primary_key": True}),
        pk=None,
    )
    _table(
        m,
        "Users",
        ("name", S, nn),
        ("email", S, {**nn, "unique": True}),
        ("passwordHash", S, nn),
        ("tokenVersion", I, nn),
        ("profile", S, nn),
        ("companyId", I),
        ("super", B),
        ("online", B),
        ("allTicket", S),
        ("whatsappId", I),
        ("resetPassword", S),
    )
    _table(
        m,
        "UserQueues",
        ("userId", I, {"primary_key": True}),
        ("queueId", I, {"primary_key": True}),
        pk=None,
    )
    _table(m, "Tags", ("name", S), ("color", S), ("companyId", I), ("kanban", I))
    _table(
        m,
        "QuickMessages",
        ("shortcode", S, nn),
        ("message", T),
        ("companyId", I),
        ("userId", I),
        ("mediaPath", S),
        ("mediaName", S),
    )
    _table(
        m,
        "Contacts",
        ("name", S, nn),
        ("number", S, nn),
        ("profilePicUrl", S),
        ("email", S, nn),
        ("isGroup", B, nn),
        ("companyId", I),
        ("whatsappId", I),
    )
    _table(m, "ContactCustomFields", ("name", S, nn), ("value", S, nn), ("contactId", I, nn))
    _table(
        m,
        "Tickets",
        ("status", S, nn),
        ("lastMessage", T),
        ("contactId", I),
        ("userId", I),
        ("whatsappId", I),
        ("isGroup", B, nn),
        ("unreadMessages", I),
        ("queueId", I),
        ("companyId", I),
        ("uuid", UUID),
        ("chatbot", B),
        ("queueOptionId", I),
        ("amountUsedBotQueues", I),
        ("fromMe", B),
        ("useIntegration", B),
        ("integrationId", I),
        ("typebotSessionId", S),
        ("typebotStatus", B),
        ("promptId", I),
    )
    _table(
        m,
        "TicketTags",
        ("ticketId", I, {"primary_key": True}),
        ("tagId", I, {"primary_key": True}),
        pk=None,
    )
    _table(
        m,
        "TicketTraking",
        ("ticketId", I),
        ("companyId", I),
        ("whatsappId", I),
        ("userId", I),
        ("queuedAt", D),
        ("startedAt", D),
        ("finishedAt", D),
        ("ratingAt", D),
        ("rated", B),
        ("chatbotAt", D),
    )
    _table(m, "UserRatings", ("ticketId", I), ("companyId", I), ("userId", I), ("rate", I))
    messages = sa.Table(
        "Messages",
        m,
        sa.Column("id", S, primary_key=True),
        sa.Column("body", T, nullable=False),
        sa.Column("ack", I, nullable=False, default=0),
        sa.Column("read", B, nullable=False, default=False),
        sa.Column("mediaType", S),
        sa.Column("mediaUrl", S),
        sa.Column("ticketId", I, nullable=False),
        sa.Column("createdAt", D6, nullable=False),
        sa.Column("updatedAt", D6, nullable=False),
        sa.Column("fromMe", B, nullable=False, default=False),
        sa.Column("isDeleted", B, nullable=False, default=False),
        sa.Column("contactId", I),
        sa.Column("quotedMsgId", S),
        sa.Column("companyId", I),
        sa.Column("remoteJid", T),
        sa.Column("dataJson", T),
        sa.Column("participant", T),
        sa.Column("queueId", I),
        sa.Column("isEdited", B, default=False),
    )
    sa.Index("Messages_ticketId_createdAt", messages.c.ticketId, messages.c.createdAt)
    _table(m, "Helps", ("title", S), ("description", T), ("video", S), ("link", T))
    _table(m, "Baileys", ("whatsappId", I), ("contacts", T), ("chats", T))
    from tests.importer.old_schema_internal import build_internal  # (it imports this module)

    build_internal(m)
    from tests.importer.old_schema_campaigns import build_campaigns  # here: it imports this module

    build_campaigns(m)
    build_chatbot(m)
    return m
