"""Campaigns: CRUD, the status machine, start/cancel/restart, media.

INATIVA → PROGRAMADA (a scheduledAt) → EM_ANDAMENTO (started) → FINALIZADA (nothing left
to send); CANCELADA from PROGRAMADA or EM_ANDAMENTO. A running campaign can be paused
(`pause_campaign`: it stays EM_ANDAMENTO with `pausedReason` MANUAL_PAUSE, which nothing
lifts but a restart) and restarted where it stopped. A campaign is editable only while it
is not running and not finished (the reference checked the *payload* status instead).
Sending itself is in `shipping`, `claims`, `dispatch` and jobs/campaigns.py; the delivery
report and the live `campaign` event in `report`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket import jobs
from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping, ContactList, FileList, Whatsapp
from whaticket.models.campaign import VARIANTS
from whaticket.realtime.emit import emit_to_company
from whaticket.services.campaigns import shipping
from whaticket.services.campaigns.list_import import build_from_tag
from whaticket.services.campaigns.report import emit
from whaticket.services.platform import media
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import find_owned, get_owned

EDITABLE = ("INATIVA", "PROGRAMADA", "CANCELADA")
#: The pause reason of a campaign paused on request (the dispatcher stops; the watchdog,
#: which lifts a pause for a connection that came back or an invoice paid, leaves it).
MANUAL_PAUSE = "PAUSED"
STARTABLE = ("INATIVA", "PROGRAMADA", "CANCELADA", "EM_ANDAMENTO")
MEDIA_SUBDIR = "campaigns"
_TEXT_FIELDS = tuple(f"message{i}" for i in VARIANTS) + tuple(
    f"confirmation_message{i}" for i in VARIANTS
)


def get_campaign(company_id: int, campaign_id: int) -> Campaign:
    """A campaign of the company; another company's is 404 like a missing one."""
    return get_owned(Campaign, campaign_id, company_id, "ERR_NO_CAMPAIGN_FOUND")


def list_campaigns(
    company_id: int, search: str, page_number: int
) -> tuple[list[Campaign], int, bool]:
    """A page of the company's campaigns, by name."""
    stmt = sa.select(Campaign).where(Campaign.company_id == company_id)
    if search:
        stmt = stmt.where(search_filter(search, Campaign.name))
    return paginate(stmt.order_by(Campaign.name, Campaign.id), page_number)


def list_all(company_id: int) -> list[Campaign]:
    """Every campaign of the company (a companyId in the query never widens it)."""
    return list(
        db.session.scalars(
            sa.select(Campaign).where(Campaign.company_id == company_id).order_by(Campaign.name)
        )
    )


def _company_row(company_id: int, model: Any, row_id: int | None, field: str) -> None:
    """A referenced row must belong to the company (400 on that field otherwise)."""
    if row_id is None:
        return
    if find_owned(model, row_id, company_id) is None:
        raise AppError("ERR_VALIDATION", 400, {field: ["Unknown id."]})


def _apply(company_id: int, campaign: Campaign, data: dict[str, Any]) -> None:
    """Copy the payload's fields (references company-checked)."""
    _company_row(company_id, ContactList, data.get("contact_list_id"), "contactListId")
    _company_row(company_id, Whatsapp, data.get("whatsapp_id"), "whatsappId")
    _company_row(company_id, FileList, data.get("file_list_id"), "fileListId")
    for key in ("name", "confirmation", "scheduled_at", "contact_list_id", "whatsapp_id"):
        if key in data:
            setattr(campaign, key, data[key])
    if "file_list_id" in data:
        campaign.file_list_id = data["file_list_id"]
    for key in _TEXT_FIELDS:
        if key in data:
            setattr(campaign, key, data[key] or "")
    if data.get("tag_list_id"):
        name = f"{campaign.name} | TAG: {data['tag_list_id']} - {utcnow().isoformat()}"
        campaign.contact_list_id = build_from_tag(company_id, data["tag_list_id"], name).id


def _check_startable(campaign: Campaign) -> None:
    """What a campaign needs before it may be scheduled or started."""
    problems: dict[str, list[str]] = {}
    if campaign.contact_list_id is None:
        problems["contactListId"] = ["A contact list is required."]
    if campaign.whatsapp_id is None:
        problems["whatsappId"] = ["A connection is required."]
    if not shipping.variants(campaign, confirmation=False):
        problems["message1"] = ["At least one message is required."]
    if campaign.confirmation and not shipping.variants(campaign, confirmation=True):
        problems["confirmationMessage1"] = ["A confirmation message is required."]
    if problems:
        raise AppError("ERR_VALIDATION", 400, problems)


def _arm_schedule(campaign: Campaign) -> None:
    """With a scheduledAt the campaign is PROGRAMADA and a start job waits for that time."""
    if campaign.scheduled_at is None:
        return
    _check_startable(campaign)
    campaign.status = "PROGRAMADA"
    at = campaign.scheduled_at
    # The job id names the time: re-arming schedules a new job, and the old one finds
    # the campaign no longer due at its time and does nothing.
    jobs.enqueue(
        "campaigns.start_scheduled",
        campaign.id,
        at.isoformat(),
        at=at,
        job_id=f"whaticket-campaign-start-{campaign.id}-{int(at.timestamp())}",
    )


