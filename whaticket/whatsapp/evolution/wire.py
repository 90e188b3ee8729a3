"""Evolution's (Baileys') wire vocabulary shared by the client and the parser: JIDs,
message statuses, connection states, and the contacts answer."""

from __future__ import annotations

import re
from typing import Any

from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PENDING,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    PhoneContact,
)

#: Evolution's status strings (renderStatus.ts) and Baileys' numeric statuses → ack.
STATUS_ACKS: dict[str, int] = {
    "ERROR": ACK_ERROR,
    "PENDING": ACK_PENDING,
    "SERVER_ACK": ACK_SENT,
    "DELIVERY_ACK": ACK_DELIVERED,
    "READ": ACK_READ,
    "PLAYED": ACK_PLAYED,
}
#: Bridge connection states → our session status.
STATE_STATUS = {
    "open": "CONNECTED",
    "connecting": "OPENING",
    "close": "DISCONNECTED",
    "refused": "DISCONNECTED",
}


def user(jid: str | None) -> str:
    """The user part of a JID without the device suffix (`5511…:12@s.whatsapp.net` → `5511…`)."""
    return str(jid or "").split("@", 1)[0].split(":", 1)[0]


def digits(value: Any) -> str:
    """Only the digits of a phone number or JID."""
    return re.sub(r"\D", "", user(value))


def group_id(jid: str) -> str:
    """A group JID's id: digits and "-" (old `creator-timestamp` ids keep their dash)."""
    return "".join(ch for ch in user(jid) if ch.isdigit() or ch == "-")


def phone_jid(*candidates: Any) -> str | None:
    """The first candidate that is a phone-number JID (`…@s.whatsapp.net`)."""
    for value in candidates:
        if isinstance(value, str) and value.endswith(("@s.whatsapp.net", "@c.us")):
            return value
    return None


def ack_of(status: Any) -> int | None:
    """An Evolution status string or Baileys number as an ack, None when unknown."""
    if isinstance(status, bool):
        return None
    if isinstance(status, int | float):
        return int(status) if 0 <= int(status) <= ACK_PLAYED else None
    text = str(status or "").strip().upper()
    if text.isdigit():
        return ack_of(int(text))
    return STATUS_ACKS.get(text)


def contacts_from(answer: Any) -> list[PhoneContact]:
    """A `POST /chat/findContacts` answer as the phone's contacts.

    People with a phone JID and groups (flagged) come back; LID-only, broadcast and
    newsletter entries have no number and are left out, and so are the bare group
    members Evolution types `group_member` (seen in a group, not in the address book).
    Evolution fills a missing name with the number itself: that is no name.
    """
    out: list[PhoneContact] = []
    for entry in answer if isinstance(answer, list) else []:
        if not isinstance(entry, dict):
            continue
        jid = str(entry.get("remoteJid") or "")
        name = str(entry.get("pushName") or "").strip() or None
        picture = entry.get("profilePicUrl") or None
        if jid.endswith("@g.us"):
            if group_id(jid):
                out.append(PhoneContact(group_id(jid), name=name, is_group=True))
            continue
        if phone_jid(jid) is None or entry.get("type") == "group_member":
            continue
        number = digits(jid)
        if number:
            out.append(
                PhoneContact(
                    number,
                    name=None if name == number else name,
                    profile_pic_url=str(picture) if picture else None,
                )
            )
    return out
