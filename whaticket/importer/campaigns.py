"""Campaigns and CampaignShipping: bulk sends, imported so that nothing sends by itself.

Ours start a campaign from two places: `start_due_campaigns` takes PROGRAMADA ones whose
time has come, and the watchdog revives EM_ANDAMENTO ones unless they are paused on
request (MANUAL_PAUSE). So a campaign the old system was running is imported EM_ANDAMENTO
paused on request, and a scheduled one INATIVA (its scheduledAt kept): an admin restarts
or schedules it again. The import never sets `started_at`, which is how a later pass
knows a campaign was not started here since and may still take the old changes.

A shipping row delivered in the old system is `sent` (delivered_at kept): our dispatcher
claims `pending` rows only and `prepare` adds none for a number that has a row, so a
resumed campaign never sends it again. A confirmation asked and unanswered is `asked`;
one confirmed but not delivered is `pending` with its request time, so the main message
follows. The same number twice in a campaign (ours are unique) is one row: the first,
taking the furthest state of the two.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.companies import _assign, _stamps
from whaticket.importer.contacts import canonical, insert_returning
from whaticket.importer.context import Context, Step
from whaticket.importer.mapping import Mapped
from whaticket.importer.source import as_bool, as_datetime, opt_text, text
from whaticket.importer.team import _company
from whaticket.models import Campaign, ContactListItem
from whaticket.models import CampaignShipping as Shipping
from whaticket.models.campaign import VARIANTS
from whaticket.services.campaigns.campaigns import MANUAL_PAUSE

#: How far a shipping row got; a merge or a later pass only ever moves a row forward.
_RANK = {"pending": 0, "asked": 1, "sent": 2}


def _status(ctx: Context, row: dict[str, Any]) -> tuple[str, str | None]:
    """(our status, pause reason) of an old campaign: never one our jobs would start."""
    old = text(row.get("status")).strip().upper()
    if old == "EM_ANDAMENTO":
        ctx.report.note("Campaigns", "note", row["id"], "was running: imported paused")
        return "EM_ANDAMENTO", MANUAL_PAUSE
    if old == "PROGRAMADA":
        ctx.report.note("Campaigns", "note", row["id"], "was scheduled: imported inactive")
        return "INATIVA", None
    if old in ("INATIVA", "CANCELADA", "FINALIZADA"):
        return old, None
    ctx.report.note("Campaigns", "note", row["id"], f"status {old!r} read as INATIVA")
    return "INATIVA", None


class Campaigns(Step):
    """Campaigns with their messages, list, connection and attachment."""

    table = "Campaigns"

    def values(self, ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
        """Our campaign's columns (besides company and attachment) from an old row."""
        status, paused = _status(ctx, row)
        out: dict[str, Any] = {
            "name": text(row.get("name"), 255) or f"Campaign {row['id']}",
            "status": status,
            "paused_reason": paused,
            "confirmation": as_bool(row.get("confirmation")),
            "scheduled_at": as_datetime(row.get("scheduledAt")),
            "completed_at": as_datetime(row.get("completedAt")),
            "contact_list_id": ctx.maps.new_id("ContactLists", row.get("contactListId")),
            "whatsapp_id": ctx.maps.new_id("Whatsapps", row.get("whatsappId")),
            # File lists come with their own step when there is one; else none.
            "file_list_id": ctx.maps.new_id("Files", row.get("fileListId")),
        }
        for i in VARIANTS:
            out[f"message{i}"] = text(row.get(f"message{i}"))
            out[f"confirmation_message{i}"] = text(row.get(f"confirmationMessage{i}"))
        for old, new, what in (
            ("contactListId", "contact_list_id", "contact list"),
            ("whatsappId", "whatsapp_id", "connection"),
            ("fileListId", "file_list_id", "file list"),
        ):
            if row.get(old) is not None and out[new] is None:
                ctx.report.note(self.table, "note", row["id"], f"{what} missing: kept without")
        return out

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write each campaign of an imported company (none is merged: names repeat)."""
        for row in rows:
            company_id = _company(ctx, self, row)
            if company_id is None:
                continue
            path, name, error = media.copy(
                ctx, company_id, row.get("companyId"), row.get("mediaPath"), "campaigns"
            )
            if error:
                ctx.report.note(self.table, "note", row["id"], "attachment not copied")
            campaign = Campaign(
                company_id=company_id,
                media_path=path,
                media_name=(opt_text(row.get("mediaName"), 255) or name) if path else None,
                slots_taken=0,
                **self.values(ctx, row),
                **_stamps(row),
            )
            db.session.add(campaign)
            db.session.flush()
            ctx.written(self, row, campaign.id, media.pending(row.get("mediaPath"), path))

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Take the old changes while the campaign was never started here."""
        campaign = db.session.get(Campaign, mapped.new_id) if mapped.new_id else None
        if campaign is None:
            return False
        if campaign.started_at is not None:
            ctx.report.note(self.table, "note", row["id"], "started here since: left as it is")
            return False
        changed = _assign(campaign, self.values(ctx, row))
        db.session.flush()
        return changed

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """Attachments of campaigns imported before without them, unless started here
        since (its recipients so far got it without: the rest must get the same)."""
        media.attach(
            ctx,
            self,
            seen,
            Campaign,
            "mediaPath",
            "campaigns",
            frozen=lambda ours, row: "started here since" if ours.started_at is not None else None,
        )


