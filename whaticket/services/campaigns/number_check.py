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
#: Numbers per IN query.
_IN_CHUNK = 500


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


def _taken(list_ids: set[int]) -> dict[int, set[str]]:
    """Numbers already used in each list, so a canonical form never collides with an item."""
    taken: dict[int, set[str]] = {lid: set() for lid in list_ids}
    for lid, number in db.session.execute(
        sa.select(ContactListItem.contact_list_id, ContactListItem.number).where(
            ContactListItem.contact_list_id.in_(list_ids)
        )
    ):
        taken[lid].add(number)
    return taken


def _apply(item: ContactListItem, answer: str | None, taken: dict[int, set[str]]) -> None:
    """Set one item's validity from the provider's answer, and its canonical number."""
    if answer is None:
        item.is_whatsapp_valid = False
        return
    item.is_whatsapp_valid = True
    canonical = _canonical(answer, item.number)
    if canonical != item.number and canonical not in taken[item.contact_list_id]:
        taken[item.contact_list_id].discard(item.number)
        taken[item.contact_list_id].add(canonical)
        item.number = canonical


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
    taken = _taken({i.contact_list_id for i in items})
    for item in items:
        try:
            answer = gateway.check_number(conn, item.number)
        except (GatewayError, NotImplementedError):
            current_app.logger.info("number check unavailable on connection %s", conn.id)
            return
        _apply(item, answer, taken)
    db.session.flush()


def ask(company_id: int, numbers: list[str]) -> dict[str, str | None]:
    """Ask WhatsApp about each number: {number: canonical digits, or None when not on it}.

    Reads only, then calls the provider: for callers that committed their writes first
    (an import job). Numbers left out were not checked (no checking connection, or the
    gateway failed: the rest would fail too).
    """
    answers: dict[str, str | None] = {}
    conn = _checking_connection(company_id) if numbers else None
    if conn is None:
        return answers
    try:
        gateway = gateway_for(conn)
    except GatewayError:
        return answers
    for number in numbers:
        try:
            answers[number] = gateway.check_number(conn, number)
        except (GatewayError, NotImplementedError):
            current_app.logger.info("number check unavailable on connection %s", conn.id)
            break
    return answers


def apply_answers(list_id: int, answers: dict[str, str | None]) -> None:
    """Store what `ask` found on the list's items with those numbers."""
    if not answers:
        return
    taken = _taken({list_id})
    numbers = list(answers)
    for start in range(0, len(numbers), _IN_CHUNK):
        chunk = numbers[start : start + _IN_CHUNK]
        items = db.session.scalars(
            sa.select(ContactListItem).where(
                ContactListItem.contact_list_id == list_id, ContactListItem.number.in_(chunk)
            )
        )
        for item in list(items):
            _apply(item, answers[item.number], taken)
    db.session.flush()
