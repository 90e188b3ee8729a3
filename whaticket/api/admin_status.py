"""The super users' status page: every company's connections, inbound backlog, campaigns,
newest failures, and the workers seen (live through the `admin-status` socket event)."""

from __future__ import annotations

from typing import Any

from whaticket.api.base import Blueprint
from whaticket.ops import status
from whaticket.security import super_required

blp = Blueprint(
    "admin_status", __name__, url_prefix="/admin/status", description="Status (super users)"
)


@blp.get("")
@super_required
def show_status() -> dict[str, Any]:
    """The whole page (403 ERR_NO_PERMISSION for anyone but a super user)."""
    return status.snapshot()
