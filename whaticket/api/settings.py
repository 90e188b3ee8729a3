"""Setting endpoints: read the company's settings, admins change one key at a time."""

from __future__ import annotations

from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.settings import SettingSchema, SettingUpdateSchema
from whaticket.security import admin_required, auth_required, current_company_id
from whaticket.services.team import settings as settings_service

blp = Blueprint("settings", __name__, url_prefix="/settings", description="Company settings")


@blp.get("")
@auth_required
@blp.response(200, SettingSchema(many=True))
def list_settings():
    """Every setting of the caller's company (credentials hidden from non-admins)."""
    return settings_service.list_settings(
        current_company_id(), include_secrets=current_user.is_admin
    )


@blp.get("/<string:key>")
@admin_required
@blp.response(200, SettingSchema)
def show_setting(key: str):
    """One setting by key (admins)."""
    return settings_service.get_setting(current_company_id(), key)


@blp.put("/<string:key>")
@admin_required
@blp.arguments(SettingUpdateSchema)
@blp.response(200, SettingSchema)
def update_setting(data: dict, key: str):
    """Set one setting to an allowed value (admins); emits company-{cid}-settings."""
    setting = settings_service.update_setting(current_company_id(), key, data["value"])
    dbmod.commit()
    return setting
