"""The `admin-status` socket event that keeps the super users' status page live.

To the super users' room (`realtime.rooms.super_users`): `{action: "connection",
companyId, connection}` when a connection's session status changes (a bus listener, sent
after the commit), and `{action: "update", status}` with the whole page from the worker's
periodic sweep (`jobs/status.emit_admin_status`).
"""

from __future__ import annotations

from whaticket import bus
from whaticket.models import Whatsapp
from whaticket.ops import status
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit

EVENT = "admin-status"


@bus.connection_status_changed.subscribe
def _connection_status_changed(connection: Whatsapp, old_status: str | None) -> None:
    """A session went up or down: tell the super users, once the change commits."""
    data = {
        "action": "connection",
        "companyId": connection.company_id,
        "connection": {**status.connection_row(connection), "previousStatus": old_status},
    }
    emit(EVENT, data, rooms.super_users())


def emit_update() -> None:
    """The whole page, to every super user's socket (after the current commit)."""
    emit(EVENT, {"action": "update", "status": status.snapshot()}, rooms.super_users())