def _state(row: dict[str, Any]) -> dict[str, Any]:
    """How far an old shipping row got, in our columns."""
    delivered = as_datetime(row.get("deliveredAt"))
    requested = as_datetime(row.get("confirmationRequestedAt"))
    confirmed = as_datetime(row.get("confirmedAt"))
    if delivered is not None:
        status = "sent"
    elif requested is not None and confirmed is None:
        status = "asked"
    else:
        # Not sent; if confirmed, its request time makes the dispatcher send the main one.
        status = "pending"
    answer = row.get("confirmation")
    return {
        "status": status,
        "delivered_at": delivered,
        "confirmation_requested_at": requested,
        "confirmed_at": confirmed,
        "confirmation": None if answer is None else as_bool(answer),
    }


def _advance(shipping_id: int, state: dict[str, Any]) -> bool:
    """Move our row forward to `state` when the old one got further and ours did not
    move since (claimed, sent or failed here: ours is the truth)."""
    shipping = db.session.get(Shipping, shipping_id)
    if shipping is None or shipping.status not in ("pending", "asked"):
        return False
    if _RANK[state["status"]] <= _RANK[shipping.status]:
        return False
    changed = _assign(shipping, state)
    db.session.flush()
    return changed


class CampaignShipping(Step):
    """One row per (campaign, number), with how far it got."""

    table = "CampaignShipping"
    company_via = ("Campaigns", "campaignId")

    def __init__(self) -> None:
        #: our campaign id -> {number: our shipping id}: what is already there.
        self.index: dict[int, dict[str, int]] = {}

    def numbers(self, campaign_id: int) -> dict[str, int]:
        """The campaign's rows by number (read once per run)."""
        if campaign_id not in self.index:
            self.index[campaign_id] = dict(
                db.session.execute(
                    sa.select(Shipping.number, Shipping.id).where(
                        Shipping.campaign_id == campaign_id
                    )
                ).all()
            )
        return self.index[campaign_id]

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Write the rows of imported campaigns; a number already there is merged."""
        wanted = {ctx.maps.new_id("Campaigns", r.get("campaignId")) for r in rows} - {None}
        campaigns = dict(
            db.session.execute(
                sa.select(Campaign.id, Campaign.company_id).where(Campaign.id.in_(wanted))
            ).all()
        )
        item_ids = {ctx.maps.new_id("ContactListItems", r.get("contactId")) for r in rows}
        items = {
            item_id: (number, name, email)
            for item_id, number, name, email in db.session.execute(
                sa.select(
                    ContactListItem.id,
                    ContactListItem.number,
                    ContactListItem.name,
                    ContactListItem.email,
                ).where(ContactListItem.id.in_(item_ids - {None}))
            )
        }
        new: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        waiting: dict[tuple[int, str], int] = {}
        merges: list[tuple[dict[str, Any], tuple[int, str]]] = []
        for row in rows:
            campaign_id = ctx.maps.new_id("Campaigns", row.get("campaignId"))
            if campaign_id not in campaigns:
                ctx.skipped(self, row, "campaign missing (orphan)")
                continue
            item_id = ctx.maps.new_id("ContactListItems", row.get("contactId"))
            if item_id in items:
                # The item's number, exactly: `prepare` matches rows to items by it.
                number, name, email = items[item_id]
            else:
                item_id, name, email = None, None, None
                number = canonical(text(row.get("number")), False)[0]
                if row.get("contactId") is not None:
                    ctx.report.note(self.table, "note", row["id"], "list item missing: kept")
            if not number:
                ctx.skipped(self, row, "no number")
                continue
            state = _state(row)
            key = (campaign_id, number)
            existing = self.numbers(campaign_id).get(number)
            if existing is not None:
                _advance(existing, state)
                ctx.merged(self, row, existing, "same number twice in the campaign")
                continue
            if key in waiting:
                kept = new[waiting[key]]
                if _RANK[state["status"]] > _RANK[kept["status"]]:
                    kept.update(state)
                merges.append((row, key))
                continue
            waiting[key] = len(new)
            new_rows.append(row)
            new.append(
                {
                    "company_id": campaigns[campaign_id],
                    "campaign_id": campaign_id,
                    "contact_id": item_id,
                    "number": number,
                    "name": name,
                    "email": email,
                    "variant": 1,
                    "attempts": 0,
                    "message": text(row.get("message")),
                    "confirmation_message": opt_text(row.get("confirmationMessage")),
                    **state,
                    **_stamps(row),
                }
            )
        if not new:
            return
        ids = insert_returning(Shipping.__table__, new)
        for row, values, new_id in zip(new_rows, new, ids, strict=True):
            self.numbers(values["campaign_id"])[values["number"]] = new_id
            ctx.written(self, row, new_id)
        for row, key in merges:
            ctx.merged(self, row, ids[waiting[key]], "same number twice in the campaign")

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """A row delivered or asked in the old system since moves ours forward."""
        return mapped.new_id is not None and _advance(mapped.new_id, _state(row))
