"""Outbox jobs: send queued messages (claim, commit, call, apply, commit) and sweep the rest.

`send` runs right after the commit that queued a message (`jobs.run_after_commit`, in the
same process), or at its `send_after` time; `deliver_now` is how a view sends its own
messages and learns the provider's verdict; `recover_unsent` is the periodic sweep for
messages whose sender never ran or died mid-send. No transaction is open while a provider
answers: each step commits before the next.
"""

from __future__ import annotations

from datetime import timedelta

from flask import g, has_app_context

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message
from whaticket.services.messages import dispatch
from whaticket.services.messages.outbound import SendFailedError

#: A queued message nobody took for this long lost its job (a crash after the commit).
UNSENT_AFTER = timedelta(seconds=30)


def send(message_id: int) -> dispatch.SendOutcome | None:
    """Send one queued message; its outcome, or None when there was nothing to send."""
    order = dispatch.claim(message_id)
    dbmod.commit()  # the claim is ours, and no transaction stays open during the call
    if order is None:
        return None
    outcome = order if isinstance(order, dispatch.SendOutcome) else dispatch.call(order)
    dispatch.apply(outcome)
    dbmod.commit()
    if has_app_context():
        # The request (or job) that queued it may want the provider's verdict.
        g.setdefault("outbox_outcomes", {})[message_id] = outcome
    return outcome


def deliver_now(messages: list[Message]) -> list[Message]:
    """A view's own messages, sent now (after the view committed them), reloaded.

    Every message is tried; when one failed, the failure is committed on its row and
    SendFailedError (502, or 503 when retrying may help) carries the provider's reason.
    """
    ids = [message.id for message in messages]
    failure = None
    for message_id in ids:
        outcome = send(message_id)
        if outcome is not None and outcome.error is not None and failure is None:
            failure = outcome.error
    if failure is not None:
        raise SendFailedError(failure) from failure
    sent = [db.session.get(Message, message_id) for message_id in ids]
    return [message for message in sent if message is not None]


def raise_if_failed(messages: list[Message]) -> list[Message]:
    """After the commit that sent `messages` (queued with autosend): reloaded, or
    SendFailedError when the provider refused one (its failure is already stored)."""
    outcomes = g.get("outbox_outcomes", {}) if has_app_context() else {}
    for message in messages:
        outcome = outcomes.get(message.id)
        if outcome is not None and outcome.error is not None:
            raise SendFailedError(outcome.error) from outcome.error
    reloaded = [db.session.get(Message, message.id) for message in messages]
    return [message for message in reloaded if message is not None]


def recover_unsent() -> int:
    """Periodic: send what no sender took, settle claims whose sender died; how many."""
    now = utcnow()
    unsent = dispatch.unsent(now, UNSENT_AFTER)
    stale = dispatch.stale_claims(now)
    dbmod.commit()
    for message_id in unsent:
        send(message_id)
    for message_id in stale:
        order = dispatch.snapshot(message_id)
        dbmod.commit()
        if order is None:
            continue
        if isinstance(order, dispatch.SendOutcome):
            outcome: dispatch.SendOutcome | None = order
        else:
            outcome = dispatch.settle(message_id, dispatch.find(order))
        if outcome is not None:
            dispatch.apply(outcome)
        dbmod.commit()
    return len(unsent) + len(stale)
