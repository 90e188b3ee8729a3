"""Ack jobs: apply, later, an ack a provider promised for a send (the fake's automatic acks)."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.services.inbound.acks import apply_ack
from whaticket.whatsapp.base import AckUpdate


def apply_scheduled_ack(whatsapp_id: int, provider_id: str, ack: int) -> None:
    """Apply one promised ack to the message sent as `provider_id`, then commit."""
    conn = db.session.get(Whatsapp, whatsapp_id)
    if conn is None:  # the connection was deleted meanwhile: nothing to update
        return
    # Promised after the send's answer was stored: an unknown id means the message was
    # deleted since, so there is nothing to keep the receipt for.
    update = AckUpdate(provider_id=provider_id, ack=ack)
    apply_ack(conn.company_id, conn.id, update, keep_early=False)
    dbmod.commit()
