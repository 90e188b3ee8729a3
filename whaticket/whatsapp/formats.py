"""Message bodies in the shapes the SaaS chat view parses: shared locations and contact cards.

`src/components/MessagesList/index.js` renders a `locationMessage` whose body is
`"<image>|<maps link>|<description>"` (LocationPreview puts the image in an `<img src>` and
the description through `dangerouslySetInnerHTML`), and a `contactMessage` whose body is
vCard text: the first `:`-separated value containing "+" is the number, the value after
"FN" the name, and the whole chat view throws when no value has a "+". Every provider
builds these bodies here, so the screen gets one format whatever the provider. Pure
functions: no Flask, no models.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import math
import re
import struct
import zlib
from collections.abc import Iterable
from typing import Any

LOCATION_TYPE = "locationMessage"
CONTACT_TYPE = "contactMessage"
#: A thumbnail larger than this is replaced by the placeholder: the body is a TEXT column
#: (64 KB on MariaDB) and WhatsApp's own thumbnails are a few KB.
THUMBNAIL_MAX_BYTES = 32 * 1024
#: Longest name or address kept in a location's description.
_LABEL_MAX = 300
#: The link the Node backend built (the screen opens it in a new tab).
_MAPS_URL = "https://maps.google.com/maps?q={lat}%2C{lng}&z=17&hl=pt-BR"
#: Magic numbers of the picture formats a browser shows in an <img>.
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")
#: A vCard content line: optional group ("item1."), property name, parameters, value.
_VCARD_LINE = re.compile(
    r"^(?:(?P<group>[A-Za-z0-9-]+)\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>;[^:]*)?:"
)
_WAID = re.compile(r"waid=(\d{5,20})", re.I)


# -- locations ---------------------------------------------------------------------


def _coordinate(value: Any, limit: float) -> float | None:
    """A finite number within ±`limit` (a latitude or longitude), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or abs(number) > limit:
        return None
    return number


