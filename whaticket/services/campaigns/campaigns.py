"""Campaigns: CRUD, the status machine, start/cancel/restart, media and the delivery report.

INATIVA → PROGRAMADA (a scheduledAt) → EM_ANDAMENTO (started) → FINALIZADA (nothing left
to send); CANCELADA from PROGRAMADA or EM_ANDAMENTO. A campaign is editable only while it
is not running and not finished (the reference checked the *payload* status instead).
Sending itself is in services/campaigns/dispatch.py and jobs/campaigns.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import after_commit, utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import (
    Campaign,
    CampaignShipping,
    ContactList,
    ContactListItem,
    FileList,
    Message,
    Whatsapp,
)
from whaticket.models.campaign import VARIANTS
from whaticket.models.message import ACK_DELIVERED, ACK_READ
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit_later, emit_to_company
from whaticket.services.platform import media, ratelimit
from whaticket.utils.pagination import paginate, search_filter

EDITABLE = ("INATIVA", "PROGRAMADA", "CANCELADA")
STARTABLE = ("INATIVA", "PROGRAMADA", "CANCELADA", "EM_ANDAMENTO")
MEDIA_SUBDIR = "campaigns"
_TEXT_FIELDS = tuple(f"message{i}" for i in VARIANTS) + tuple(
    f"confirmation_message{i}" for i in VARIANTS
)


def get_campaign(company_id: int, campaign_id: int) -> Campaign:
    """A campaign of the company; another company's is 404 like a missing one."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.company_id != company_id:
        raise AppError("ERR_NO_CAMPAIGN_FOUND", 404)
    return campaign


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
    row = db.session.get(model, row_id)
    if row is None or row.company_id != company_id:
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
        from whaticket.services.campaigns.contact_lists import build_from_tag

        name = f"{campaign.name} | TAG: {data['tag_list_id']} - {utcnow().isoformat()}"
        campaign.contact_list_id = build_from_tag(company_id, data["tag_list_id"], name).id


def _check_startable(campaign: Campaign) -> None:
    """What a campaign needs before it may be scheduled or started."""
    problems: dict[str, list[str]] = {}
    if campaign.contact_list_id is None:
        problems["contactListId"] = ["A contact list is required."]
    if campaign.whatsapp_id is None:
        problems["whatsappId"] = ["A connection is required."]
    if not variants(campaign, confirmation=False):
        problems["message1"] = ["At least one message is required."]
    if campaign.confirmation and not variants(campaign, confirmation=True):
        problems["confirmationMessage1"] = ["A confirmation message is required."]
    if problems:
        raise AppError("ERR_VALIDATION", 400, problems)


def variants(campaign: Campaign, *, confirmation: bool) -> list[str]:
    """The non-empty messages 1-5 (or confirmation messages 1-5), in order."""
    prefix = "confirmation_message" if confirmation else "message"
    texts = [(getattr(campaign, f"{prefix}{i}") or "").strip() for i in VARIANTS]
    return [text for text in texts if text]


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


def start_campaign(campaign: Campaign, now: datetime) -> int:
    """Start (or resume) sending now: shipping rows for the list, dispatchers queued.

    Contacts already sent keep their row and are never sent again.
    """
    from whaticket.services.campaigns import dispatch as campaign_dispatch

    if campaign.status not in STARTABLE:
        raise AppError("ERR_CAMPAIGN_NOT_STARTABLE", 400)
    _check_startable(campaign)
    campaign.status = "EM_ANDAMENTO"
    campaign.started_at = campaign.started_at or now
    campaign.completed_at = None
    campaign.paused_reason = None
    campaign.heartbeat_at = now
    db.session.flush()
    added = campaign_dispatch.prepare(campaign)
    # Announced before the dispatchers are queued: both run after the commit, in order, and
    # an inline dispatcher's FINALIZADA must not be followed by this stale EM_ANDAMENTO.
    emit(campaign, "update")
    campaign_dispatch.enqueue_dispatchers(campaign.id)
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


def report(campaign: Campaign) -> dict[str, int]:
    """Planned, sent, delivered, read, replied, failed, pending and confirmation counts."""
    s = CampaignShipping
    counts = db.session.execute(
        sa.select(
            sa.func.count(s.id),
            sa.func.count(sa.case((s.status == "sent", 1))),
            sa.func.count(sa.case((s.status == "failed", 1))),
            sa.func.count(sa.case((s.status.in_(("pending", "claimed")), 1))),
            sa.func.count(s.replied_at),
            sa.func.count(s.confirmation_requested_at),
            sa.func.count(s.confirmed_at),
        ).where(s.campaign_id == campaign.id)
    ).one()
    acks = db.session.execute(
        sa.select(
            sa.func.count(sa.case((Message.ack >= ACK_DELIVERED, 1))),
            sa.func.count(sa.case((Message.ack >= ACK_READ, 1))),
        )
        .select_from(s)
        .join(Message, Message.id == s.message_id)
        .where(s.campaign_id == campaign.id)
    ).one()
    planned = counts[0] or _list_size(campaign)
    return {
        "planned": planned,
        "sent": counts[1],
        "delivered": acks[0],
        "read": acks[1],
        "replied": counts[4],
        "failed": counts[2],
        "pending": counts[3] if counts[0] else planned,
        "confirmationAsked": counts[5],
        "confirmed": counts[6],
    }


def _list_size(campaign: Campaign) -> int:
    """Before the start: the list's numbers that may receive it (not known invalid)."""
    if campaign.contact_list_id is None:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(ContactListItem.id)).where(
            ContactListItem.contact_list_id == campaign.contact_list_id,
            sa.or_(
                ContactListItem.is_whatsapp_valid.is_(None),
                ContactListItem.is_whatsapp_valid.is_(True),
            ),
        )
    )


