"""The old campaign tables (ContactLists, ContactListItems, Campaigns, CampaignSettings,
CampaignShipping) and Schedules, as the reference's models and migrations leave them."""

from __future__ import annotations

import sqlalchemy as sa

from tests.importer.old_schema import B, D, I, S, T, _table


def build_campaigns(m: sa.MetaData) -> None:
    """Add the campaign and schedule tables to the old schema."""
    nn = {"nullable": False}
    _table(m, "ContactLists", ("name", S), ("companyId", I))
    _table(
        m,
        "ContactListItems",
        ("name", S, nn),
        ("number", S, nn),
        ("email", S, nn),
        ("isWhatsappValid", B),
        ("companyId", I),
        ("contactListId", I),
    )
    messages = [(f"message{i}", T) for i in range(1, 6)]
    confirmations = [(f"confirmationMessage{i}", T) for i in range(1, 6)]
    _table(
        m,
        "Campaigns",
        ("name", S, nn),
        *messages,
        *confirmations,
        ("status", S),
        ("confirmation", B),
        ("mediaPath", T),
        ("mediaName", T),
        ("scheduledAt", D),
        ("completedAt", D),
        ("companyId", I, nn),
        ("contactListId", I),
        ("whatsappId", I),
        ("fileListId", I),
    )
    _table(m, "CampaignSettings", ("key", S, nn), ("value", T), ("companyId", I))
    _table(
        m,
        "CampaignShipping",
        ("jobId", S),
        ("number", S, nn),
        ("message", T, nn),
        ("confirmationMessage", T),
        ("confirmation", B),
        ("contactId", I),
        ("campaignId", I, nn),
        ("confirmationRequestedAt", D),
        ("confirmedAt", D),
        ("deliveredAt", D),
    )
    _table(
        m,
        "Schedules",
        ("body", T, nn),
        ("sendAt", D),
        ("sentAt", D),
        ("contactId", I),
        ("ticketId", I),
        ("userId", I),
        ("companyId", I),
        ("status", S),
        ("mediaPath", T),
        ("mediaName", T),
    )