def _number_text(value: float) -> str:
    """A coordinate as short text: 7 decimals (about 1 cm), trailing zeros dropped."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _thumbnail_bytes(raw: Any) -> bytes | None:
    """The picture's bytes from a base64 string, a serialised Buffer or a byte list.

    Baileys' `jpegThumbnail` reaches us as base64 text, `{"type": "Buffer", "data": [...]}`
    or `{"0": 255, ...}` depending on how the bridge serialised it. Anything that is not a
    picture of reasonable size gives None (the placeholder is shown instead).
    """
    data: bytes | None = None
    values: Any = None
    if isinstance(raw, str):
        text = "".join(raw.split())
        if text.startswith("data:"):
            text = text.split(",", 1)[-1]
        text += "=" * (-len(text) % 4)
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
    elif isinstance(raw, dict) and isinstance(raw.get("data"), list):
        values = raw["data"]
    elif isinstance(raw, dict) and raw and all(str(k).isdigit() for k in raw):
        values = [raw[k] for k in sorted(raw, key=int)]
    elif isinstance(raw, list):
        values = raw
    if values is not None:
        if len(values) > THUMBNAIL_MAX_BYTES:
            return None
        try:
            data = bytes(values)
        except (TypeError, ValueError):
            return None
    if not data or len(data) > THUMBNAIL_MAX_BYTES or not data.startswith(_IMAGE_MAGIC):
        return None
    return data


def _png(width: int, height: int, pixel: Any) -> bytes:
    """A truecolour PNG whose pixel (x, y) is `pixel(x, y)` -> (r, g, b)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for every scanline
        for x in range(width):
            rows.extend(pixel(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _pin_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A map tile with streets and a red pin, drawn from simple shapes."""
    cx, cy, radius = 48, 36, 18
    dx, dy = x - cx, y - cy
    if dx * dx + dy * dy <= 49:
        return (255, 255, 255)  # the pin's hole
    in_head = dx * dx + dy * dy <= radius * radius
    in_tail = 40 <= y <= 80 and abs(dx) <= 15 * (80 - y) / 40
    if in_head or in_tail:
        return (219, 68, 55)
    if ((x - 48) / 10) ** 2 + ((y - 83) / 3) ** 2 <= 1:
        return (150, 160, 170)  # the pin's shadow
    if 58 <= y < 64 or 18 <= x < 24 or 72 <= x < 77 or abs((x - y) - 40) < 3:
        return (255, 255, 255)  # streets
    return (222, 230, 236)


@functools.cache
def placeholder_image() -> str:
    """A map-pin picture (PNG, base64) for locations that arrive without a thumbnail."""
    return base64.b64encode(_png(96, 96, _pin_pixel)).decode("ascii")


def _label(value: Any) -> str:
    """A name or address as one line of safe HTML ("|" would split the body)."""
    text = " ".join(str(value or "").split())[:_LABEL_MAX]
    return html.escape(text).replace("|", "&#124;")


def location_body(
    latitude: Any,
    longitude: Any,
    *,
    name: Any = None,
    address: Any = None,
    thumbnail: Any = None,
) -> str | None:
    """`"data:image/png;base64,<picture>|<maps link>|<description>"`, None for bad coordinates.

    The picture is the provider's thumbnail, else a drawn map pin (Cloud sends none). The
    data URI says image/png whatever the bytes (the Node backend's format, which the ticket
    list also tests for); browsers detect the real image type. The description is the
    HTML-escaped name and address, one per line, else the coordinates.
    """
    lat, lng = _coordinate(latitude, 90), _coordinate(longitude, 180)
    if lat is None or lng is None:
        return None
    data = _thumbnail_bytes(thumbnail)
    picture = base64.b64encode(data).decode("ascii") if data else placeholder_image()
    lat_text, lng_text = _number_text(lat), _number_text(lng)
    link = _MAPS_URL.format(lat=lat_text, lng=lng_text)
    labels = [text for text in (_label(name), _label(address)) if text]
    description = "<br />".join(labels) or f"{lat_text}, {lng_text}"
    return f"data:image/png;base64,{picture}|{link}|{description}"


def location_summary(body: str) -> str | None:
    """A one-line text for a location body (ticket lists, kanban cards), else None."""
    parts = (body or "").split("|")
    if len(parts) < 3 or not parts[0].startswith("data:image/"):
        return None
    description = "|".join(parts[2:]).replace("<br />", ", ")
    return f"📍 {html.unescape(description).strip()}"


def preview(body: str, media_type: str | None) -> str:
    """The text a ticket shows as its last message: the body, readable for a location."""
    if media_type == LOCATION_TYPE:
        return location_summary(body) or body
    return body


# -- contact cards -----------------------------------------------------------------


def _property(line: str) -> tuple[str, str, str, str] | None:
    """(group prefix, NAME, params, value) of a vCard line, or None."""
    match = _VCARD_LINE.match(line)
    if match is None:
        return None
    group = f"{match.group('group')}." if match.group("group") else ""
    return group, match.group("name").upper(), match.group("params") or "", line[match.end() :]


def _card_lines(card: str) -> tuple[list[str], bool]:
    """A card's lines with every phone made international when WhatsApp gave its id.

    Returns the lines (BEGIN/VERSION, then the phones, then the rest) and whether a phone
    value carries a "+", which is how the chat view finds the number. Phones come before
    the name so a "+" in a name never passes for the number.
    """
    head: list[str] = []
    phones: list[str] = []
    rest: list[str] = []
    tail: list[str] = []
    has_number = False
    for raw in str(card or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        prop = _property(line)
        name = prop[1] if prop else ""
        if name in ("BEGIN", "VERSION"):
            head.append(line)
        elif name == "END":
            tail.append(line)
        elif name == "TEL" and prop is not None:
            group, _, params, value = prop
            waid = _WAID.search(params)
            if "+" not in value and waid:
                # Meta and some phones send the local form; the WhatsApp id is the E.164 one.
                value = "+" + waid.group(1)
            has_number = has_number or "+" in value
            phones.append(f"{group}TEL{params}:{value}")
        else:
            rest.append(line)
    return head + phones + rest + tail, has_number


def _card_text(lines: list[str]) -> str:
    """The text `📇 Name: phone, phone` of a card the chat view cannot show as a card."""
    name = ""
    phones = []
    for line in lines:
        prop = _property(line)
        if prop and prop[1] == "FN" and not name:
            name = prop[3].strip()
        elif prop and prop[1] == "TEL" and prop[3].strip():
            phones.append(prop[3].strip())
    text = ": ".join(part for part in (name, ", ".join(phones)) if part)
    return f"📇 {text}" if text else ""


def _quiet_name(line: str) -> str:
    """The FN line written as "fn" (vCard names are case-insensitive), so the chat view,
    which takes the last "FN" it sees as the card's name, keeps the first card's."""
    prop = _property(line)
    if prop and prop[1] == "FN":
        group = prop[0]
        return f"{group}fn{line[len(group) + 2 :]}"
    return line


def vcard_body(cards: Iterable[str]) -> tuple[str, str]:
    """(body, media_type) for shared contact cards.

    `contactMessage` vCard text when at least one card has an international number: the
    first such card leads (the chat view shows one card per message: the first "+" value
    and the last "FN"), the others follow with their names as "fn". Without any such
    number the chat view would throw, so the cards become plain text (`chat`).
    """
    parsed = [_card_lines(card) for card in cards if str(card or "").strip()]
    usable = [lines for lines, has_number in parsed if has_number]
    if not usable:
        text = "\n".join(t for t in (_card_text(lines) for lines, _ in parsed) if t)
        return text, "chat"
    lead = usable[0]
    others = [[_quiet_name(line) for line in lines] for lines, _ in parsed if lines is not lead]
    return "\n".join(lead + [line for lines in others for line in lines]), CONTACT_TYPE


def simple_vcard(name: Any) -> str:
    """A card with only a name (a contact shared without its vCard text)."""
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:{' '.join(str(name or '').split())}\nEND:VCARD"