#: `GET /campaigns/<id>` embeds at most this many shipping rows and list contacts.
DETAIL_ROWS_MAX = 50_000


@dataclass(frozen=True)
class DetailRows:
    """What the SaaS report page counts: the shipping rows and the audience, lean rows.

    `truncated` says a cap cut either list (then the page's client-side counts are short;
    `report` stays exact).
    """

    shipping: list[sa.Row[Any]]
    contacts: list[sa.Row[Any]]
    truncated: bool


def detail_rows(campaign: Campaign, *, lean: bool = False) -> DetailRows:
    """The campaign's shipping rows and its list's contacts, two queries of needed columns.

    The SaaS page counts them client-side, so a campaign of tens of thousands of contacts
    sends that many rows: only the columns it reads (no message texts, which can be 4 KB
    each) and at most CAMPAIGN_DETAIL_ROWS_MAX of each. `lean` rows (for live events,
    CampaignEventSchema) keep only what the page counts.
    """
    cap = int(current_app.config.get("CAMPAIGN_DETAIL_ROWS_MAX") or DETAIL_ROWS_MAX)
    s, i = CampaignShipping, ContactListItem
    if lean:
        shipping_columns: tuple[Any, ...] = (s.id, s.contact_id, s.status)
        item_columns: tuple[Any, ...] = (i.id, i.is_whatsapp_valid)
    else:
        shipping_columns = (s.id, s.contact_id, s.number, s.name, s.status, s.confirmation)
        item_columns = (i.id, i.name, i.number, i.email, i.is_whatsapp_valid)
    stamps = (s.confirmation_requested_at, s.confirmed_at, s.delivered_at)
    shipping = list(
        db.session.execute(
            sa.select(*shipping_columns, *stamps)
            .where(s.company_id == campaign.company_id, s.campaign_id == campaign.id)
            .order_by(s.id)
            .limit(cap + 1)
        )
    )
    contacts: list[sa.Row[Any]] = []
    if campaign.contact_list_id is not None:
        contacts = list(
            db.session.execute(
                sa.select(*item_columns)
                .where(
                    i.company_id == campaign.company_id,
                    i.contact_list_id == campaign.contact_list_id,
                )
                .order_by(i.id)
                .limit(cap + 1)
            )
        )
    truncated = len(shipping) > cap or len(contacts) > cap
    return DetailRows(shipping[:cap], contacts[:cap], truncated)


def list_shipping(
    company_id: int, campaign_id: int, status: str | None, page_number: int
) -> tuple[list[CampaignShipping], int, bool]:
    """A page of a campaign's per-contact rows, optionally of one status."""
    get_campaign(company_id, campaign_id)
    stmt = sa.select(CampaignShipping).where(CampaignShipping.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(CampaignShipping.status == status)
    return paginate(stmt.order_by(CampaignShipping.id), page_number)


def with_detail(campaign: Campaign, *, lean: bool = False) -> Campaign:
    """The campaign with its `report` and `detail` rows attached (CampaignDetailSchema;
    `lean` rows for CampaignEventSchema)."""
    campaign.report = report(campaign)  # type: ignore[attr-defined]
    campaign.detail = detail_rows(campaign, lean=lean)  # type: ignore[attr-defined]
    return campaign


@cache
def _event_schema() -> Any:
    """One schema instance: building one costs more than dumping a campaign with it."""
    from whaticket.schemas.campaigns import CampaignEventSchema

    return CampaignEventSchema()


def emit(campaign: Campaign, action: str) -> None:
    """`company-{cid}-campaign` {action, record} after the commit.

    The SaaS report page replaces its campaign with `record` and recounts only when it
    has `shipping`, so the record is what `GET /campaigns/<id>` answers (report,
    `shipping[]`, `contactList.contacts[]`), its array rows slimmed to what the page
    counts (CampaignEventSchema). It is built once, just before the commit, from the
    campaign row read again (a dispatcher's copy of it may be stale): a fixed number of
    queries whatever the size. Status changes and edits call this; sends go through
    `emit_progress`.
    """
    company_id, campaign_id = campaign.company_id, campaign.id

    def _frame() -> tuple[dict[str, Any], list[str]] | None:
        current = db.session.scalar(
            sa.select(Campaign)
            .where(Campaign.id == campaign_id, Campaign.company_id == company_id)
            .execution_options(populate_existing=True)
        )
        if current is None:
            return None  # deleted later in the same transaction
        record = _event_schema().dump(with_detail(current, lean=True))
        return {"action": action, "record": record}, [rooms.mainchannel(company_id)]

    emit_later(f"company-{company_id}-campaign", _frame)


#: Seconds between two progress events of one sending campaign (CAMPAIGN_PROGRESS_EVERY).
PROGRESS_EVERY = 5


def emit_progress(campaign: Campaign) -> None:
    """A send moved the campaign's counters: an `update` event, throttled per campaign.

    Every event carries every row of the campaign to every socket of the company, so a
    campaign announces its progress at most once per CAMPAIGN_PROGRESS_EVERY seconds,
    across all its dispatchers and workers (the window is counted in Redis when there is
    one): the first send of a window is announced at once, and the first one held back
    schedules a trailing event for the window's end, so the counters never stop short of
    the last send while the campaign waits (quiet hours, pacing, daily cap). 0 announces
    every send.
    """
    every = int(current_app.config.get("CAMPAIGN_PROGRESS_EVERY", PROGRESS_EVERY) or 0)
    if every <= 0:
        emit(campaign, "update")
        return
    seen = ratelimit.hit(f"campaign-progress:{campaign.id}", every)
    if seen == 1:
        emit(campaign, "update")
    elif seen == 2:
        jobs.enqueue("campaigns.announce_progress", campaign.id, in_=every)
