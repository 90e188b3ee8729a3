"""Campaign endpoints (`/campaigns`): CRUD, cancel, restart, media, report, shipping rows."""

from __future__ import annotations

from flask import request

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.errors import AppError
from whaticket.schemas.base import PageArgsSchema
from whaticket.schemas.campaigns import (
    CampaignCreateSchema,
    CampaignDetailSchema,
    CampaignPageSchema,
    CampaignReportSchema,
    CampaignSchema,
    CampaignUpdateSchema,
    ShippingArgsSchema,
    ShippingPageSchema,
)
from whaticket.security import auth_required, current_company_id, require_plan_feature
from whaticket.services.campaigns import campaigns as campaign_service
from whaticket.services.campaigns import report as report_service

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns", description="Campaigns")
# The plan decides whether the company has this feature at all (403 otherwise).
blp.before_request(require_plan_feature("use_campaigns"))


@blp.get("")
@auth_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CampaignPageSchema)
def list_campaigns(args: dict) -> dict:
    """A page of the company's campaigns, by name."""
    rows, count, has_more = campaign_service.list_campaigns(
        current_company_id(), args["search_param"], args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@auth_required
@blp.response(200, CampaignSchema(many=True))
def list_all():
    """Every campaign of the caller's company."""
    return campaign_service.list_all(current_company_id())


@blp.post("")
@auth_required
@blp.arguments(CampaignCreateSchema)
@blp.response(200, CampaignSchema)
def create_campaign(data: dict):
    """Create a campaign (PROGRAMADA with a scheduledAt, else INATIVA)."""
    campaign = campaign_service.create_campaign(current_company_id(), data)
    dbmod.commit()
    return campaign


@blp.get("/<int:campaign_id>")
@auth_required
@blp.response(200, CampaignDetailSchema)
def show_campaign(campaign_id: int):
    """A campaign with its report, shipping rows and list contacts (the SaaS report page)."""
    campaign = campaign_service.get_campaign(current_company_id(), campaign_id)
    return report_service.with_detail(campaign)


@blp.get("/<int:campaign_id>/report")
@auth_required
@blp.response(200, CampaignReportSchema)
def campaign_report(campaign_id: int):
    """Planned, sent, delivered, read, replied, failed and confirmation counts."""
    campaign = campaign_service.get_campaign(current_company_id(), campaign_id)
    return report_service.report(campaign)


@blp.get("/<int:campaign_id>/shipping")
@auth_required
@blp.arguments(ShippingArgsSchema, location="query")
@blp.response(200, ShippingPageSchema)
def list_shipping(args: dict, campaign_id: int) -> dict:
    """A page of the campaign's contacts and their send state."""
    rows, count, has_more = campaign_service.list_shipping(
        current_company_id(), campaign_id, args["status"], args["page_number"]
    )
    return {"records": rows, "count": count, "has_more": has_more}


@blp.put("/<int:campaign_id>")
@auth_required
@blp.arguments(CampaignUpdateSchema)
@blp.response(200, CampaignSchema)
def update_campaign(data: dict, campaign_id: int):
    """Edit a campaign that is not running or finished."""
    campaign = campaign_service.update_campaign(current_company_id(), campaign_id, data)
    dbmod.commit()
    return campaign


@blp.delete("/<int:campaign_id>")
@auth_required
@blp.response(200)
def delete_campaign(campaign_id: int):
    """Delete a campaign that is not running."""
    campaign_service.delete_campaign(current_company_id(), campaign_id)
    dbmod.commit()
    return {"message": "Campaign deleted"}


@blp.post("/<int:campaign_id>/cancel")
@auth_required
@blp.response(204)
def cancel_campaign(campaign_id: int):
    """Stop sending; contacts not yet claimed are not sent."""
    campaign_service.cancel_campaign(current_company_id(), campaign_id)
    dbmod.commit()
    return ""


@blp.post("/<int:campaign_id>/restart")
@auth_required
@blp.response(204)
def restart_campaign(campaign_id: int):
    """Send now, resuming where it stopped (delivered contacts are never sent again)."""
    campaign_service.restart_campaign(current_company_id(), campaign_id)
    dbmod.commit()
    return ""


@blp.post("/<int:campaign_id>/media-upload")
@auth_required
@blp.response(200, CampaignSchema)
def upload_media(campaign_id: int):
    """The attachment, sent with the message as its caption (multipart `file`)."""
    upload = request.files.get("file") or next(iter(request.files.values()), None)
    if upload is None:
        raise AppError("ERR_VALIDATION", 400, {"file": ["A file is required."]})
    campaign = campaign_service.set_media(
        current_company_id(), campaign_id, upload.read(), upload.filename, upload.mimetype
    )
    dbmod.commit()
    return campaign


@blp.delete("/<int:campaign_id>/media-upload")
@auth_required
@blp.response(200, CampaignSchema)
def delete_media(campaign_id: int):
    """Remove the attachment."""
    campaign = campaign_service.clear_media(current_company_id(), campaign_id)
    dbmod.commit()
    return campaign
