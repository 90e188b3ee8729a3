"""What the public API changes: sends (text, media, templates) in a ticket or to a number,
closing and transferring tickets, creating and updating contacts.

Each reuses the service the agents' screens use (`messages.replies`, the external API's
number check, `tickets.lifecycle.update_ticket`, `contacts.contacts`) after checking
the token's restrictions (`api_access`); messages are stored with origin "api". Sends are
queued: the view commits, then delivers them (`jobs/outbound.deliver_now`).
"""

from __future__ import annotations

from typing import Any

from whaticket.errors import AppError
from whaticket.models import Contact, Message, Ticket
from whaticket.services.connections import external_api
from whaticket.services.contacts import contacts as contact_service
from whaticket.services.integrations.api_access import (
    Principal,
    acting_user,
    check_queue,
    connection_for_send,
    visible_ticket,
)
from whaticket.services.messages import replies
from whaticket.services.tickets import lifecycle
from whaticket.services.tickets import lookup as ticket_lookup

#: Who a message sent through the public API is from (`Message.origin`).
ORIGIN = "api"


# -- sends in a ticket ------------------------------------------------------------------


def send_text(
    principal: Principal, ticket_id: int, body: str, quoted_msg_id: int | None = None
) -> list[Message]:
    """A text in a ticket the token sees, queued (the caller commits, then delivers it)."""
    ticket = visible_ticket(principal, ticket_id)
    message = replies.send_text(
        principal.company_id,
        ticket.id,
        body,
        acting_user(principal),
        quoted_msg_id=quoted_msg_id,
        origin=ORIGIN,
    )
    return [message]


def send_media(
    principal: Principal,
    ticket_id: int,
    files: list[tuple[bytes, str, str]],
    captions: list[str],
) -> list[Message]:
    """Files in a ticket the token sees: one queued message each."""
    ticket = visible_ticket(principal, ticket_id)
    return replies.send_media(
        principal.company_id, ticket.id, files, captions, acting_user(principal), origin=ORIGIN
    )


def send_template(principal: Principal, ticket_id: int, template: dict[str, Any]) -> Message:
    """An approved template in a ticket the token sees (Cloud API connections)."""
    ticket = visible_ticket(principal, ticket_id)
    return replies.send_template(
        principal.company_id, ticket.id, template, acting_user(principal), origin=ORIGIN
    )


# -- sends to a number ------------------------------------------------------------------


def prepare_number_send(
    principal: Principal, number: str, whatsapp_id: int | None
) -> tuple[int, external_api.NumberCheck]:
    """(connection id, what asks the provider whether `number` is on WhatsApp): the
    provider is asked after the caller commits (`confirm_number`)."""
    conn = connection_for_send(principal, whatsapp_id)
    return conn.id, external_api.prepare_number(conn, number)


def confirm_number(check: external_api.NumberCheck) -> str:
    """The digits the provider knows `check`'s number by (a network call: no transaction
    open); 400 ERR_NUMBER_NOT_ON_WHATSAPP when it is not on WhatsApp."""
    return external_api.confirm_number(check)


def send_to_number(
    principal: Principal,
    whatsapp_id: int,
    digits: str,
    body: str,
    files: list[tuple[bytes, str, str]],
) -> list[Message]:
    """A text, or files captioned `body`, to confirmed `digits` on the connection: its
    contact and ticket found or created (a closed ticket back to pending, as the external
    send API does), then queued as in a ticket (the caller commits, then delivers)."""
    conn = connection_for_send(principal, whatsapp_id)
    if not files and not body.strip():
        raise AppError("ERR_VALIDATION", 400, {"body": ["Missing data for required field."]})
    company_id = principal.company_id
    contact, _ = contact_service.find_or_create(company_id, digits, name=digits)
    ticket, _ = ticket_lookup.find_or_create_for_inbound(
        company_id, conn.id, contact.id, is_group=False
    )
    if ticket.status == "closed":
        # A new conversation: back to pending so a reply finds someone.
        lifecycle.reopen_as_pending(ticket)
    actor = acting_user(principal)
    if files:
        return replies.send_media(company_id, ticket.id, files, [body], actor, origin=ORIGIN)
    return [replies.send_text(company_id, ticket.id, body, actor, origin=ORIGIN)]


# -- tickets ----------------------------------------------------------------------------


def close_ticket(principal: Principal, ticket_id: int) -> Ticket:
    """Close a ticket the token sees (it stays open while a rating prompt waits)."""
    ticket = visible_ticket(principal, ticket_id)
    return lifecycle.update_ticket(
        principal.company_id, ticket.id, {"status": "closed"}, acting_user(principal)
    )


def transfer_ticket(principal: Principal, ticket_id: int, data: dict[str, Any]) -> Ticket:
    """Move a ticket the token sees to a queue and/or agent (`queue_id`, `user_id`; null
    clears). A queue-restricted token moves tickets only between its own queues."""
    ticket = visible_ticket(principal, ticket_id)
    changes = {key: data[key] for key in ("queue_id", "user_id") if key in data}
    if "queue_id" in changes:
        check_queue(principal, changes["queue_id"])
    return lifecycle.update_ticket(principal.company_id, ticket.id, changes, acting_user(principal))


# -- contacts ---------------------------------------------------------------------------


def create_contact(principal: Principal, data: dict[str, Any]) -> Contact:
    """A new contact of the company (409 ERR_DUPLICATED_CONTACT when the number exists)."""
    return contact_service.create_contact(principal.company_id, data)


def update_contact(principal: Principal, contact_id: int, data: dict[str, Any]) -> Contact:
    """Change a contact's name, number, e-mail or custom fields (absent keys stay)."""
    return contact_service.update_contact(principal.company_id, contact_id, data)
