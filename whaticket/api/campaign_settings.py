"""Campaign settings endpoints (`/campaign-settings`): read and upsert a company's settings."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.campaign_settings import (
    CampaignSettingSchema,
    CampaignSettingsPayloadSchema,
)
from whaticket.security import (
    admin_required,
    auth_required,
    current_company_id,
    require_plan_feature,
)
from whaticket.services.campaigns import campaign_settings as settings_service

blp = Blueprint(
    "campaign_settings",
    __name__,
    url_prefix="/campaign-settings",
    description="Campaign settings (pacing, variables, daily cap, quiet hours)",
)
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_campaigns"))

#: Wire (camelCase) key of each payload field.
_WIRE = {
    "message_interval": "messageInterval",
    "longer_interval_after": "longerIntervalAfter",
    "greater_interval": "greaterInterval",
    "variables": "variables",
    "daily_cap": "dailyCap",
    "quiet_hours": "quietHours",
}


@blp.get("")
@auth_required
@blp.response(200, CampaignSettingSchema(many=True))
def list_settings():
    """The company's `[{key, value}]` rows."""
    return settings_service.list_settings(current_company_id())


@blp.post("")
@admin_required
@blp.arguments(CampaignSettingsPayloadSchema)
@blp.response(200, CampaignSettingSchema(many=True))
def save_settings(data: dict):
    """Upsert the keys sent (admins)."""
    values = {_WIRE[key]: value for key, value in data["settings"].items()}
    rows = settings_service.save_settings(current_company_id(), values)
    dbmod.commit()
    return rows
