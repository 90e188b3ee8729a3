"""User jobs: the stale-online sweep."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.services import users as user_service


def sweep_stale_online() -> int:
    """Mark users with no activity for USER_STALE_ONLINE_SECONDS offline; return how many."""
    changed = user_service.sweep_stale_online()
    dbmod.commit()
    return changed
