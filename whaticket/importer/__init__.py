"""Moving in from a Whaticket SaaS database: `flask import-whaticket`.

Entry point: `run_import(Options)` -> `Report`. The old database is read with SQLAlchemy
Core (`source`); each old table has a `Step` (one module per table group: `companies`,
`connections`, `team`, `chatbot`, `files`, `contacts`, `tickets`, `messages`, `internal`,
`notices`, `contact_lists`, `campaigns`, `schedules`) that writes our rows in batches, each
batch committed with its `import_map` rows (`mapping`), so a run that stops leaves a
consistent state and the next one continues where it stopped; rows already imported and
unchanged since are counted, not written again. `report` counts every row's fate.
"""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.importer.campaigns import Campaigns, CampaignShipping
from whaticket.importer.chatbot import Prompts, QueueIntegrations, QueueOptions
from whaticket.importer.companies import Companies, Plans, Settings
from whaticket.importer.connections import WhatsappQueues, Whatsapps
from whaticket.importer.contact_lists import CampaignSettings, ContactListItems, ContactLists
from whaticket.importer.contacts import ContactCustomFields, Contacts
from whaticket.importer.context import Context, Options, Step
from whaticket.importer.files import Files, FilesOptions
from whaticket.importer.internal import ChatMessages, Chats, ChatUsers, TicketNotes
from whaticket.importer.messages import Messages
from whaticket.importer.notices import Announcements, Helps, Invoices
from whaticket.importer.report import Report
from whaticket.importer.schedules import Schedules
from whaticket.importer.source import Source, source_name
from whaticket.importer.team import Queues, QuickMessages, Tags, UserQueues, Users
from whaticket.importer.tickets import Tickets, TicketTags, TicketTraking, UserRatings

__all__ = ["Options", "Report", "run_import", "steps"]

#: Old tables this import does not bring over, and why (listed in every report).
NOT_IMPORTED = {
    "Baileys": "provider session state: connections are paired again",
    "BaileysChats": "provider session state",
    "Subscriptions": "not imported: billing starts on this system",
}


def steps() -> list[Step]:
    """The steps in dependency order (parents before the rows that point at them)."""
    return [
        Plans(),
        Companies(),
        Settings(),
        Queues(),
        Whatsapps(),
        WhatsappQueues(),
        Users(),
        UserQueues(),
        Tags(),
        QuickMessages(),
        QueueIntegrations(),
        Prompts(),
        QueueOptions(),
        Files(),
        FilesOptions(),
        Contacts(),
        ContactCustomFields(),
        Tickets(),
        TicketTags(),
        TicketTraking(),
        UserRatings(),
        TicketNotes(),
        Messages(),
        Chats(),
        ChatUsers(),
        ChatMessages(),
        Announcements(),
        Helps(),
        Invoices(),
        # Campaigns and schedules last: they point at lists, connections, contacts,
        # tickets, users and file lists.
        ContactLists(),
        ContactListItems(),
        CampaignSettings(),
        Campaigns(),
        CampaignShipping(),
        Schedules(),
    ]


def run_import(options: Options) -> Report:
    """Import the old database into ours; a dry run rolls everything back at the end."""
    source = Source(options.source_url)
    ctx = Context(options, source, source_name(options.source_url))
    try:
        for step in steps():
            ctx.run(step)
        for table, why in NOT_IMPORTED.items():
            if source.has(table):
                ctx.report.skip_table(table, why)
    except BaseException:
        # A batch that did not finish leaves nothing: the next run redoes it.
        dbmod.rollback()
        raise
    finally:
        source.close()
    if options.dry_run:
        dbmod.rollback()
    ctx.report.finish()
    return ctx.report
