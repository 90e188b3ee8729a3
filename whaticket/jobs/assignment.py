"""Assignment jobs: a queue's assignment turn, and the periodic sweep (re-queue of
unanswered tickets, then every automatic queue with a backlog), each turn committed alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.tickets import assignment, assignment_requeue

T = TypeVar("T")

#: MariaDB/MySQL: deadlock found, lock wait timeout. A turn that lost either is run again.
_RETRYABLE = (1213, 1205)
ATTEMPTS = 5


def _retryable(exc: sa.exc.OperationalError) -> bool:
    args = getattr(exc.orig, "args", ())
    return bool(args) and args[0] in _RETRYABLE


def _turn(step: Callable[[], T]) -> T:
    """Run `step` first in a fresh transaction and commit it; again on a deadlock."""
    for attempt in range(ATTEMPTS):
        # End any read transaction: the queue lock must be its transaction's first read.
        dbmod.commit()
        try:
            result = step()
            dbmod.commit()
            return result
        except sa.exc.OperationalError as exc:
            dbmod.rollback()
            if not _retryable(exc) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def drain(queue_id: int, reason: str = "backlog") -> int:
    """One assignment turn of the queue; how many tickets went to agents."""
    return len(_turn(lambda: assignment.offer_waiting(queue_id, reason)))


def sweep() -> dict[str, int]:
    """Re-queue unanswered assignments, then give every automatic queue's backlog a turn."""
    now = utcnow()
    outcomes: dict[str, int] = {"requeued": 0, "answered": 0, "moved": 0, "assigned": 0}
    due = assignment_requeue.overdue(now)
    for queue_id, assignment_id in due:
        outcome = _turn(
            lambda q=queue_id, a=assignment_id: assignment_requeue.requeue_unanswered(q, a, now)
        )
        if outcome is not None:
            outcomes[outcome] += 1
    dbmod.commit()
    for queue_id in assignment.backlog_queues():
        outcomes["assigned"] += drain(queue_id, "backlog")
    return outcomes
