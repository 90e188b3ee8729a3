"""Campaign jobs: scheduled start, the paced dispatcher loop, confirmed sends, the watchdog.

Each step commits on its own: the claim before the provider is called, the mark right
after, so a worker killed at any point leaves a state the next run can resume from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from whaticket import db as dbmod
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping, Whatsapp
from whaticket.models.company import Company
from whaticket.services.billing import standing as billing
from whaticket.services.campaigns import campaign_settings, campaigns, claims, pacing
from whaticket.services.campaigns import dispatch as dispatch_service
from whaticket.services.campaigns import report as campaign_report
from whaticket.services.campaigns.pacing import clock
from whaticket.services.campaigns.shipping import enqueue_dispatchers, enqueue_dispatchers_one

#: How long one dispatcher run may last before it hands over to a fresh job (seconds).
DEFAULT_BUDGET = 120
#: Waits shorter than this are slept; longer ones become a delayed job.
MAX_SLEEP = 30
#: A running campaign silent for this long (seconds) is restarted by the watchdog. A live
#: dispatcher beats every 5 s and moves its heartbeat to the end of any sleep or wait.
DEFAULT_STALL = 20


def start_scheduled(campaign_id: int, scheduled_for: str) -> None:
    """Start a PROGRAMADA campaign at its time (a re-armed campaign's old job does nothing)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "PROGRAMADA" or campaign.scheduled_at is None:
        return
    if campaign.scheduled_at.isoformat() != scheduled_for:
        return
    _start(campaign)


def start_due_campaigns() -> int:
    """Periodic safety net: PROGRAMADA campaigns whose time has come (a lost job) start."""
    now = clock().now()
    ids = list(
        db.session.scalars(
            sa.select(Campaign.id).where(
                Campaign.status == "PROGRAMADA", Campaign.scheduled_at <= now
            )
        )
    )
    for campaign_id in ids:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is not None:
            _start(campaign)
    return len(ids)


def _start(campaign: Campaign) -> None:
    # Only one process moves PROGRAMADA → EM_ANDAMENTO: the UPDATE matches once.
    won = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.status == "PROGRAMADA")
        .values(status="INATIVA"),
        execution_options={"synchronize_session": False},
    ).rowcount
    if won != 1:
        dbmod.rollback()
        return
    db.session.refresh(campaign)
    try:
        campaigns.start_campaign(campaign, clock().now())
    except Exception:
        current_app.logger.exception("campaign %s could not start", campaign.id)
        dbmod.rollback()
        return
    dbmod.commit()


def dispatch(campaign_id: int) -> int:
    """Send the campaign's due contacts, paced, until done, paused, out of budget or waiting.

    Returns how many sends this run made.
    """
    session = db.session()
    # Two commits per send (the claim, then the mark) must not reload the campaign, the
    # connection and the company each time: state that can change (the status) is read
    # with its own small query instead.
    previous, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _dispatch(campaign_id)
    finally:
        session.expire_on_commit = previous


