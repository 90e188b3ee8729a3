"""Connect every listener of the domain event bus (`whaticket.bus`), once per process.

Listeners subscribe when their module is imported; the core never imports them, so this
module imports them all for every entry point (web, worker, CLI): `create_app` calls
`connect()`. The order of delivery is the listeners' `order`, not this list's.
"""

from __future__ import annotations

import importlib

#: Modules holding bus listeners.
LISTENER_MODULES = (
    "whaticket.services.reports.events",  # reporting: every lifecycle and message event
    "whaticket.services.campaigns.replies",  # campaign replies and confirmations (offer 10)
    "whaticket.services.tickets.ratings",  # rating replies (offer 20)
    "whaticket.services.bots.chatbot",  # the bot: menu, integrations, AI (offer 30)
    "whaticket.services.tickets.lifecycle",  # a deleted user's open tickets go back to pending
    "whaticket.services.tickets.assignment_triggers",  # automatic queues get assignment turns
    "whaticket.services.team.quick_messages",  # a deleted user's reply files go too
    "whaticket.services.inbound.acks",  # receipts that came before their message apply to it
    "whaticket.services.integrations.webhooks_listener",  # company webhooks: the outbox
    "whaticket.services.sla.listener",  # SLA clocks: policies, due times, settling
    "whaticket.ops.status_events",  # the super users' live status page
)


def connect() -> None:
    """Import every listener module (idempotent: subscriptions replace themselves)."""
    for name in LISTENER_MODULES:
        importlib.import_module(name)
