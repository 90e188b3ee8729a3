"""Who an Evolution message is from: its key, its chat and participant, and every id
(phone, LID) the payload gives the person. Pure functions of the payload."""

from __future__ import annotations

from typing import Any

from whaticket.whatsapp.bounds import text
from whaticket.whatsapp.evolution.wire import digits, group_id, phone_jid


def key_of(item: dict[str, Any]) -> dict[str, Any]:
    """A message's key (`data.key`, or the flat fields of update/delete payloads)."""
    key = item.get("key")
    return key if isinstance(key, dict) else item


def sender_ids(item: dict[str, Any]) -> tuple[str, bool, str | None, str]:
    """(chat_id, is_group, participant digits, remoteJid) with @lid resolved when possible."""
    key = key_of(item)
    remote = text(key.get("remoteJid"), None)
    if remote.endswith("@g.us"):
        raw_part = text(key.get("participant"), None) or text(item.get("participant"), None)
        if raw_part.endswith("@lid"):
            raw_part = (
                phone_jid(
                    key.get("participantAlt"),
                    key.get("participantPn"),
                    key.get("senderPn"),
                    item.get("participantAlt"),
                    item.get("senderPn"),
                )
                or raw_part
            )
        return group_id(remote), True, digits(raw_part) or None, remote
    if remote.endswith("@lid"):
        # Baileys 7 / Evolution 2.3.6 `remoteJidAlt`; 2.3.0 `senderPn`. Without a phone
        # the LID digits are all we have (issue #1872).
        remote_phone = phone_jid(key.get("remoteJidAlt"), key.get("senderPn"), item.get("senderPn"))
        return digits(remote_phone or remote), False, None, remote
    return digits(remote), False, None, remote


def identities(item: dict[str, Any], chat_id: str, remote: str) -> tuple[tuple[str, str], ...]:
    """Every id the delivery gives the 1:1 chat's person: its phone and its LID.

    A phone JID may carry the LID beside it (`remoteJidAlt`/`senderLid` ending in `@lid`),
    and a LID JID the phone (`remoteJidAlt`/`senderPn`): both are recorded, so the alias
    table learns that they name one person. A LID with no phone is the only id there is.
    """
    key = key_of(item)
    if remote.endswith("@lid"):
        lid = digits(remote)
        phone = chat_id if chat_id != lid else ""
    else:
        phone = chat_id
        alt = next(
            (
                v
                for v in (key.get("remoteJidAlt"), key.get("senderLid"), item.get("senderLid"))
                if isinstance(v, str) and v.endswith("@lid")
            ),
            "",
        )
        lid = digits(alt)
    pairs = [("phone", phone)] if phone else []
    if lid:
        pairs.append(("lid", lid))
    return tuple(pairs)
