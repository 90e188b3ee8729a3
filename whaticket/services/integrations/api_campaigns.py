"""What the public API does with campaigns (`campaigns:write`): the feed, one campaign with
its delivery counts, create, pause, resume and cancel.

Each reuses the campaign services the admins' screens use (`campaigns.campaigns`,
`campaigns.report`); the plan's `useCampaigns` is checked by the view (`token_scope`). A
token limited to connections sees, creates and acts on campaigns of those connections
only (others are 404, as missing); `campaigns:write` cannot be held with queue limits
(`api_tokens.NO_QUEUE_LIMIT_SCOPES`): a campaign goes out outside any queue.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.models import Campaign
from whaticket.models.campaign import VARIANTS
from whaticket.services.campaigns import campaigns as campaign_service
from whaticket.services.campaigns import report as report_service
from whaticket.services.integrations import api_feed
from whaticket.services.integrations.api_access import Principal

NOT_FOUND = "ERR_NO_CAMPAIGN_FOUND"


def _sees(principal: Principal, campaign: Campaign) -> bool:
    return not principal.whatsapp_ids or campaign.whatsapp_id in principal.whatsapp_ids


def _cursor(args: dict[str, Any]) -> api_feed.Cursor:
    if args.get("cursor"):
        return api_feed.decode(args["cursor"])
    return api_feed.start(args.get("updated_since"))


def list_campaigns(principal: Principal, args: dict[str, Any]) -> api_feed.FeedPage:
    """The campaigns the token sees, oldest change first (`status` filters)."""
    stmt = sa.select(Campaign).where(Campaign.company_id == principal.company_id)
    if principal.whatsapp_ids:
        stmt = stmt.where(Campaign.whatsapp_id.in_(principal.whatsapp_ids))
    if args.get("status"):
        stmt = stmt.where(Campaign.status == args["status"])
    limit = int(args.get("limit") or api_feed.DEFAULT_LIMIT)
    return api_feed.page(stmt, Campaign, _cursor(args), limit)


def get_campaign(principal: Principal, campaign_id: int) -> Campaign:
    """A campaign the token sees (404 ERR_NO_CAMPAIGN_FOUND otherwise)."""
    campaign = campaign_service.get_campaign(principal.company_id, campaign_id)
    if not _sees(principal, campaign):
        raise AppError(NOT_FOUND, 404)
    return campaign


def with_report(campaign: Campaign) -> Campaign:
    """The campaign with its delivery counts attached as `report` (planned, sent...)."""
    campaign.report = report_service.report(campaign)  # type: ignore[attr-defined]
    return campaign


def create_campaign(principal: Principal, data: dict[str, Any]) -> Campaign:
    """A campaign from a contact list, 1-5 message variants and a connection: scheduled
    (PROGRAMADA) with `scheduled_at`, else INATIVA until resumed."""
    if principal.whatsapp_ids and data["whatsapp_id"] not in principal.whatsapp_ids:
        raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Unknown connection."]})
    fields: dict[str, Any] = {
        key: data[key]
        for key in ("name", "contact_list_id", "whatsapp_id", "confirmation", "scheduled_at")
        if key in data
    }
    messages = data["messages"]
    confirmations = data.get("confirmation_messages") or []
    for i in VARIANTS:
        fields[f"message{i}"] = messages[i - 1] if i <= len(messages) else ""
        fields[f"confirmation_message{i}"] = confirmations[i - 1] if i <= len(confirmations) else ""
    return campaign_service.create_campaign(principal.company_id, fields)


def pause_campaign(principal: Principal, campaign_id: int) -> Campaign:
    """Pause a running campaign the token sees (400 ERR_CAMPAIGN_NOT_RUNNING otherwise)."""
    get_campaign(principal, campaign_id)
    return campaign_service.pause_campaign(principal.company_id, campaign_id)


def resume_campaign(principal: Principal, campaign_id: int) -> Campaign:
    """Send now, where it stopped (paused, cancelled, scheduled or never started): the
    admins' restart. 400 ERR_CAMPAIGN_NOT_STARTABLE once finished."""
    get_campaign(principal, campaign_id)
    return campaign_service.restart_campaign(principal.company_id, campaign_id)


def cancel_campaign(principal: Principal, campaign_id: int) -> Campaign:
    """Stop a scheduled or running campaign (400 ERR_CAMPAIGN_NOT_RUNNING otherwise)."""
    get_campaign(principal, campaign_id)
    return campaign_service.cancel_campaign(principal.company_id, campaign_id)
