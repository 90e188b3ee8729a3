"""A campaign's delivery report and its live `campaign` event, built from that report.

`report` counts (planned, sent, delivered, read, replied, failed...); `detail_rows` are the
lean rows the SaaS report page counts client-side; `emit` announces the campaign as
`GET /campaigns/<id>` answers it, and `emit_progress` throttles that per campaign while it
sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import bus, jobs
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping, ContactListItem, Message
from whaticket.models.message import ACK_DELIVERED, ACK_READ
from whaticket.realtime import rooms
from whaticket.realtime.emit import emit_later
from whaticket.schemas.campaigns import CampaignEventSchema
from whaticket.services.platform import ratelimit


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


def with_detail(campaign: Campaign, *, lean: bool = False) -> Campaign:
    """The campaign with its `report` and `detail` rows attached (CampaignDetailSchema;
    `lean` rows for CampaignEventSchema)."""
    campaign.report = report(campaign)  # type: ignore[attr-defined]
    campaign.detail = detail_rows(campaign, lean=lean)  # type: ignore[attr-defined]
    return campaign


@cache
def _event_schema() -> Any:
    """One schema instance: building one costs more than dumping a campaign with it."""
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
        announce_progress(campaign)
        return
    seen = ratelimit.hit(f"campaign-progress:{campaign.id}", every)
    if seen == 1:
        announce_progress(campaign)
    elif seen == 2:
        jobs.enqueue("campaigns.announce_progress", campaign.id, in_=every)


def announce_progress(campaign: Campaign) -> None:
    """The campaign's counters moved: its live event, and `bus.campaign_progress`."""
    emit(campaign, "update")
    bus.campaign_progress.publish(campaign=campaign)
