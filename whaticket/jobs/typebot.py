"""Typebot jobs: feed one customer message to its flow, with no transaction open meanwhile."""

from __future__ import annotations

from datetime import datetime

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.bots import typebot, typebot_wire


def answer(ticket_id: int, message_id: int, integration_id: int, at: str | None = None) -> None:
    """prepare (read) -> commit -> talk to Typebot (HTTP) -> apply (replies) -> commit.

    `at` (ISO) is when the message arrived: the session's idle time is measured to it.
    """
    arrived = datetime.fromisoformat(at) if at else utcnow()
    exchange = typebot.prepare(ticket_id, message_id, integration_id, arrived)
    dbmod.commit()
    if exchange is None:
        return
    try:
        reply = typebot_wire.talk(exchange)
    except typebot_wire.TypebotError as exc:
        typebot.failed(exchange, exc)
        dbmod.commit()
        return
    typebot.apply(exchange, reply, max(arrived, utcnow()))
    dbmod.commit()
