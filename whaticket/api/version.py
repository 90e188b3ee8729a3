"""Version endpoint: what is running, for the SPA footer and for operators after a deploy."""

from __future__ import annotations

from typing import Any

from whaticket.api.base import Blueprint
from whaticket.schemas.version import VersionSchema
from whaticket.security import PUBLIC
from whaticket.services.platform import version as version_service

blp = Blueprint("version", __name__, url_prefix="/version", description="Version")


@blp.get("")
@blp.response(200, VersionSchema)
@blp.doc(security=PUBLIC)
def show_version() -> dict[str, Any]:
    """The package version and the applied migration id (public, as the SPA reads it)."""
    return version_service.info()
