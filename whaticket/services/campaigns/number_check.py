"""The WhatsApp check of contact-list numbers, through the company's default connection.

Only a provider that can look numbers up is asked; otherwise `is_whatsapp_valid` stays
None ("not checked"), never a guess. A valid number is stored in its canonical form.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from whaticket.extensions import db
from whaticket.models import ContactListItem, Whatsapp
from whaticket.services.connections.gateway import gateway_for
from whaticket.utils.phone import normalize_number
from whaticket.whatsapp.base import GatewayError

#: Providers whose check_number cannot look a number up (Cloud echoes the digits back).
NO_LOOKUP_PROVIDERS = frozenset({"cloud"})


def region() -> str:
    """The region numbers without a country code are read in (DEFAULT_PHONE_REGION)."""
    return current_app.config.get("DEFAULT_PHONE_REGION") or "BR"


def _canonical(digits: str, fallback: str) -> str:
    """The provider's answer in our canonical form (Brazil's 9th digit added), else as given.

    Providers may answer an old Brazilian mobile without its 9th digit; storing that form
    would let the same person appear twice in a list.
    """
    try:
        return normalize_number("+" + digits, region())
    except ValueError:
        return digits or fallback


def _checking_connection(company_id: int) -> Whatsapp | None:
    """The company's default connection when its provider can look numbers up, else None."""
    conn = db.session.scalar(
        sa.select(Whatsapp)
        .where(Whatsapp.company_id == company_id, Whatsapp.is_default.is_(True))
        .order_by(Whatsapp.id)
        .limit(1)
    )
    if conn is None or conn.provider in NO_LOOKUP_PROVIDERS:
        return None
    return conn


def check_items(company_id: int, items: list[ContactListItem]) -> None:
    """Check each item's number on WhatsApp: set is_whatsapp_valid and the canonical number.

    Without a default connection that can check, items stay unchecked (None). A gateway
    error leaves the rest unchecked too: a session that is down fails every call, and
    waiting for each to time out would stall the request.
    """
    if not items:
        return
    conn = _checking_connection(company_id)
    if conn is None:
        return
    try:
        gateway = gateway_for(conn)
    except GatewayError:
        return
    # Numbers already used in each list, so a canonical form never collides with an item.
    list_ids = {i.contact_list_id for i in items}
    taken: dict[int, set[str]] = {lid: set() for lid in list_ids}
    for lid, number in db.session.execute(
        sa.select(ContactListItem.contact_list_id, ContactListItem.number).where(
            ContactListItem.contact_list_id.in_(list_ids)
        )
    ):
        taken[lid].add(number)
    for item in items:
        try:
            answer = gateway.check_number(conn, item.number)
        except (GatewayError, NotImplementedError):
            current_app.logger.info("number check unavailable on connection %s", conn.id)
            return
        if answer is None:
            item.is_whatsapp_valid = False
            continue
        item.is_whatsapp_valid = True
        canonical = _canonical(answer, item.number)
        if canonical != item.number and canonical not in taken[item.contact_list_id]:
            taken[item.contact_list_id].discard(item.number)
            taken[item.contact_list_id].add(canonical)
            item.number = canonical
    db.session.flush()
