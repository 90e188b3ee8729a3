"""Claims on shipping rows: exactly one dispatcher owns a row between its claim and its mark.

A row is *claimed* (pending -> claimed, an atomic UPDATE only one process can win) and the
claim committed before the provider is called; `release` gives a row back when nothing was
sent. These functions flush; the jobs in jobs/campaigns.py commit between steps.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from whaticket import bus
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping


def claim_batch(campaign_id: int, now: datetime, size: int = 1) -> list[CampaignShipping]:
    """Claim up to `size` due pending rows of the campaign, in list order.

    One UPDATE stamps the candidates still pending with this call's token; rows another
    dispatcher took in the meantime do not match (it holds their locks until its claim
    commits, then they are no longer pending), so every row has exactly one owner.
    """
    for _ in range(3):  # lost every candidate to another dispatcher: look again
        candidates = list(
            db.session.scalars(
                sa.select(CampaignShipping.id)
                .where(
                    CampaignShipping.campaign_id == campaign_id,
                    CampaignShipping.status == "pending",
                    sa.or_(
                        CampaignShipping.next_attempt_at.is_(None),
                        CampaignShipping.next_attempt_at <= now,
                    ),
                )
                .order_by(CampaignShipping.id)
                .limit(size)
            )
        )
        if not candidates:
            return []
        token = uuid.uuid4().hex
        db.session.execute(
            sa.update(CampaignShipping)
            .where(CampaignShipping.id.in_(candidates), CampaignShipping.status == "pending")
            .values(status="claimed", claim_token=token, claimed_at=now),
            execution_options={"synchronize_session": False},
        )
        rows = list(
            db.session.scalars(
                sa.select(CampaignShipping)
                .where(CampaignShipping.claim_token == token)
                .order_by(CampaignShipping.id)
                .execution_options(populate_existing=True)
            )
        )
        if rows:
            return rows
    return []


def claim_next(campaign_id: int, now: datetime) -> CampaignShipping | None:
    """Claim one due pending row (see claim_batch)."""
    rows = claim_batch(campaign_id, now, 1)
    return rows[0] if rows else None


def fresh_row(shipping_id: int) -> CampaignShipping | None:
    """The row as the database has it now (one SELECT, overwriting any loaded copy)."""
    return db.session.scalar(
        sa.select(CampaignShipping)
        .where(CampaignShipping.id == shipping_id)
        .execution_options(populate_existing=True)
    )


def claim(shipping_id: int, from_statuses: tuple[str, ...], now: datetime) -> str | None:
    """Claim one row if it is in one of `from_statuses`; the claim token, or None."""
    token = uuid.uuid4().hex
    result = db.session.execute(
        sa.update(CampaignShipping)
        .where(CampaignShipping.id == shipping_id, CampaignShipping.status.in_(from_statuses))
        .values(status="claimed", claim_token=token, claimed_at=now),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        return None
    return token


def has_work(campaign_id: int) -> tuple[bool, datetime | None]:
    """Whether rows are still pending or claimed, and the earliest retry time among them."""
    s = CampaignShipping
    open_count, next_retry = db.session.execute(
        sa.select(sa.func.count(s.id), sa.func.min(s.next_attempt_at)).where(
            s.campaign_id == campaign_id, s.status.in_(("pending", "claimed"))
        )
    ).one()
    return bool(open_count), next_retry


def finish_if_done(campaign: Campaign, now: datetime) -> bool:
    """FINALIZADA once nothing is pending or claimed (awaited confirmations do not count)."""
    busy, _ = has_work(campaign.id)
    if busy or campaign.status != "EM_ANDAMENTO":
        return False
    campaign.status = "FINALIZADA"
    campaign.completed_at = now
    db.session.flush()
    bus.campaign_finished.publish(campaign=campaign)
    return True


def release(shipping: CampaignShipping, not_before: datetime | None = None) -> None:
    """Give a claimed row back (nothing was sent)."""
    shipping.status = "pending"
    shipping.claim_token = None
    shipping.claimed_at = None
    shipping.next_attempt_at = not_before
    db.session.flush()