def create_campaign(company_id: int, data: dict[str, Any]) -> Campaign:
    """Create a campaign: PROGRAMADA with a scheduledAt, INATIVA otherwise."""
    campaign = Campaign(company_id=company_id, name=data["name"], status="INATIVA")
    for key in _TEXT_FIELDS:
        setattr(campaign, key, "")
    _apply(company_id, campaign, data)
    db.session.add(campaign)
    db.session.flush()
    _arm_schedule(campaign)
    db.session.flush()
    emit(campaign, "create")
    return campaign


def update_campaign(company_id: int, campaign_id: int, data: dict[str, Any]) -> Campaign:
    """Edit a campaign that is not running or finished; a scheduledAt (re)arms it."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status not in EDITABLE:
        raise AppError("ERR_CAMPAIGN_NOT_EDITABLE", 400)
    _apply(company_id, campaign, data)
    if "scheduled_at" in data:
        if campaign.scheduled_at is None:
            campaign.status = "INATIVA"
        else:
            _arm_schedule(campaign)
    db.session.flush()
    emit(campaign, "update")
    return campaign


def delete_campaign(company_id: int, campaign_id: int) -> None:
    """Delete a campaign that is not running (its shipping rows go with it)."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status == "EM_ANDAMENTO":
        raise AppError("ERR_CAMPAIGN_RUNNING", 400)
    path = campaign.media_path
    db.session.delete(campaign)
    db.session.flush()
    if path:
        after_commit(lambda: media.delete(company_id, path))
    emit_to_company(company_id, "campaign", {"action": "delete", "id": campaign_id})


def cancel_campaign(company_id: int, campaign_id: int) -> Campaign:
    """Stop a scheduled or running campaign: no further contact is claimed."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status not in ("PROGRAMADA", "EM_ANDAMENTO"):
        raise AppError("ERR_CAMPAIGN_NOT_RUNNING", 400)
    campaign.status = "CANCELADA"
    db.session.flush()
    emit(campaign, "update")
    return campaign


def pause_campaign(company_id: int, campaign_id: int) -> Campaign:
    """Pause a running campaign: no further contact is claimed until it is restarted
    (sends in flight finish). 400 ERR_CAMPAIGN_NOT_RUNNING unless it is running."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status != "EM_ANDAMENTO":
        raise AppError("ERR_CAMPAIGN_NOT_RUNNING", 400)
    if campaign.paused_reason != MANUAL_PAUSE:
        campaign.paused_reason = MANUAL_PAUSE
        db.session.flush()
        emit(campaign, "update")
    return campaign


def start_campaign(campaign: Campaign, now: datetime) -> int:
    """Start (or resume) sending now: shipping rows for the list, dispatchers queued.

    Contacts already sent keep their row and are never sent again.
    """
    if campaign.status not in STARTABLE:
        raise AppError("ERR_CAMPAIGN_NOT_STARTABLE", 400)
    _check_startable(campaign)
    campaign.status = "EM_ANDAMENTO"
    campaign.started_at = campaign.started_at or now
    campaign.completed_at = None
    campaign.paused_reason = None
    campaign.heartbeat_at = now
    db.session.flush()
    added = shipping.prepare(campaign)
    # Announced before the dispatchers are queued: both run after the commit, in order, and
    # an inline dispatcher's FINALIZADA must not be followed by this stale EM_ANDAMENTO.
    emit(campaign, "update")
    shipping.enqueue_dispatchers(campaign.id)
    return added


def restart_campaign(company_id: int, campaign_id: int) -> Campaign:
    """`POST /campaigns/<id>/restart`: send now, resuming where it stopped."""
    campaign = get_campaign(company_id, campaign_id)
    start_campaign(campaign, utcnow())
    return campaign


def set_media(
    company_id: int, campaign_id: int, data: bytes, filename: str | None, mimetype: str | None
) -> Campaign:
    """The campaign's attachment (sent with the message as its caption)."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status not in EDITABLE:
        raise AppError("ERR_CAMPAIGN_NOT_EDITABLE", 400)
    media.replace(campaign, company_id, data, filename, mimetype, MEDIA_SUBDIR)
    db.session.flush()
    emit(campaign, "update")
    return campaign


def clear_media(company_id: int, campaign_id: int) -> Campaign:
    """Remove the attachment (the file goes once the change commits)."""
    campaign = get_campaign(company_id, campaign_id)
    if campaign.status not in EDITABLE:
        raise AppError("ERR_CAMPAIGN_NOT_EDITABLE", 400)
    old = campaign.media_path
    campaign.media_path = campaign.media_name = None
    db.session.flush()
    if old:
        after_commit(lambda: media.delete(company_id, old))
    emit(campaign, "update")
    return campaign


def list_shipping(
    company_id: int, campaign_id: int, status: str | None, page_number: int
) -> tuple[list[CampaignShipping], int, bool]:
    """A page of a campaign's per-contact rows, optionally of one status."""
    get_campaign(company_id, campaign_id)
    stmt = sa.select(CampaignShipping).where(CampaignShipping.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(CampaignShipping.status == status)
    return paginate(stmt.order_by(CampaignShipping.id), page_number)
