"""AI jobs: answer one customer message with the ticket's prompt, committing itself."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.services.bots import ai as ai_reply


def answer(ticket_id: int, message_id: int) -> None:
    """Ask the model about `message_id` and send its reply (or hand the ticket over).

    The read transaction ends before the HTTP call, so no row lock or connection is held
    while the model thinks; `apply` re-checks the ticket afterwards (an agent may have
    taken it, or a newer message may be on its way to its own answer).
    """
    request = ai_reply.prepare(ticket_id, message_id)
    dbmod.commit()
    if request is None:
        return
    result = ai_reply.complete(request)
    if result is None:
        return
    ai_reply.apply(request, result)
    dbmod.commit()
