"""Campaign replies: a contact's answer is noted, and confirms a pending confirmation request.

Listens to `bus.inbound_message` first (order 10): a message that confirmed a campaign is
consumed (its main message follows), so the rating and the bot keep quiet for it.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket import bus, jobs
from whaticket.extensions import db
from whaticket.models import CampaignShipping


@bus.inbound_message.subscribe(order=10)
def _on_inbound(ticket: Any, message: Any, now: datetime, is_group: bool) -> bool:
    """A customer message may be a campaign reply or confirmation (offered first)."""
    return not is_group and on_reply(ticket.company_id, ticket.contact.number, now)


def on_reply(company_id: int, number: str, now: datetime) -> bool:
    """A contact wrote: note the reply, and confirm a pending confirmation request.

    Returns True when the message confirmed a campaign (the main message then follows, so
    the chatbot keeps quiet for this one).
    """
    rows = list(
        db.session.scalars(
            sa.select(CampaignShipping).where(
                CampaignShipping.company_id == company_id,
                CampaignShipping.number == number,
                CampaignShipping.status.in_(("asked", "sent")),
                CampaignShipping.replied_at.is_(None),
            )
        )
    )
    confirmed = False
    for shipping in rows:
        if shipping.status == "asked":
            if shipping.confirmation is None:
                # Any answer confirms; the main message follows shortly (a reply to it is
                # what counts as "replied").
                shipping.confirmation = True
                shipping.confirmed_at = now
                confirmed = True
                jobs.enqueue("campaigns.send_confirmed", shipping.id, in_=random.uniform(0, 10))
        else:
            shipping.replied_at = now
    db.session.flush()
    return confirmed
