"""Job: the periodic `admin-status` update of the super users' status page."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.ops import status_events


def emit_admin_status() -> None:
    """Emit the status page to the super users' room (read only: the commit sends it)."""
    status_events.emit_update()
    dbmod.commit()