def _status(campaign_id: int) -> tuple[str | None, str | None]:
    """The campaign's current status and pause reason, read fresh."""
    row = db.session.execute(
        sa.select(Campaign.status, Campaign.paused_reason).where(Campaign.id == campaign_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _dispatch(campaign_id: int) -> int:
    clk = clock()
    started = clk.now()
    budget = timedelta(
        seconds=float(current_app.config.get("CAMPAIGN_DISPATCH_BUDGET") or DEFAULT_BUDGET)
    )
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return 0
    company = db.session.get(Company, campaign.company_id)
    tz = (company.timezone if company else None) or "America/Sao_Paulo"
    cfg = campaign_settings.config(campaign.company_id)
    batch = max(1, int(current_app.config.get("CAMPAIGN_CLAIM_BATCH") or 10))
    sent = 0
    last_beat = last_recover = None
    conn = db.session.get(Whatsapp, campaign.whatsapp_id) if campaign.whatsapp_id else None
    if conn is None:
        campaign.paused_reason = "ERR_NO_WAPP_FOUND"
        campaign_report.emit(campaign, "update")
        dbmod.commit()
        return sent
    while True:
        now = clk.now()
        status, paused = _status(campaign_id)
        if status != "EM_ANDAMENTO" or paused:
            dbmod.rollback()
            return sent
        campaign.status, campaign.paused_reason = status, paused
        if billing.sending_blocked(campaign.company_id):
            # Overdue: hold the campaign; the watchdog resumes it once the invoice is paid.
            campaign.paused_reason = billing.EXPIRED
            campaign_report.emit(campaign, "update")
            dbmod.commit()
            return sent
        if now - started > budget:
            enqueue_dispatchers_one(campaign_id)
            dbmod.commit()
            return sent
        if last_beat is None or (now - last_beat).total_seconds() >= 5:
            db.session.execute(
                sa.update(Campaign).where(Campaign.id == campaign_id).values(heartbeat_at=now),
                execution_options={"synchronize_session": False},
            )
            last_beat = now
            dbmod.commit()
            if last_recover is None or (now - last_recover).total_seconds() >= 30:
                # Read, commit, ask the provider with no lock held, then apply.
                stale = dispatch_service.stale_claims(campaign, now)
                dbmod.commit()
                if stale:
                    answers = dispatch_service.ask_provider(conn, stale)
                    dispatch_service.settle_stale(campaign, conn, stale, answers, now)
                    dbmod.commit()
                last_recover = now

        wait_until = pacing.quiet_until(cfg, tz, now) or pacing.cap_reached_until(
            cfg, conn.id, tz, now
        )
        if wait_until is not None:
            _resume_at(campaign_id, wait_until)
            dbmod.commit()
            return sent

        if cfg.paced:
            slot = pacing.reserve_slot(campaign_id, cfg, now)
            if slot is not None:
                # Asleep until its slot is not stalled: the watchdog must not revive it.
                db.session.execute(
                    sa.update(Campaign)
                    .where(Campaign.id == campaign_id)
                    .values(heartbeat_at=max(slot, now)),
                    execution_options={"synchronize_session": False},
                )
            dbmod.commit()
            if slot is None:
                return sent
            wait = (slot - clk.now()).total_seconds()
            if wait > MAX_SLEEP:
                _resume_at(campaign_id, slot)
                dbmod.commit()
                return sent
            clk.sleep(wait)
            if _status(campaign_id)[0] != "EM_ANDAMENTO":  # cancelled while we waited
                dbmod.rollback()
                return sent
            now = clk.now()

        # Unpaced sends claim a few rows per transaction; paced or capped ones one by one.
        size = 1 if cfg.paced or cfg.daily_cap else batch
        claimed = claims.claim_batch(campaign_id, now, size)
        dbmod.commit()
        if not claimed:
            busy, next_retry = claims.has_work(campaign_id)
            if not busy:
                if claims.finish_if_done(campaign, now):
                    campaign_report.emit(campaign, "update")
                dbmod.commit()
                return sent
            # The rest are claimed by other dispatchers or wait to retry: come back then,
            # or soon enough to settle a claim whose dispatcher died.
            if next_retry is None or next_retry <= now:
                next_retry = now + timedelta(seconds=_stall())
            _resume_at(campaign_id, next_retry)
            dbmod.commit()
            return sent

        for index, shipping in enumerate(claimed):
            outcome = dispatch_service.send_claimed(campaign, shipping, conn, clk.now())
            if outcome.kind == "paused":
                # Nothing of the rest was sent: give those rows back too.
                for rest in claimed[index + 1 :]:
                    claims.release(rest)
                campaign.paused_reason = outcome.error
                campaign_report.emit(campaign, "update")
                dbmod.commit()
                return sent
            if outcome.kind in ("sent", "asked"):
                sent += 1
            # Throttled per campaign (not per dispatcher): each event carries every row.
            campaign_report.emit_progress(campaign)
            dbmod.commit()


def _resume_at(campaign_id: int, when: datetime) -> None:
    """Hand the campaign to a dispatcher that starts at `when`.

    The heartbeat moves to `when` as well: the watchdog must not take a campaign waiting
    for its quiet hours or daily cap to end for a stalled one (and queue a job per tick).
    """
    db.session.execute(
        sa.update(Campaign).where(Campaign.id == campaign_id).values(heartbeat_at=when),
        execution_options={"synchronize_session": False},
    )
    jobs.enqueue(dispatch, campaign_id, at=when, queue="low")


def send_confirmed(shipping_id: int) -> None:
    """After a contact confirmed: send the campaign's main message to that contact once."""
    clk = clock()
    now = clk.now()
    shipping = db.session.get(CampaignShipping, shipping_id)
    if shipping is None or shipping.status != "asked" or not shipping.confirmed_at:
        return
    campaign = db.session.get(Campaign, shipping.campaign_id)
    if campaign is None or campaign.status == "CANCELADA" or campaign.whatsapp_id is None:
        return
    if claims.claim(shipping_id, ("asked",), now) is None:
        dbmod.rollback()
        return  # another run took it
    dbmod.commit()
    shipping = claims.fresh_row(shipping_id)
    if shipping is None:
        return
    conn = db.session.get(Whatsapp, campaign.whatsapp_id)
    outcome = dispatch_service.send_claimed(campaign, shipping, conn, now)  # type: ignore[arg-type]
    if outcome.kind in ("paused", "retry"):
        # Back to waiting for its main message; try again in a minute.
        shipping.status = "asked"
        jobs.enqueue(send_confirmed, shipping_id, in_=60)
    # Confirmations arrive in bursts when a campaign's audience answers together.
    campaign_report.emit_progress(campaign)
    dbmod.commit()


def announce_progress(campaign_id: int) -> None:
    """The trailing progress event of a throttled window: the counters as they stand."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return
    campaign_report.announce_progress(campaign)
    dbmod.commit()


def _stall() -> float:
    return float(current_app.config.get("CAMPAIGN_STALL") or DEFAULT_STALL)


def watchdog() -> int:
    """Periodic: resume campaigns no dispatcher has touched lately, or whose line came back."""
    now = clock().now()
    cutoff = now - timedelta(seconds=_stall())
    revived = 0
    for campaign in db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.status == "EM_ANDAMENTO")
        .execution_options(populate_existing=True)  # heartbeats are written by UPDATEs
    ).all():
        if campaign.paused_reason == campaigns.MANUAL_PAUSE:
            continue  # paused on request: only a restart sends again
        if campaign.paused_reason == billing.EXPIRED:
            if billing.sending_blocked(campaign.company_id):
                continue
            campaign.paused_reason = None  # paid: carry on
        elif campaign.paused_reason:
            conn = db.session.get(Whatsapp, campaign.whatsapp_id) if campaign.whatsapp_id else None
            if conn is None or conn.status != "CONNECTED":
                continue
            campaign.paused_reason = None  # the connection is back: carry on
        elif campaign.heartbeat_at is not None and campaign.heartbeat_at > cutoff:
            continue
        campaign.heartbeat_at = now
        enqueue_dispatchers(campaign.id)
        campaign_report.emit(campaign, "update")
        revived += 1
    dbmod.commit()
    return revived
