"""Location and contact-card bodies in the shapes the SaaS chat view parses."""

from __future__ import annotations

import base64

import pytest

from whaticket.whatsapp import formats

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(40)) + b"\xff\xd9"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _picture(body: str) -> bytes:
    head = body.split("|", 1)[0]
    assert head.startswith("data:image/png;base64,")
    return base64.b64decode(head.split(",", 1)[1])


@pytest.mark.parametrize(
    "raw",
    [
        base64.b64encode(JPEG).decode(),
        base64.b64encode(JPEG).decode().rstrip("="),  # padding dropped by some bridges
        "data:image/jpeg;base64," + base64.b64encode(JPEG).decode(),
        {"type": "Buffer", "data": list(JPEG)},
        {str(i): b for i, b in enumerate(JPEG)},
        list(JPEG),
    ],
)
def test_thumbnail_in_every_serialisation(raw):
    assert _picture(formats.location_body(1, 2, thumbnail=raw)) == JPEG


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not base64 !!",
        base64.b64encode(b"<svg onload=alert(1)>").decode(),  # not a picture
        base64.b64encode(b"\xff\xd8\xff" + b"0" * formats.THUMBNAIL_MAX_BYTES).decode(),
        {"type": "Buffer", "data": [300, 1]},
        [True] * 3,
    ],
)
def test_unusable_thumbnail_gives_the_placeholder(raw):
    picture = _picture(formats.location_body(1, 2, thumbnail=raw))
    assert picture.startswith(PNG_MAGIC)
    assert picture == base64.b64decode(formats.placeholder_image())


@pytest.mark.parametrize(
    ("lat", "lng"), [(None, 1), (91, 0), (0, 181), ("x", 1), (float("nan"), 1), (True, 1)]
)
def test_bad_coordinates_are_not_a_location(lat, lng):
    assert formats.location_body(lat, lng) is None


def test_coordinates_from_strings_and_link():
    body = formats.location_body("-23.55052", "-46.633309")
    _, link, description = body.split("|")
    assert link == "https://maps.google.com/maps?q=-23.55052%2C-46.633309&z=17&hl=pt-BR"
    assert description == "-23.55052, -46.633309"


def test_description_is_escaped_one_label_per_line():
    body = formats.location_body(0, 0, name='  Bar "do Zé"  ', address="Av.\nBrasil | 500 <b>")
    assert body.count("|") == 2
    assert body.split("|")[2] == "Bar &quot;do Zé&quot;<br />Av. Brasil &#124; 500 &lt;b&gt;"
    assert formats.location_summary(body) == '📍 Bar "do Zé", Av. Brasil | 500 <b>'


def test_preview_of_other_bodies_is_the_body():
    assert formats.preview("oi", "chat") == "oi"
    assert formats.preview("not|a location", formats.LOCATION_TYPE) == "not|a location"


def test_first_card_with_a_number_leads_and_others_keep_quiet_names():
    bare = "BEGIN:VCARD\nFN:Sem Número\nTEL:3333-4444\nEND:VCARD"
    good = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ana\n"
        "TEL;type=CELL;waid=5511999990000:11 99999-0000\nEND:VCARD"
    )
    body, kind = formats.vcard_body([bare, good])
    assert kind == formats.CONTACT_TYPE
    lines = body.split("\n")
    # The lead card: its phone (made international) before its name.
    assert lines[:5] == [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "TEL;type=CELL;waid=5511999990000:+5511999990000",
        "FN:Ana",
        "END:VCARD",
    ]
    assert "fn:Sem Número" in lines and "FN:Sem Número" not in lines


def test_cards_without_any_number_become_text():
    body, kind = formats.vcard_body([formats.simple_vcard("Zé"), "BEGIN:VCARD\nEND:VCARD"])
    assert (body, kind) == ("📇 Zé", "chat")
    assert formats.vcard_body([]) == ("", "chat")


def test_windows_line_endings_and_grouped_phones():
    card = "BEGIN:VCARD\r\nFN:Bia\r\nitem1.TEL;waid=5521988887777:+55 21 98888-7777\r\nEND:VCARD"
    body, kind = formats.vcard_body([card])
    assert kind == formats.CONTACT_TYPE and "\r" not in body
    assert "item1.TEL;waid=5521988887777:+55 21 98888-7777" in body.split("\n")
