"""A campaign's shipping rows: one per list number, message variants rotated and filled in.

`prepare` writes the rows a start needs (idempotent: a restart adds only new numbers);
`enqueue_dispatchers` queues the jobs that send them (jobs/campaigns.py, by name).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import savepoint
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignShipping, ContactListItem
from whaticket.models.campaign import VARIANTS
from whaticket.services.campaigns import campaign_settings


def variants(campaign: Campaign, *, confirmation: bool) -> list[str]:
    """The non-empty messages 1-5 (or confirmation messages 1-5), in order."""
    prefix = "confirmation_message" if confirmation else "message"
    texts = [(getattr(campaign, f"{prefix}{i}") or "").strip() for i in VARIANTS]
    return [text for text in texts if text]


def prepare(campaign: Campaign) -> int:
    """One shipping row per list number not known invalid, message variants rotated.

    Idempotent: numbers that already have a row (sent or not) are left alone, so a restart
    only adds numbers added to the list since. Returns how many rows were added.
    """
    if campaign.contact_list_id is None:
        return 0
    messages = variants(campaign, confirmation=False)
    confirmations = variants(campaign, confirmation=True) if campaign.confirmation else []
    cfg = campaign_settings.config(campaign.company_id)
    have = set(
        db.session.scalars(
            sa.select(CampaignShipping.number).where(CampaignShipping.campaign_id == campaign.id)
        )
    )
    items = db.session.execute(
        sa.select(
            ContactListItem.id, ContactListItem.name, ContactListItem.number, ContactListItem.email
        )
        .where(
            ContactListItem.contact_list_id == campaign.contact_list_id,
            sa.or_(
                ContactListItem.is_whatsapp_valid.is_(None),
                ContactListItem.is_whatsapp_valid.is_(True),
            ),
        )
        .order_by(ContactListItem.id)
    ).all()
    rows: list[dict[str, Any]] = []
    ordinal = len(have)
    for item_id, name, number, email in items:
        if number in have:
            continue
        have.add(number)
        variant = ordinal % len(messages) if messages else 0
        values = {"nome": name or "", "email": email or "", "numero": number, **cfg.variables}
        rows.append(
            {
                "company_id": campaign.company_id,
                "campaign_id": campaign.id,
                "contact_id": item_id,
                "number": number,
                "name": name,
                "email": email,
                "status": "pending",
                "variant": variant + 1,
                "attempts": 0,
                "message": substitute(messages[variant], values) if messages else "",
                "confirmation_message": (
                    substitute(confirmations[ordinal % len(confirmations)], values)
                    if confirmations
                    else None
                ),
            }
        )
        ordinal += 1
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        try:
            with savepoint():
                db.session.execute(sa.insert(CampaignShipping), chunk)
        except sa.exc.IntegrityError:
            # Another start raced us for some numbers: insert the rest one by one.
            for row in chunk:
                try:
                    with savepoint():
                        db.session.execute(sa.insert(CampaignShipping), [row])
                except sa.exc.IntegrityError:
                    continue
    db.session.flush()
    return len(rows)


_VAR = re.compile(r"\{(\w+)\}")


def substitute(text: str, values: dict[str, str]) -> str:
    """`{nome}`, `{email}`, `{numero}` and custom `{key}`; unknown names stay as written."""
    return _VAR.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def enqueue_dispatchers(campaign_id: int, delay: float | None = None) -> None:
    """Queue the campaign's dispatchers (CAMPAIGN_DISPATCHERS of them; claims keep them apart)."""
    count = int(current_app.config.get("CAMPAIGN_DISPATCHERS") or 1)
    for _ in range(max(1, count)):
        jobs.enqueue("campaigns.dispatch", campaign_id, in_=delay, queue="low")


def enqueue_dispatchers_one(campaign_id: int) -> None:
    """Queue one more dispatcher (a run that used its time budget hands over to it)."""
    jobs.enqueue("campaigns.dispatch", campaign_id, queue="low")
