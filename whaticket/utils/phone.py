"""Phone-number normalisation: E.164 digits without "+", Brazil's 9th digit, group ids.

Pure functions (no Flask): callers pass the default region, which the services read
from the DEFAULT_PHONE_REGION setting.
"""

from __future__ import annotations

import re

import phonenumbers

#: Formatting a person may type around a number: removed before parsing.
_FORMATTING = re.compile(r"[\s\-().]")
#: Old-style group ids: "<creator number>-<creation timestamp>".
_OLD_GROUP_ID = re.compile(r"^\d{5,}-\d{9,}$")
#: E.164 allows at most 15 digits; anything longer can only be a group id.
_MAX_E164_DIGITS = 15
_BRAZIL = 55


def _strip_jid(raw: str) -> str:
    """Drop a WhatsApp JID domain ("@s.whatsapp.net", "@g.us") and a device suffix (":12")."""
    value = raw.strip().split("@", 1)[0]
    return value.split(":", 1)[0] if "@" in raw else value


def is_group_id(raw: str) -> bool:
    """True when `raw` is a WhatsApp group id rather than a phone number."""
    value = _strip_jid(raw or "")
    if raw and raw.strip().endswith("@g.us"):
        return True
    if _OLD_GROUP_ID.match(value):
        return True
    return value.isdigit() and len(value) > _MAX_E164_DIGITS


def normalize_group_id(raw: str) -> str:
    """A group id kept as given: digits and "-" only (any JID domain removed)."""
    value = "".join(ch for ch in _strip_jid(raw or "") if ch.isdigit() or ch == "-").strip("-")
    if not any(ch.isdigit() for ch in value):
        raise ValueError("invalid group id")
    return value


def _fix_brazil_ninth_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    """Add the 9th digit to an old 8-digit Brazilian mobile (DDD + [6-9]xxxxxxx).

    WhatsApp still reports some Brazilian mobiles without the 9; storing both forms
    would split one person into two contacts, so the 13-digit form is canonical.
    Landlines (first local digit 2-5) have 8 digits and are left alone.
    """
    if number.country_code != _BRAZIL:
        return number
    national = str(number.national_number)
    if len(national) == 10 and national[2] in "6789":
        return phonenumbers.PhoneNumber(
            country_code=_BRAZIL, national_number=int(national[:2] + "9" + national[2:])
        )
    return number


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """Parse and validate one reading of the number; None when it is not a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    number = _fix_brazil_ninth_digit(number)
    return number if phonenumbers.is_valid_number(number) else None


def normalize_number(raw: str, default_region: str = "BR") -> str:
    """E.164 digits without "+" for `raw`; group ids come back as given; invalid -> ValueError."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("empty number")
    if is_group_id(raw):
        return normalize_group_id(raw)
    text = _FORMATTING.sub("", _strip_jid(raw))
    international = text.startswith("+") or text.startswith("00")
    digits = text[1:] if text.startswith("+") else text[2:] if text.startswith("00") else text
    if not digits.isdigit() or len(digits) > _MAX_E164_DIGITS:
        raise ValueError("invalid number")
    if international:
        number = _parse("+" + digits, None)
    else:
        # Typed numbers are usually local: try the default region first, then read the
        # digits as a full international number (what providers send, without "+").
        number = _parse(digits, default_region or "BR") or _parse("+" + digits, None)
    if number is None:
        raise ValueError("invalid number")
    return f"{number.country_code}{number.national_number}"


def ninth_digit_variant(number: str) -> str | None:
    """The other form of a Brazilian mobile (with and without the 9th digit), else None.

    `5511987654321` <-> `551187654321`: WhatsApp and old address books still use the
    12-digit form, so a contact is also known by it (an identity of kind `ninth`).
    """
    if not number.isdigit() or not number.startswith(str(_BRAZIL)):
        return None
    national = number[2:]
    if len(national) == 11 and national[2] == "9" and national[3] in "6789":
        return f"{_BRAZIL}{national[:2]}{national[3:]}"
    if len(national) == 10 and national[2] in "6789":
        return f"{_BRAZIL}{national[:2]}9{national[2:]}"
    return None
