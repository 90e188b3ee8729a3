"""Campaign pacing: the injectable clock, per-campaign send slots, quiet hours, daily caps.

With a non-zero interval each send first reserves the next slot on the campaign row (under
a row lock), so any number of dispatchers share one rhythm. The clock is injectable
(`CAMPAIGN_CLOCK` in the app config) so tests control time.
"""

from __future__ import annotations

import random
import time as systime
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping
from whaticket.services.campaigns.campaign_settings import CampaignConfig
from whaticket.utils.office_hours import zone_of


class Clock(Protocol):
    """What the dispatcher needs of time."""

    def now(self) -> datetime:
        """The current UTC time."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """utcnow()."""
        return utcnow()

    def sleep(self, seconds: float) -> None:
        """time.sleep."""
        if seconds > 0:
            systime.sleep(seconds)


def clock() -> Clock:
    """The app's campaign clock (tests put a controllable one in CAMPAIGN_CLOCK)."""
    return current_app.config.get("CAMPAIGN_CLOCK") or SystemClock()


def reserve_slot(campaign_id: int, cfg: CampaignConfig, now: datetime) -> datetime | None:
    """Take the campaign's next send time under a row lock; None when it is not running.

    Every `longerIntervalAfter` sends the gap is `greaterInterval` instead of
    `messageInterval` (the reference multiplied the count by 1000, so it never fired).
    """
    # lazyload("*"): the lock takes this row alone; PostgreSQL refuses FOR UPDATE on the
    # outer joins the eager relationships would add.
    campaign = db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .options(sa.orm.lazyload("*"))
    )
    if campaign is None or campaign.status != "EM_ANDAMENTO" or campaign.paused_reason:
        return None
    slot = max(campaign.next_send_at or now, now)
    campaign.slots_taken = (campaign.slots_taken or 0) + 1
    longer = cfg.longer_interval_after > 0 and campaign.slots_taken % cfg.longer_interval_after == 0
    gap = cfg.greater_interval if longer else cfg.message_interval
    # A little jitter so a long campaign does not tick like a machine.
    jitter = random.uniform(0, min(gap * 0.1, 3.0)) if gap > 0 else 0.0
    campaign.next_send_at = slot + timedelta(seconds=gap + jitter)
    db.session.flush()
    return slot


def quiet_until(cfg: CampaignConfig, tz: str, now: datetime) -> datetime | None:
    """When quiet hours are on at `now`, the UTC time they end; else None."""
    if cfg.quiet_start is None or cfg.quiet_end is None or cfg.quiet_start == cfg.quiet_end:
        return None
    local = now.astimezone(zone_of(tz))
    clock_now = local.time().replace(tzinfo=None)
    start, end = cfg.quiet_start, cfg.quiet_end
    inside = (start <= clock_now < end) if start < end else (clock_now >= start or clock_now < end)
    if not inside:
        return None
    end_day = local.date()
    if clock_now >= end:  # the quiet period ends tomorrow morning
        end_day += timedelta(days=1)
    end_local = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return end_local.astimezone(now.tzinfo)


def cap_reached_until(cfg: CampaignConfig, conn_id: int, tz: str, now: datetime) -> datetime | None:
    """With a daily cap, the next local midnight when today's campaign sends reached it."""
    if cfg.daily_cap <= 0:
        return None
    local = now.astimezone(zone_of(tz))
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=local.tzinfo)
    since = midnight.astimezone(now.tzinfo)
    s = CampaignShipping
    sent_today = db.session.scalar(
        sa.select(sa.func.count(s.id))
        .join(Campaign, Campaign.id == s.campaign_id)
        .where(Campaign.whatsapp_id == conn_id, s.delivered_at >= since)
    ) + db.session.scalar(
        sa.select(sa.func.count(s.id))
        .join(Campaign, Campaign.id == s.campaign_id)
        .where(Campaign.whatsapp_id == conn_id, s.confirmation_requested_at >= since)
    )
    if sent_today < cfg.daily_cap:
        return None
    return (midnight + timedelta(days=1)).astimezone(now.tzinfo)
