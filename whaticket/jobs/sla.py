"""SLA jobs: the periodic sweep (warnings, breaches) and recomputing due times."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.services.sla import clocks, sweep


def sweep_due() -> int:
    """Mark the warnings and breaches that are due; one commit per episode (its row lock
    is held only while it is marked). Returns how many marks this worker made."""
    now = utcnow()
    made = 0
    for tracking_id in sweep.due_ids(now):
        made += sweep.sweep_one(tracking_id, now)
        dbmod.commit()
    dbmod.commit()
    return made


def recompute(company_id: int, policy_id: int | None = None) -> int:
    """Plan the running episodes' clocks again (a policy's targets or the office hours
    changed); safe to run twice."""
    count = clocks.recompute(company_id, policy_id)
    dbmod.commit()
    return count
