"""Public API v1 campaigns (`campaigns:write`, plan `useCampaigns`): the feed, one campaign
with its delivery counts, create, pause, resume and cancel."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.api.v1.auth import principal, token_scope
from whaticket.schemas.v1.campaigns import (
    V1CampaignCreateSchema,
    V1CampaignDetailSchema,
    V1CampaignListArgsSchema,
    V1CampaignPageSchema,
)
from whaticket.services.integrations import api_campaigns

blp = Blueprint(
    "v1_campaigns", __name__, url_prefix="/v1/campaigns", description="API v1: campaigns"
)

SCOPE, FEATURE = "campaigns:write", "use_campaigns"


def _answer(campaign: Any, status: int = 200) -> Response:
    """Serialise (with the counts), commit, answer: the jobs the change queued run after."""
    body = V1CampaignDetailSchema().dump(api_campaigns.with_report(campaign))
    dbmod.commit()
    resp = jsonify(body)
    resp.status_code = status
    return resp


@blp.get("")
@token_scope(SCOPE, FEATURE)
@blp.arguments(V1CampaignListArgsSchema, location="query")
@blp.response(200, V1CampaignPageSchema)
def list_campaigns(args: dict) -> dict:
    """The campaigns the token sees, oldest change first (a change feed: see `nextCursor`)."""
    page = api_campaigns.list_campaigns(principal(), args)
    return {"campaigns": page.rows, "has_more": page.has_more, "next_cursor": page.next_cursor}


@blp.get("/<int:campaign_id>")
@token_scope(SCOPE, FEATURE)
@blp.response(200, V1CampaignDetailSchema)
def show_campaign(campaign_id: int) -> Any:
    """One campaign with its delivery counts (planned, sent, delivered, read, failed...)."""
    return api_campaigns.with_report(api_campaigns.get_campaign(principal(), campaign_id))


@blp.post("")
@token_scope(SCOPE, FEATURE)
@blp.arguments(V1CampaignCreateSchema)
@blp.response(201, V1CampaignDetailSchema)
def create_campaign(data: dict) -> Response:
    """Create a campaign: scheduled with `scheduledAt`, else waiting for `resume`."""
    return _answer(api_campaigns.create_campaign(principal(), data), 201)


@blp.post("/<int:campaign_id>/pause")
@token_scope(SCOPE, FEATURE)
@blp.response(200, V1CampaignDetailSchema)
def pause_campaign(campaign_id: int) -> Response:
    """Pause a running campaign (sends in flight finish); `resume` carries on."""
    return _answer(api_campaigns.pause_campaign(principal(), campaign_id))


@blp.post("/<int:campaign_id>/resume")
@token_scope(SCOPE, FEATURE)
@blp.response(200, V1CampaignDetailSchema)
def resume_campaign(campaign_id: int) -> Response:
    """Send now, where it stopped (contacts already sent are never sent again)."""
    return _answer(api_campaigns.resume_campaign(principal(), campaign_id))


@blp.post("/<int:campaign_id>/cancel")
@token_scope(SCOPE, FEATURE)
@blp.response(200, V1CampaignDetailSchema)
def cancel_campaign(campaign_id: int) -> Response:
    """Stop a scheduled or running campaign (`resume` can still restart it)."""
    return _answer(api_campaigns.cancel_campaign(principal(), campaign_id))
