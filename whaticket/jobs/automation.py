"""Ticket automation jobs: the auto-close and auto-transfer sweeps, each committing itself."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.tickets import automation


def auto_close_tickets() -> int:
    """Close inactive open tickets whose last message was ours; return how many."""
    closed = automation.auto_close(utcnow())
    dbmod.commit()
    return closed


def auto_transfer_tickets() -> int:
    """Move idle queue-less pending tickets to their connection's transfer queue."""
    moved = automation.auto_transfer(utcnow())
    dbmod.commit()
    return moved
